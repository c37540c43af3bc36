"""Speech runs and pauses on synthetic signals whose boundaries are known."""

from __future__ import annotations

import numpy as np
import pytest

from speechcoach.errors import ParameterError
from speechcoach.features import frame_features
from speechcoach.segmentation import NoSpeechError, segment

from .conftest import SR, layout, voiced

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
