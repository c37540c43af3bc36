"""Syllable-nucleus detection: synthetic known answers and, when the shared corpus exists, its error."""

from __future__ import annotations

import numpy as np
import pytest

from speechcoach.analysis.features import frame_features
from speechcoach.analysis.segmentation import segment
from speechcoach.analysis.syllables import detect_nuclei

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


def test_estimate_count_leaves_the_pivot_rate_alone() -> None:
    from speechcoach.analysis.syllables import RATE_PIVOT, estimate_count

    n = int(RATE_PIVOT * 10)
    # exactly at the pivot, crowded pairs at the usual share: unchanged
    assert estimate_count(n, 10.0, crowded=0, crowd_share=0.0) == n
    assert estimate_count(100, 100 / 5.0, crowded=8, pivot=5.0, crowd_share=0.08) == 100
    assert estimate_count(0, 10.0, crowded=0) == 0  # nothing heard
    assert estimate_count(5, 0.0, crowded=0, crowd_weight=0.0) == 5  # no speech time: no rate correction


def test_estimate_count_adds_the_crowded_pairs_beyond_the_usual_share() -> None:
    from speechcoach.analysis.syllables import estimate_count

    kw = dict(pivot=5.0, exponent=0.0, shrink=25, crowd_weight=1.0, crowd_share=0.08)
    # 100 nuclei, 18 crowded pairs where 8 are usual: 10 * 100 / 125 = 8 more (exact)
    assert estimate_count(100, 20.0, crowded=18, **kw) == 108
    # none crowded: 8 * 0.8 = 6.4 fewer -> 93.6 -> 94 (+-0.5)
    assert estimate_count(100, 20.0, crowded=0, **kw) == 94
    assert estimate_count(100, 20.0, crowded=18, **{**kw, "crowd_weight": 0.0}) == 100  # weight 0: no term
    assert estimate_count(3, 1.0, crowded=0, **{**kw, "crowd_weight": 100.0}) == 0  # never below zero


def test_estimate_count_follows_the_power_law() -> None:
    from speechcoach.analysis.syllables import estimate_count

    kw = dict(pivot=5.0, exponent=0.3, shrink=25, crowded=0, crowd_weight=0.0)
    # 100 nuclei in 12.5 s = 8/s, 1.6x the pivot; exponent 0.3 * 100 / 125 = 0.24: 100 * 1.6 ** 0.24 = 111.95 (+-0.5)
    assert estimate_count(100, 12.5, **kw) == 112
    # 100 nuclei in 25 s = 4/s: 100 * 0.8 ** 0.24 = 94.8 (+-0.5)
    assert estimate_count(100, 25.0, **kw) == 95
    # at n = shrink half the exponent: 25 nuclei in 3.125 s (8/s), 25 * 1.6 ** 0.15 = 26.8 (+-0.5)
    assert estimate_count(25, 3.125, **kw) == 27
    assert estimate_count(100, 12.5, pivot=5.0, exponent=0.0, shrink=25, crowded=0, crowd_weight=0.0) == 100  # no correction


def test_estimate_count_does_not_extrapolate_beyond_the_fitted_rates() -> None:
    from speechcoach.analysis.syllables import RATE_RANGE, estimate_count

    lo, hi = RATE_RANGE
    kw = dict(crowded=0, crowd_weight=0.0)
    assert estimate_count(100, 100 / (lo / 2), **kw) == estimate_count(100, 100 / lo, **kw)  # slower than the range
    assert estimate_count(100, 100 / (hi * 2), **kw) == estimate_count(100, 100 / hi, **kw)  # faster than the range
    assert estimate_count(100, 100 / lo, **kw) < 100 < estimate_count(100, 100 / hi, **kw)


def test_estimate_count_broadcasts_arrays() -> None:
    from speechcoach.analysis.syllables import estimate_count

    n = np.array([[50, 100], [100, 0]])
    c = np.array([[4, 12], [0, 0]])
    got = estimate_count(n, np.array([10.0, 12.5]), crowded=c)
    assert got.shape == (2, 2) and got.dtype.kind == "i"
    assert got[0, 1] == estimate_count(100, 12.5, crowded=12) and got[1, 1] == 0


@pytest.mark.skipif(not (CORPUS / "manifest.tsv").exists(), reason="shared corpus ../shared not available")
@pytest.mark.parametrize(("clip", "code"), [("sherpa_qwen3_fast1", "estimate_fast"), ("sherpa_paraformer_12", "estimate")])
def test_fast_speech_gets_the_fast_estimate_warning(clip: str, code: str) -> None:
    import soundfile as sf

    from speechcoach.analysis.pipeline import analyze_signal

    y, sr = sf.read(str(CORPUS / f"{clip}.wav"), dtype="float32")
    an = analyze_signal(y if y.ndim == 1 else y.mean(axis=1), sr, count="acoustic")
    codes = {w.id for w in an.warnings}
    assert code in codes and ({"estimate", "estimate_fast"} - {code}).isdisjoint(codes)


@pytest.mark.parametrize(
    ("cpm", "band", "edge"),
    [(135.0, (100.0, 140.0), 140.0), (145.0, (100.0, 140.0), 140.0), (104.0, (100.0, 140.0), 100.0),
     (120.0, (100.0, 140.0), None), (160.0, (100.0, 140.0), None), (95.0, (100.0, 140.0), 100.0)],
)
def test_edge_within_the_estimate_margin(cpm: float, band: tuple[float, float], edge: float | None) -> None:
    from speechcoach.analysis.pipeline import _edge_within_margin

    # the margin is 10 % of the rate itself: 145 is 5 over 140 (3.4 %), 160 is 20 over (12.5 %)
    assert _edge_within_margin(cpm, band) == edge


@pytest.mark.skipif(not (CORPUS / "manifest.tsv").exists(), reason="shared corpus ../shared not available")
def test_estimate_near_a_band_edge_says_the_verdict_is_uncertain() -> None:
    import soundfile as sf

    from speechcoach.locales import strings
    from speechcoach.analysis.pipeline import analyze_signal
    from speechcoach.settings import Settings

    y, sr = sf.read(str(CORPUS / "sherpa_paraformer_12.wav"), dtype="float32")
    y = y if y.ndim == 1 else y.mean(axis=1)
    far = analyze_signal(y, sr, count="acoustic")
    cpm = far.rate.cpm
    assert far.rate.verdict == "fast" and cpm > 140 * 1.1  # default band: the estimate is clearly fast
    assert "estimate" in {w.id for w in far.warnings}

    near = analyze_signal(y, sr, count="acoustic", settings=Settings(band_lo_cpm=60.0, band_hi_cpm=round(cpm * 1.05)))
    warned = {w.id: w.params for w in near.warnings}
    assert "estimate" not in warned and warned["estimate_near_edge"]["edge"] == str(round(cpm * 1.05))  # the edge as given (exact)
    assert near.rate.cpm == pytest.approx(cpm, abs=1e-9)  # only the note changes, not the measurement
    for lang in ("en", "zh"):
        text = strings(lang)["warnings"]["estimate_near_edge"].format(**warned["estimate_near_edge"])
        assert f"{round(cpm * 1.05)}" in text


def test_estimate_count_runs_calibrates_each_stretch_at_its_own_rate() -> None:
    from speechcoach.analysis.syllables import (CROWD_SHARE, CROWD_WEIGHT, RATE_EXPONENT, RATE_PIVOT, RATE_SHRINK_NUCLEI,
                                       estimate_count, estimate_count_runs)

    runs = np.array([[2.0 * i, 2.0 * i + 1.0] for i in range(10)])  # ten 1 s runs, 1 s pauses
    per_run = [6] * 5 + [4] * 5  # a fast half (6 nuclei/s), then a slower one (4/s)
    nuclei = np.concatenate([a + (np.arange(k) + 0.5) / k for (a, _), k in zip(runs, per_run)])
    # stretches of >= 20 nuclei, in order: runs 1-4 (24 nuclei, 4 s), then runs 5-9 (22, 5 s),
    # whose follower (run 10, 4 nuclei) is too short to stand alone and joins it (26, 6 s)
    # nuclei 1/6 s apart or more: no crowded pairs, so the crowding term takes CROWD_SHARE per nucleus away
    e = RATE_EXPONENT * 50 / (50 + RATE_SHRINK_NUCLEI)
    crowd = CROWD_WEIGHT * 50 / (50 + RATE_SHRINK_NUCLEI) * CROWD_SHARE * 50
    want = 24 * (6.0 / RATE_PIVOT) ** e + 26 * (26 / 6 / RATE_PIVOT) ** e - crowd
    assert estimate_count_runs(nuclei, runs, chunk=20) == round(want)
    # one stretch (fewer than 2 x chunk nuclei, or a huge chunk): the whole-recording calibration
    assert estimate_count_runs(nuclei, runs, chunk=1000) == estimate_count(50, 10.0, crowded=0)
    assert estimate_count_runs(nuclei[:30], runs) == estimate_count(30, 10.0, crowded=0)
    assert estimate_count_runs(np.array([]), runs) == 0


def test_nucleus_weights_follow_the_local_rate() -> None:
    from speechcoach.analysis.syllables import estimate_count_runs, nucleus_weights

    runs = np.array([[2.0 * i, 2.0 * i + 1.0] for i in range(10)])
    per_run = [7] * 5 + [3] * 5  # 35 nuclei at 7/s, then 15 at 3/s
    nuclei = np.concatenate([a + (np.arange(k) + 0.5) / k for (a, _), k in zip(runs, per_run)])
    w = nucleus_weights(nuclei, runs, chunk=20)  # stretches: runs 1-3 (21 nuclei, 7/s), runs 4-10 (29 in 7 s)
    assert w.shape == nuclei.shape
    # fast speech hides syllables, slow speech shows extra peaks: the fast stretch weighs more
    assert w[0] > w[-1] and np.all(w[:21] == w[0]) and np.all(w[21:] == w[-1])
    assert round(w.sum()) == estimate_count_runs(nuclei, runs, chunk=20)
    assert np.array_equal(nucleus_weights(nuclei[::-1], runs, chunk=20), w[::-1])  # per nucleus, in the order given


def test_nearest_run_splits_each_pause_halfway() -> None:
    from speechcoach.analysis.syllables import nearest_run

    runs = np.array([[0.0, 2.0], [3.0, 5.0], [9.0, 10.0]])  # pauses 2-3 s (midpoint 2.5) and 5-9 s (7)
    t = np.array([-1.0, 1.0, 2.49, 2.51, 4.0, 6.99, 7.01, 12.0])
    assert nearest_run(t, runs).tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    assert nearest_run(t, runs[:1]).tolist() == [0] * len(t)  # one run takes everything


def test_crowded_marks_pairs_closer_than_the_gap_within_one_run() -> None:
    from speechcoach.analysis.syllables import CROWD_GAP_S, MIN_SPACING_S, crowded

    # the picker's 10 ms frames: 70, 80 and 90 ms apart are crowded, 100 ms is not
    assert MIN_SPACING_S + 0.02 < CROWD_GAP_S < MIN_SPACING_S + 0.03
    runs = np.array([[0.0, 1.0], [2.0, 3.0]])
    # gaps: 70, 100, 90, 100, 490 ms, 1.07 s across the pause, then 80 ms
    t = np.array([0.10, 0.17, 0.27, 0.36, 0.46, 0.95, 2.02, 2.10])
    got = crowded(t, runs)
    assert got.tolist() == [True, False, True, False, False, False, True, False]
    assert np.array_equal(crowded(t[::-1], runs), got[::-1])  # per nucleus, in the order given
    # a pair split by a pause is not crowded however close: 70 ms apart, each in its own run
    assert not crowded(np.array([0.95, 1.02]), np.array([[0.0, 0.96], [1.01, 2.0]])).any()
    assert crowded(np.array([0.5]), runs).tolist() == [False] and crowded(np.array([]), runs).size == 0
    assert not crowded(t, np.zeros((0, 2))).any()  # no runs: nothing to judge


def test_nucleus_weights_count_the_crowding_term_per_stretch_but_spread_it_evenly() -> None:
    from speechcoach.analysis.syllables import (CROWD_SHARE, CROWD_WEIGHT, RATE_EXPONENT, RATE_PIVOT, RATE_SHRINK_NUCLEI,
                                       crowded, nucleus_weights)

    runs = np.array([[0.0, 10.0], [11.0, 21.0]])
    first = np.sort(np.r_[np.arange(40) * 0.2 + 0.1, np.arange(10) * 0.2 + 0.18])  # 50 nuclei, 10 pairs 80 ms apart
    second = 11.1 + np.arange(50) * 0.2  # 50 nuclei, none crowded
    nuclei = np.r_[first, second]
    assert crowded(nuclei, runs).sum() == 10
    w = nucleus_weights(nuclei, runs, chunk=50)  # two stretches at the same rate (5/s)
    # the crowded stretch counts c * 10 more than the other, and the count is their sum; but ten
    # crowded pairs among 50 nuclei say too little about one stretch's pace: every nucleus weighs alike
    c = CROWD_WEIGHT * 100 / (100 + RATE_SHRINK_NUCLEI)
    e = RATE_EXPONENT * 100 / (100 + RATE_SHRINK_NUCLEI)
    per_stretch = [50 * (5.0 / RATE_PIVOT) ** e + c * (k - CROWD_SHARE * 50) for k in (10, 0)]
    assert np.allclose(w, w[0]) and w.sum() == pytest.approx(sum(per_stretch), abs=1e-9)
    assert w[0] < 1.0 and CROWD_SHARE > 0  # fewer crowded pairs than usual (0.1 against 0.082 at 5.75/s): under one each


def test_lobe_widths_at_half_prominence() -> None:
    from speechcoach.analysis.syllables import lobe_widths

    # a triangle 0-10-0 dB over frames 0..20 (peak at 10, prominence 10): half prominence is 5 dB,
    # crossed at frames 5 and 15 exactly -> 10 frames; a flat top counts every frame at or above the cut
    env = np.r_[np.arange(0.0, 10.0), 10.0, np.arange(9.0, -1.0, -1.0)]
    assert lobe_widths(env, np.array([10]), np.array([10.0])).tolist() == pytest.approx([10.0])
    # a cut between frames is placed by linear interpolation: 4 dB under a 10 dB top is 6 dB, 4 frames each side
    assert lobe_widths(env, np.array([10]), np.array([8.0])) == pytest.approx([8.0])
    # a lobe running into the signal's ends (or past reach) ends at its last frame inside
    assert lobe_widths(np.full(7, 3.0), np.array([3]), np.array([2.0])) == pytest.approx([6.0])
    assert lobe_widths(np.full(50, 3.0), np.array([25]), np.array([2.0]), reach=5) == pytest.approx([10.0])
    assert lobe_widths(env, np.array([], dtype=int), np.array([])).size == 0


def test_width_rate_and_the_weights_it_drives() -> None:
    from speechcoach.analysis.syllables import (RATE_PIVOT, WIDTH_FLOOR_S, WIDTH_QUANTILE, WIDTH_SCALE, estimate_count,
                                       estimate_count_runs, nucleus_weights, width_rate)

    w = np.linspace(0.05, 0.15, 41)
    assert width_rate(w) == pytest.approx(WIDTH_SCALE / np.quantile(w, WIDTH_QUANTILE))
    assert width_rate(np.zeros(3)) == pytest.approx(WIDTH_SCALE / WIDTH_FLOOR_S) and np.isnan(width_rate(np.array([])))
    # 30 nuclei in 10 s: the lobe widths, not the nucleus rate (3/s), decide the rate
    runs = np.array([[0.0, 10.0]])
    nuclei = np.arange(30) / 3 + 0.1
    at_pivot = np.full(30, WIDTH_SCALE / RATE_PIVOT)  # lobes whose rate is the pivot: no rate correction
    assert estimate_count_runs(nuclei, runs, widths=at_pivot) == estimate_count(30, 10.0, crowded=0, rate=RATE_PIVOT)
    assert estimate_count(30, 10.0, crowded=0, rate=RATE_PIVOT) == estimate_count(30, 30 / RATE_PIVOT, crowded=0)
    narrow = nucleus_weights(nuclei, runs, widths=at_pivot / 1.5)  # every lobe narrower: faster speech, more per nucleus
    assert np.all(narrow > nucleus_weights(nuclei, runs, widths=at_pivot))
    assert np.array_equal(nucleus_weights(nuclei[::-1], runs, widths=at_pivot[::-1] / 1.5), narrow[::-1])
    with pytest.raises(ValueError):
        nucleus_weights(nuclei, runs, widths=at_pivot[:5])
    assert estimate_count(30, 10.0, crowded=0, rate=float("nan")) == estimate_count(30, 10.0, crowded=0)  # nan: nucleus rate


def test_nucleus_weights_share_the_width_count_out_by_the_nucleus_rate() -> None:
    from speechcoach.analysis.syllables import (RATE_EXPONENT, RATE_PIVOT, RATE_SHRINK_NUCLEI, WIDTH_SCALE, estimate_count,
                                       nucleus_weights)

    # two stretches of 30 nuclei: 6/s with lobes at the pivot's width rate, then 4/s with lobes 1.2 x narrower
    runs = np.array([[0.0, 5.0], [6.0, 13.5]])
    nuclei = np.r_[np.arange(30) / 6 + 0.05, 6.0 + np.arange(30) / 4 + 0.1]
    widths = np.r_[np.full(30, WIDTH_SCALE / RATE_PIVOT), np.full(30, WIDTH_SCALE / RATE_PIVOT / 1.2)]
    w = nucleus_weights(nuclei, runs, widths=widths, chunk=30)
    # the total: each stretch counted at its own lobe-width rate (no crowded pairs: 167 ms apart or more)
    e = RATE_EXPONENT * 60 / (60 + RATE_SHRINK_NUCLEI)
    want = sum(estimate_count(30, 1.0, crowded=0, rate=r, exponent=e * (30 + RATE_SHRINK_NUCLEI) / 30, shrink=RATE_SHRINK_NUCLEI)
               for r in (RATE_PIVOT, 1.2 * RATE_PIVOT))
    assert abs(w.sum() - want) <= 1.0  # estimate_count rounds each stretch
    # the shape: the nucleus rates (6/s against 4/s), not the lobe widths, which say the second is faster
    assert np.allclose(w[:30], w[0]) and np.allclose(w[30:], w[-1])
    assert w[0] / w[-1] == pytest.approx((6.0 / 4.0) ** e)
