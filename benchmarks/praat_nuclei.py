"""Baseline: de Jong & Wempe (2009) syllable-nuclei detection on Praat.

An independent re-implementation (not a copy of the published Praat script)
of the method described in

    N. H. de Jong & T. Wempe (2009), "Praat script to detect syllable nuclei
    and measure speech rate automatically", Behavior Research Methods 41(2).

Algorithm, with the paper's default settings:

1. Praat intensity contour (pitch floor 50 Hz, time step 0.01 s, mean
   subtracted).
2. Threshold = 0.99-quantile of intensity + ``SILENCE_DB`` (-25 dB).  Frames
   below it are silent; silent stretches shorter than ``MIN_PAUSE_S`` (0.3 s)
   are bridged (treated as sounding).
3. Candidate peaks = local maxima of the intensity contour (refined by
   parabolic interpolation) whose value exceeds the threshold.
4. A peak is kept only if the intensity dips by more than ``MIN_DIP_DB``
   (2 dB) between it and the next peak (as in the original, the last
   candidate has no following dip and is never counted).
5. A kept peak must lie in a sounding interval and be voiced according to
   Praat's autocorrelation pitch track (floor 30 Hz, ceiling 450 Hz, the
   script's settings).

``parselmouth`` is a benchmark-only dependency; production code never
imports this module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SILENCE_DB = -25.0  # silence threshold, dB relative to the 0.99 intensity quantile
MIN_DIP_DB = 2.0  # minimum intensity dip (dB) between consecutive peaks
MIN_PAUSE_S = 0.3  # silent stretches shorter than this are not pauses
PITCH_FLOOR_HZ = 50.0  # intensity analysis window is set by this pitch floor
TIME_STEP_S = 0.01  # intensity frame step


def _load(path_or_signal, sr):
    import parselmouth

    if isinstance(path_or_signal, (str, Path)):
        snd = parselmouth.Sound(str(path_or_signal))
        if snd.n_channels > 1:
            snd = snd.convert_to_mono()
        return snd
    if sr is None:
        raise ValueError("sr is required when passing a signal array")
    y = np.asarray(path_or_signal, dtype=np.float64)
    if y.ndim > 1:
        y = y.mean(axis=0 if y.shape[0] < y.shape[1] else 1)
    return parselmouth.Sound(y, sampling_frequency=float(sr))


def _sounding_mask(level: np.ndarray, threshold: float, min_pause_frames: int) -> np.ndarray:
    """Boolean mask of sounding frames; short silent gaps are bridged."""
    sounding = level >= threshold
    silent = ~sounding
    # run-length encode silent stretches
    d = np.diff(np.concatenate(([0], silent.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    for s, e in zip(starts, ends):
        if e - s < min_pause_frames:
            sounding[s:e] = True
    return sounding


def praat_nuclei(path_or_signal, sr: int | None = None) -> np.ndarray:
    """Syllable-nucleus times by the de Jong & Wempe (2009) method.

    Parameters
    ----------
    path_or_signal : str, pathlib.Path or np.ndarray
        Audio file path, or a mono signal of shape (n_samples,).
    sr : int, optional
        Sampling rate in Hz; required when a signal array is given.

    Returns
    -------
    np.ndarray
        Nucleus times in seconds, shape (n,), sorted ascending.
    """
    snd = _load(path_or_signal, sr)
    if snd.duration < 0.1:
        return np.zeros(0)
    inten = snd.to_intensity(minimum_pitch=PITCH_FLOOR_HZ, time_step=TIME_STEP_S,
                             subtract_mean=True)
    lev = np.asarray(inten.values[0], dtype=np.float64)
    t = np.asarray(inten.xs(), dtype=np.float64)
    if lev.size < 3:
        return np.zeros(0)
    q99 = float(np.quantile(lev, 0.99))
    threshold = q99 + SILENCE_DB

    # local maxima (plateaus: take the first frame) with parabolic refinement
    left = lev[1:-1] - lev[:-2]
    right = lev[1:-1] - lev[2:]
    idx = np.flatnonzero((left > 0) & (right >= 0)) + 1
    a, b, c = lev[idx - 1], lev[idx], lev[idx + 1]
    denom = a - 2 * b + c
    off = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
    off = np.clip(off, -0.5, 0.5)
    pk_t = t[idx] + off * TIME_STEP_S
    pk_v = b - 0.25 * (a - c) * off
    keep = pk_v > threshold
    idx, pk_t, pk_v = idx[keep], pk_t[keep], pk_v[keep]
    if idx.size < 2:
        return np.zeros(0)

    # dip criterion between consecutive peaks (last peak never validated)
    valid = np.zeros(idx.size, dtype=bool)
    for p in range(idx.size - 1):
        dip = lev[idx[p]:idx[p + 1] + 1].min()
        valid[p] = abs(pk_v[p] - dip) > MIN_DIP_DB
    idx, pk_t = idx[valid], pk_t[valid]

    # must lie in a sounding interval
    sounding = _sounding_mask(lev, threshold, int(round(MIN_PAUSE_S / TIME_STEP_S)))
    keep = sounding[idx]
    idx, pk_t = idx[keep], pk_t[keep]

    # must be voiced (Praat ac pitch, the script's settings)
    pitch = snd.to_pitch_ac(time_step=0.02, pitch_floor=30.0, max_number_of_candidates=4,
                            very_accurate=False, silence_threshold=0.03,
                            voicing_threshold=0.25, octave_cost=0.01,
                            octave_jump_cost=0.35, voiced_unvoiced_cost=0.25,
                            pitch_ceiling=450.0)
    f0 = np.array([pitch.get_value_at_time(float(x)) for x in pk_t])
    return np.sort(pk_t[np.isfinite(f0) & (f0 > 0)])
