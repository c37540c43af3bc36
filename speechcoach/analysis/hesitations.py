"""Vocal hesitations (呃, 嗯) found from the sound, and the frame cues they rest on.

A hesitation is a sustained voiced stretch (≥ :data:`MIN_HESITATION_S`) whose pitch stays flat
and whose spectrum stays steady (low spectral flux), unlike a syllable, whose formants and pitch
move. Recognisers usually leave these out, so precise mode adds them to the filler words it
reads from the transcript (:mod:`speechcoach.precise.fillers`). Only the speech runs are
analysed; the features are vectorised over all their frames, in blocks.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..audio import resample
from ..precise.fillers import HESITATION_WORDS, Filler, to_simplified
from .features import lag_bias
from .segmentation import true_runs

FEATURE_SR = 8_000
HOP_S = 0.010
WIN_S = 0.040
PITCH_RANGE_HZ = (70.0, 400.0)
FLUX_BAND_HZ = (200.0, 3600.0)
N_FLUX_BANDS = 18

MIN_HESITATION_S = 0.25
"""Shortest vocal hesitation (s)."""

VOICING_MIN = 0.70
"""Frames must be at least this periodic (normalised autocorrelation)."""

FLUX_MAX_DB = 1.6
"""Mean absolute change of the band spectrum per 10 ms (dB, smoothed) for a steady sound."""

PITCH_SPREAD_MAX_ST = 1.2
"""Spread of pitch (10th–90th percentile, semitones) allowed within a hesitation."""

LEVEL_BELOW_PEAK_DB = 30.0
"""Frames quieter than this below the recording's speech level are not considered."""

_BLOCK = 1024
"""Frames analysed at once (a few MB of spectra), so memory does not grow with the recording."""


def _run_frames(runs: np.ndarray, n_samples: int, sr: int, hop: int) -> np.ndarray:
    """Frame-centre sample indices covering every run, shape (m,)."""
    idx = [np.arange(int(a * sr), min(int(b * sr), n_samples), hop) for a, b in runs]
    return np.concatenate(idx) if idx else np.zeros(0, dtype=int)


def frame_cues(y: np.ndarray, sr: int, runs: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame level, voicing, pitch and spectral flux over the speech runs.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs (s).

    Returns
    -------
    dict
        ``t`` (s), ``level_db``, ``voicing`` (0–1), ``f0_st`` (semitones re 100 Hz),
        ``flux_db`` (mean absolute change of the band spectrum per frame), ``run`` (index), all
        shape (m,).
    """
    x = resample(np.asarray(y, dtype=np.float32), sr, FEATURE_SR)
    sr = FEATURE_SR
    hop = int(round(HOP_S * sr))
    win = int(round(WIN_S * sr))
    n_fft = 1 << int(np.ceil(np.log2(2 * win)))
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    centres = _run_frames(runs, len(x), sr, hop)
    empty = np.zeros(0)
    if centres.size == 0:
        return {"t": empty, "level_db": empty, "voicing": empty, "f0_st": empty, "flux_db": empty, "run": empty.astype(int)}
    padded = np.concatenate([np.zeros(win // 2, np.float32), x, np.zeros(win, np.float32)])
    del x
    window = np.hanning(win).astype(np.float32)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    lo = int(sr / PITCH_RANGE_HZ[1])
    hi = min(int(sr / PITCH_RANGE_HZ[0]), win - 1)
    bias = lag_bias(window, n_fft)[lo : hi + 1]
    # spectral flux over mel-spaced bands
    mel = lambda f: 2595 * np.log10(1 + f / 700.0)  # noqa: E731
    edges_mel = np.linspace(mel(FLUX_BAND_HZ[0]), mel(FLUX_BAND_HZ[1]), N_FLUX_BANDS + 1)
    band = np.clip(np.searchsorted(edges_mel, mel(freqs)) - 1, -1, N_FLUX_BANDS)
    inband = (band >= 0) & (band < N_FLUX_BANDS)
    basis = np.zeros((len(freqs), N_FLUX_BANDS), dtype=np.float32)
    basis[np.flatnonzero(inband), band[inband]] = 1.0
    m = len(centres)
    level_db, voicing, best = np.empty(m, dtype=np.float32), np.empty(m, dtype=np.float32), np.empty(m, dtype=np.intp)
    bands_db = np.empty((m, N_FLUX_BANDS), dtype=np.float32)
    # in blocks of frames: a whole recording's spectra at once took ~1 GB per 10 minutes
    for i in range(0, m, _BLOCK):
        frames = padded[centres[i : i + _BLOCK, None] + np.arange(win)[None, :]]
        spec = np.fft.rfft(frames * window, n_fft, axis=1)
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        level_db[i : i + _BLOCK] = 10 * np.log10(power.sum(axis=1) + 1e-12)
        # pitch: autocorrelation (power spectrum → irfft), corrected for the window's own taper
        ac = np.fft.irfft(power, n_fft, axis=1)
        norm = ac[:, lo : hi + 1] / np.maximum(ac[:, :1], 1e-12) / bias
        b = np.argmax(norm, axis=1)
        best[i : i + _BLOCK] = b
        voicing[i : i + _BLOCK] = np.clip(norm[np.arange(len(norm)), b], 0.0, 1.0)
        bands_db[i : i + _BLOCK] = 10 * np.log10(power @ basis + 1e-10)
    f0 = sr / (lo + best)
    f0_st = 12 * np.log2(f0 / 100.0)
    run_idx = np.searchsorted(runs[:, 0], centres / sr, side="right") - 1
    diff = np.abs(np.diff(bands_db, axis=0)).mean(axis=1)
    same = run_idx[1:] == run_idx[:-1]
    flux = _smooth_flux(diff, same)
    return {"t": centres / sr, "level_db": level_db, "voicing": voicing, "f0_st": f0_st, "flux_db": flux, "run": run_idx}


def _smooth_flux(d: np.ndarray, same: np.ndarray) -> np.ndarray:
    """Per-frame flux: mean of the changes into and out of each frame (run edges count as infinite)."""
    d = np.where(same, d, np.inf)
    into = np.concatenate([[np.inf], d])
    out = np.concatenate([d, [np.inf]])
    both = np.where(np.isfinite(into) & np.isfinite(out), (into + out) / 2, np.inf)
    # a three-frame moving average keeps one noisy frame from splitting a stretch
    k = np.ones(3) / 3
    finite = np.isfinite(both)
    sm = np.convolve(np.where(finite, both, 0.0), k, mode="same") / np.maximum(np.convolve(finite.astype(float), k, mode="same"), 1e-9)
    return np.where(finite, sm, np.inf)


def vocal_hesitations(
    y: np.ndarray,
    sr: int,
    runs: np.ndarray,
    *,
    words: Iterable[Any] = (),
) -> tuple[Filler, ...]:
    """Sustained, flat, steady voiced stretches: 呃/嗯 hesitations.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs (s); nothing outside them is analysed.
    words : iterable of Word, keyword-only
        The recogniser's words, if any: a stretch the recogniser already wrote as a hesitation
        word (呃, 嗯 …) is not reported twice.

    Returns
    -------
    tuple of Filler
        ``kind="vocal"``, ``word="呃"``, in time order.
    """
    cues = frame_cues(y, sr, runs)
    t = cues["t"]
    if t.size == 0:
        return ()
    speech_level = float(np.percentile(cues["level_db"], 95))
    ok = (
        (cues["voicing"] >= VOICING_MIN)
        & (cues["flux_db"] <= FLUX_MAX_DB)
        & (cues["level_db"] >= speech_level - LEVEL_BELOW_PEAK_DB)
    )
    # pitch continuity: no octave jumps between neighbouring frames
    jump = np.abs(np.diff(cues["f0_st"])) > 1.0
    ok[1:] &= ~jump | ~ok[:-1]
    # frames of different runs are never joined
    breaks = np.concatenate([[False], cues["run"][1:] != cues["run"][:-1]])
    starts, ends = true_runs(ok)
    min_frames = int(round(MIN_HESITATION_S / HOP_S))
    heard = [w for w in words if to_simplified(w.text).strip("，。？！、 ") in HESITATION_WORDS]
    out: list[Filler] = []
    for s, e in zip(starts, ends):
        if np.any(breaks[s + 1 : e]):
            continue
        if e - s < min_frames:
            continue
        f0 = cues["f0_st"][s:e]
        p10, p90 = np.percentile(f0, [10, 90])
        if p90 - p10 > PITCH_SPREAD_MAX_ST:
            continue
        a, b = float(t[s] - HOP_S / 2), float(t[e - 1] + HOP_S / 2)
        if any(w.start_s < b and w.end_s > a for w in heard):
            continue
        out.append(Filler("呃", a, b, "vocal"))
    return tuple(out)
