"""Syllable-nucleus detection: synthetic known answers and, when the shared corpus exists, its error."""

from __future__ import annotations

import numpy as np
import pytest

from speechcoach.features import frame_features
from speechcoach.segmentation import segment
from speechcoach.syllables import detect_nuclei

from .conftest import CORPUS, SR, syllables


@pytest.mark.parametrize("rate", [2.0, 3.0, 4.0, 5.0, 6.0, 8.0])
def test_bursts_counted(rate):
    n = 20
    y = np.concatenate([np.zeros(SR // 2, np.float32), syllables(n, rate_per_s=rate), np.zeros(SR // 2, np.float32)])
    frames = frame_features(y, SR)
    runs = segment(frames).runs
    nuclei = detect_nuclei(y, SR, runs=runs, frames=frames)
    assert abs(len(nuclei) - n) <= 1, (rate, len(nuclei))
    assert np.all(np.diff(nuclei) > 0)


def test_frames_optional():
    y = syllables(10, rate_per_s=4.0)
    assert abs(len(detect_nuclei(y, SR)) - 10) <= 1


def test_white_noise_few_nuclei():
    rng = np.random.default_rng(1)
    y = (rng.normal(0, 0.05, 10 * SR)).astype(np.float32)
    runs = np.array([[0.0, 10.0]])
    assert len(detect_nuclei(y, SR, runs=runs)) <= 5  # vs ~40 syllables in 10 s of speech


@pytest.mark.skipif(not (CORPUS / "manifest.tsv").exists(), reason="shared corpus ../shared not available")
def test_corpus_error_bound():
    from benchmarks.study_syllables import load_corpus

    clips = load_corpus(CORPUS)
    truth = np.array([c.truth for c in clips], dtype=float)
    est = np.array([len(detect_nuclei(c.y, SR, runs=c.runs, frames=c.frames)) for c in clips], dtype=float)
    mae = float(np.mean(np.abs(est - truth) / truth))
    assert mae <= 0.10, mae  # 7.4% in-sample, 7.7% leave-one-source-out when written


def test_estimate_count_leaves_ordinary_rates_alone() -> None:
    from speechcoach.syllables import MERGE_ONSET_RATE, estimate_count

    assert estimate_count(40, 10.0) == 40  # 4 nuclei/s: under the onset, exact
    assert estimate_count(int(MERGE_ONSET_RATE * 10), 10.0) == int(MERGE_ONSET_RATE * 10)
    assert estimate_count(0, 10.0) == 0 and estimate_count(5, 0.0) == 5


def test_estimate_count_adds_the_slope_per_nucleus_per_second() -> None:
    from speechcoach.syllables import estimate_count

    # 100 nuclei in 10 s = 10/s, 4.5/s over a 5.5/s onset, 2% each: x 1.09 (exact integers)
    assert estimate_count(100, 10.0, onset_rate=5.5, slope=0.02) == 109
    assert estimate_count(100, 10.0, onset_rate=10.0, slope=0.02) == 100


@pytest.mark.skipif(not (CORPUS / "manifest.tsv").exists(), reason="shared corpus ../shared not available")
@pytest.mark.parametrize(("clip", "code"), [("sherpa_qwen3_fast1", "estimate_fast"), ("sherpa_paraformer_12", "estimate")])
def test_fast_speech_gets_the_fast_estimate_warning(clip: str, code: str) -> None:
    import soundfile as sf

    from speechcoach.pipeline import analyze_signal

    y, sr = sf.read(str(CORPUS / f"{clip}.wav"), dtype="float32")
    an = analyze_signal(y if y.ndim == 1 else y.mean(axis=1), sr, count="acoustic")
    codes = {w.id for w in an.warnings}
    assert code in codes and ({"estimate", "estimate_fast"} - {code}).isdisjoint(codes)
