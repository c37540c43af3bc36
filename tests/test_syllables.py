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
