"""Syllable-nucleus detection for Mandarin speaking-rate estimation.

In Mandarin one character is one syllable, and every syllable has exactly one
voiced vocalic nucleus, so counting nuclei estimates the character count.

Method (all frame-wise and vectorised; 10 ms hop, 32 ms Hann window):

1. *Vowel-band energy*: power in 300-2500 Hz (the F1/F2 region where vowels
   carry their energy and fricatives / bursts / low hum carry little).
2. *Voicing*: normalised autocorrelation peak in the 2.5-16 ms lag range
   (f0 60-400 Hz), computed from the same spectrum (Wiener-Khinchin) after
   removing energy above 2.5 kHz.  The vowel-band energy is weighted by the
   voicing strength, so breaths, fricatives, clicks and stationary noise are
   attenuated relative to voiced nuclei.
3. The weighted envelope is converted to dB and smoothed (~30 ms).
4. Peaks are picked with a minimum *prominence* (the dip to the nearest
   higher ground, a relative criterion immune to the recording level), a
   minimum spacing, and an absolute floor relative to the clip's loud level
   and its noise floor.

Only numpy and scipy are imported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

# --------------------------------------------------------------------------
# Fixed analysis settings (not tuned)
HOP_S = 0.01  # frame hop, s
WIN_S = 0.032  # analysis window, s (512 samples at 16 kHz)
VOWEL_BAND_HZ = (300.0, 2500.0)  # F1/F2 region used for the nucleus envelope
F0_RANGE_HZ = (60.0, 400.0)  # pitch range searched by the voicing cue

# --------------------------------------------------------------------------
# Tuned constants (keep few; see benchmarks/study_syllables.py)
MIN_PROMINENCE_DB = 3.0  # a nucleus must rise this far above the dips around it
MIN_SPACING_S = 0.07  # minimum spacing of nuclei (13+ syll/s is ~75 ms apart)
FLOOR_BELOW_LOUD_DB = 30.0  # nuclei must be within this of the clip's loud level
SMOOTH_S = 0.03  # width of the envelope smoothing window

PARAMS = dict(
    min_prominence_db=MIN_PROMINENCE_DB,
    min_spacing_s=MIN_SPACING_S,
    floor_below_loud_db=FLOOR_BELOW_LOUD_DB,
    smooth_s=SMOOTH_S,
)


@dataclass
class NucleusTrack:
    """Syllable nuclei and their strengths.

    Attributes
    ----------
    times : np.ndarray
        Nucleus times in seconds, shape (n,), sorted.
    prominence_db : np.ndarray
        Peak prominence of each nucleus in dB, shape (n,).
    level_db : np.ndarray
        Envelope level at each nucleus in dB (relative), shape (n,).
    """

    times: np.ndarray
    prominence_db: np.ndarray
    level_db: np.ndarray


@dataclass
class Features:
    """Frame-wise features shared by all parameter settings.

    Attributes
    ----------
    t : np.ndarray
        Frame centre times in seconds, shape (T,).
    vowel_db : np.ndarray
        Voicing-weighted vowel-band power in dB, shape (T,).
    """

    t: np.ndarray
    vowel_db: np.ndarray


def _frames(y: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    """Hann-windowed frames, shape (T, n_win), and the hop in samples."""
    hop = int(round(HOP_S * sr))
    n_win = int(round(WIN_S * sr))
    pad = n_win // 2
    yp = np.pad(np.asarray(y, dtype=np.float32), (pad, pad))
    n_frames = max(0, 1 + (yp.size - n_win) // hop)
    fr = np.lib.stride_tricks.as_strided(
        yp, shape=(n_frames, n_win), strides=(yp.strides[0] * hop, yp.strides[0]), writeable=False
    )
    return fr * np.hanning(n_win).astype(np.float32), hop


def compute_features(y: np.ndarray, sr: int) -> Features:
    """Compute the voicing-weighted vowel-band envelope.

    Parameters
    ----------
    y : np.ndarray
        Mono signal, shape (n_samples,), float.
    sr : int
        Sampling rate in Hz.

    Returns
    -------
    Features
        Frame times (s) and envelope (dB), each of shape (T,).
    """
    fr, hop = _frames(y, sr)
    n_win = fr.shape[1] if fr.ndim == 2 else int(round(WIN_S * sr))
    if fr.shape[0] == 0:
        return Features(np.zeros(0), np.zeros(0))
    n_fft = 1 << int(np.ceil(np.log2(2 * n_win)))  # 2x zero-padding: linear autocorrelation
    spec = np.fft.rfft(fr, n=n_fft, axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    band = (freqs >= VOWEL_BAND_HZ[0]) & (freqs <= VOWEL_BAND_HZ[1])
    e_vowel = power[:, band].sum(axis=1)

    # voicing: normalised autocorrelation of the <=2.5 kHz part of the frame
    low = freqs <= VOWEL_BAND_HZ[1]
    p_low = np.where(low[None, :], power, 0.0)
    ac = np.fft.irfft(p_low, n=n_fft, axis=1)
    lag_lo = int(sr / F0_RANGE_HZ[1])
    lag_hi = min(int(sr / F0_RANGE_HZ[0]), n_win - 1)
    # unbias for the window's own autocorrelation decay
    w = np.hanning(n_win)
    w_ac = np.correlate(w, w, mode="full")[n_win - 1:]
    lags = np.arange(lag_lo, lag_hi + 1)
    r = ac[:, lags] / w_ac[lags][None, :]
    r0 = ac[:, 0] / w_ac[0]
    voicing = np.clip(r.max(axis=1) / np.maximum(r0, 1e-20), 0.0, 1.0)

    weighted = e_vowel * voicing**2
    eps = 1e-10 * max(float(weighted.max()), 1e-20)
    vowel_db = 10.0 * np.log10(weighted + eps)
    t = np.arange(fr.shape[0]) * hop / sr
    return Features(t=t, vowel_db=vowel_db.astype(np.float64))


def _smooth(x: np.ndarray, width_frames: float) -> np.ndarray:
    """Hann-kernel moving average of width ``width_frames`` frames."""
    n = max(1, int(round(width_frames)))
    if n < 2:
        return x
    k = np.hanning(n + 2)[1:-1]
    k /= k.sum()
    return np.convolve(np.pad(x, (n, n), mode="edge"), k, mode="same")[n:-n]


def pick_nuclei(feat: Features, runs: np.ndarray | None = None, **params) -> NucleusTrack:
    """Pick syllable nuclei from precomputed features.

    Parameters
    ----------
    feat : Features
        Output of :func:`compute_features`.
    runs : np.ndarray, optional
        Speech runs ``[start_s, end_s]``, shape (k, 2); nuclei outside are dropped.
    **params
        Overrides of the tuned constants (keys of ``PARAMS``).

    Returns
    -------
    NucleusTrack
        Nucleus times (s), prominences (dB) and levels (dB), each shape (n,).
    """
    p = {**PARAMS, **params}
    if feat.t.size < 3:
        z = np.zeros(0)
        return NucleusTrack(z, z, z)
    env = _smooth(feat.vowel_db, p["smooth_s"] / HOP_S)
    loud = float(np.quantile(env, 0.99))
    floor = loud - p["floor_below_loud_db"]
    idx, props = find_peaks(
        env,
        height=floor,
        prominence=p["min_prominence_db"],
        distance=max(1, int(round(p["min_spacing_s"] / HOP_S))),
    )
    times = feat.t[idx]
    prom = props["prominences"]
    lev = env[idx]
    if runs is not None and len(runs) and times.size:
        runs = np.asarray(runs, dtype=np.float64).reshape(-1, 2)
        k = np.searchsorted(runs[:, 0], times, side="right") - 1
        inside = (k >= 0) & (times <= runs[np.clip(k, 0, None), 1])
        times, prom, lev = times[inside], prom[inside], lev[inside]
    elif runs is not None:
        z = np.zeros(0)
        return NucleusTrack(z, z, z)
    return NucleusTrack(times, prom, lev)


def detect_nuclei(y: np.ndarray, sr: int, *, runs: np.ndarray | None = None) -> np.ndarray:
    """Times in seconds of syllable nuclei.

    Parameters
    ----------
    y : np.ndarray
        Mono float32 signal, shape (n_samples,), at ``sr`` (the pipeline
        always passes 16000).
    sr : int
        Sampling rate in Hz.
    runs : np.ndarray, optional
        Speech runs ``[start_s, end_s]`` in seconds, shape (k, 2), from the
        pipeline's voice-activity segmentation; nuclei outside runs are
        dropped.

    Returns
    -------
    np.ndarray
        Nucleus times in seconds, shape (n,), sorted ascending.
    """
    return pick_nuclei(compute_features(y, sr), runs).times
