"""The passage benchmark's independent truth: an unvoiced breath is not a speech onset.

Synthetic signals with a known answer (no corpus needed): a harmonic "vowel" at 150 Hz, a
white-noise "breath" 15 dB under it, and a noise "initial consonant" that runs straight into the
vowel. Bounds are in 10 ms frames of 25 ms, so they are asserted to within one frame (25 ms).
"""

from __future__ import annotations

import numpy as np

from benchmarks.passages import speech_bounds, voiced_times

SR = 16_000
FRAME_TOL_S = 0.025


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 8)).astype(np.float32) * 0.2


def _noise(seconds: float, rms: float, rng: np.random.Generator) -> np.ndarray:
    return (rng.standard_normal(int(seconds * SR)) * rms).astype(np.float32)


def _silence(seconds: float, rng: np.random.Generator) -> np.ndarray:
    return _noise(seconds, 1e-5, rng)


def test_breath_before_the_vowel_is_not_the_onset() -> None:
    rng = np.random.default_rng(0)
    vowel = _tone(1.0)
    breath = _noise(0.3, float(np.sqrt(np.mean(vowel**2))) * 10 ** (-15 / 20), rng)
    y = np.concatenate([_silence(0.5, rng), breath, _silence(0.15, rng), vowel, _silence(0.5, rng)])
    on, off = speech_bounds(y, SR)
    assert abs(on - 0.95) <= FRAME_TOL_S  # the vowel, not the breath at 0.5 s
    assert abs(off - 1.95) <= FRAME_TOL_S


def test_unvoiced_initial_running_into_the_vowel_is_speech() -> None:
    rng = np.random.default_rng(1)
    vowel = _tone(0.6)
    initial = _noise(0.1, float(np.sqrt(np.mean(vowel**2))) * 10 ** (-10 / 20), rng)
    y = np.concatenate([_silence(0.5, rng), initial, vowel, _silence(0.5, rng)])
    on, off = speech_bounds(y, SR)
    assert abs(on - 0.5) <= FRAME_TOL_S  # the consonant's start
    assert abs(off - 1.2) <= FRAME_TOL_S


def test_voiced_times_finds_the_tone_only() -> None:
    rng = np.random.default_rng(2)
    y = np.concatenate([_noise(0.5, 0.05, rng), _tone(0.5)])
    v = voiced_times(y, SR)
    assert len(v) > 0
    assert v.min() >= 0.5 - FRAME_TOL_S  # nothing voiced in the noise
    assert abs(len(v) * 0.01 - 0.5) <= 0.05  # about the tone's 0.5 s voiced, within 50 ms
