"""Speech runs and pauses on synthetic signals whose boundaries are known."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from speechcoach.errors import ParameterError
from speechcoach.analysis.features import frame_features
from speechcoach.analysis.segmentation import NoSpeechError, segment

from .conftest import SR, layout, syllables, voiced

PLAN = [("s", 0.7), ("v", 1.2), ("s", 0.4), ("v", 0.8), ("s", 0.3), ("v", 1.5), ("s", 1.1), ("v", 0.6), ("s", 0.8)]
TOL_S = 0.030  # boundaries within 30 ms (three frames)


@pytest.mark.parametrize("noise_dbfs", [None, -65.0, -50.0])
def test_boundaries_within_30ms(noise_dbfs):
    y, truth = layout(PLAN, noise_dbfs=noise_dbfs)
    seg = segment(frame_features(y, SR))
    assert seg.runs.shape == (4, 2)
    np.testing.assert_allclose(seg.runs, np.array(truth), atol=TOL_S)
    assert seg.pauses.shape == (3, 2)
    assert seg.start_s == pytest.approx(0.7, abs=TOL_S)
    assert seg.end_s == pytest.approx(6.6, abs=TOL_S)
    assert seg.pause_s == pytest.approx(0.4 + 0.3 + 1.1, abs=3 * 2 * TOL_S)


def test_short_gaps_are_bridged_and_min_pause_is_settable():
    y, _ = layout([("s", 0.5), ("v", 1.0), ("s", 0.2), ("v", 1.0), ("s", 0.5)])
    assert len(segment(frame_features(y, SR)).pauses) == 0  # 0.2 s < 0.25 s
    seg = segment(frame_features(y, SR), min_pause_s=0.15)
    assert len(seg.pauses) == 1
    assert seg.pauses[0, 1] - seg.pauses[0, 0] == pytest.approx(0.2, abs=2 * TOL_S)


def test_keyboard_clicks_in_a_pause_do_not_split_it():
    y, truth = layout([("s", 0.5), ("v", 1.0), ("s", 1.0), ("v", 1.0), ("s", 0.5)], noise_dbfs=-60)
    rng = np.random.default_rng(3)
    for t in (1.8, 2.1):  # two 8 ms clicks inside the pause
        i = int(t * SR)
        y[i : i + 128] += rng.normal(0, 0.2, 128).astype(np.float32)
    seg = segment(frame_features(y, SR))
    assert len(seg.pauses) == 1
    np.testing.assert_allclose(seg.pauses[0], [truth[0][1], truth[1][0]], atol=TOL_S)


def test_mains_hum_is_not_speech():
    y, truth = layout([("s", 0.8), ("v", 1.0), ("s", 0.8), ("v", 1.0), ("s", 0.8)])
    t = np.arange(len(y)) / SR
    y = y + (0.01 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)  # -40 dBFS hum
    seg = segment(frame_features(y, SR))
    np.testing.assert_allclose(seg.runs, np.array(truth), atol=TOL_S)


@pytest.mark.parametrize(
    "signal",
    [np.zeros(5 * SR, dtype=np.float32), np.random.default_rng(0).normal(0, 0.05, 5 * SR).astype(np.float32)],
    ids=["silence", "white-noise"],
)
def test_no_speech(signal):
    with pytest.raises(NoSpeechError, match="no speech"):
        segment(frame_features(signal, SR))


def test_min_pause_must_be_positive():
    y = voiced(1.0)
    with pytest.raises(ParameterError, match="-1"):
        segment(frame_features(y, SR), min_pause_s=-1)


# --- a background that changes during the recording ----------------------------------------
BACKGROUND_PLAN = [("s", 0.8), ("v", 1.4), ("s", 0.6), ("v", 1.0), ("s", 0.9), ("v", 1.6), ("s", 0.5), ("v", 1.2),
                   ("s", 0.7), ("v", 1.5), ("s", 0.6), ("v", 0.9), ("s", 1.0), ("v", 1.3), ("s", 0.5), ("v", 1.1), ("s", 0.8)]
EDGE_TOL_S = 0.020  # every boundary within two 10 ms frames


def _with_background(y: np.ndarray, gain_db: np.ndarray, *, base_dbfs: float = -65.0, seed: int = 1) -> np.ndarray:
    """``y`` plus white noise at ``base_dbfs`` RMS raised by ``gain_db`` (one value per sample)."""
    noise = np.random.default_rng(seed).normal(0.0, 10 ** (base_dbfs / 20), len(y))
    return (y + noise * 10 ** (gain_db / 20)).astype(np.float32)


def _true_pauses(truth: list[tuple[float, float]]) -> np.ndarray:
    return np.array([[a[1], b[0]] for a, b in itertools.pairwise(truth)])


def test_background_stepping_up_20_db_halfway_keeps_every_pause():
    y, truth = layout(BACKGROUND_PLAN)
    t = np.arange(len(y)) / SR
    half = len(y) / SR / 2  # inside the pause at 8.0–8.7 s
    y = _with_background(y, np.where(t < half, 0.0, 20.0), base_dbfs=-72.0)
    seg = segment(frame_features(y, SR))
    # a single floor puts the noisy half's pauses (-52 dBFS noise, 25 dB under the syllables'
    # band level) far above its thresholds
    assert seg.pauses.shape == (len(truth) - 1, 2), "every pause found, in the quiet and the noisy half"
    np.testing.assert_allclose(seg.pauses, _true_pauses(truth), atol=EDGE_TOL_S)
    np.testing.assert_allclose(seg.runs, np.array(truth), atol=EDGE_TOL_S)
    for a, b in _true_pauses(truth):
        floor = seg.frame_floor_db[int(a / 0.01) : int(b / 0.01)]
        if b < half:  # a pause in the quiet half keeps the recording's floor
            assert np.all(floor == seg.floor_db)
        elif a > half:  # one in the noisy half is judged against its own background (20 dB up)
            assert np.all(np.abs(floor - seg.floor_db - 20.0) < 3.0)


def test_background_ramping_up_30_db_keeps_every_pause():
    y, truth = layout(BACKGROUND_PLAN)
    t = np.arange(len(y)) / SR
    y = _with_background(y, 30.0 * t / t[-1], base_dbfs=-75.0)  # -75 to -45 dBFS, linear in dB
    seg = segment(frame_features(y, SR))
    assert seg.pauses.shape == (len(truth) - 1, 2), "every pause found while the background rises"
    np.testing.assert_allclose(seg.pauses, _true_pauses(truth), atol=EDGE_TOL_S)


@pytest.mark.parametrize("noise_dbfs", [None, -65.0, -50.0])
def test_steady_background_keeps_one_floor(noise_dbfs):
    y, _ = layout(PLAN, noise_dbfs=noise_dbfs)
    seg = segment(frame_features(y, SR))
    assert seg.frame_floor_db.shape == (len(frame_features(y, SR).energy_db),)
    assert np.all(seg.frame_floor_db == seg.floor_db)


def test_fluent_speech_and_steady_sounds_inside_it_do_not_raise_the_floor():
    # 10 s without a pause, holding a faint held vowel (0.6 s, 20 dB under the syllables: steady,
    # quiet, but voiced) and a faint unvoiced hiss (0.35 s, a long fricative: shorter than a
    # background window) between syllables: neither is background, so no pause appears in them
    rng = np.random.default_rng(5)
    hiss = rng.normal(0.0, 10 ** (-50 / 20), int(0.35 * SR)).astype(np.float32)
    speech = np.concatenate([syllables(16), voiced(0.6, amp=0.01), syllables(8), hiss, syllables(14)])
    y = np.concatenate([np.zeros(SR // 2, dtype=np.float32), speech, np.zeros(SR // 2, dtype=np.float32)])
    y = _with_background(y, np.zeros(len(y)), base_dbfs=-60.0)
    seg = segment(frame_features(y, SR))
    assert len(seg.pauses) == 0
    assert np.all(seg.frame_floor_db == seg.floor_db)
    assert seg.start_s == pytest.approx(0.5, abs=EDGE_TOL_S)
    assert seg.end_s == pytest.approx(0.5 + len(speech) / SR, abs=EDGE_TOL_S)
