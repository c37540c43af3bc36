"""Time-scale modification of speech by WSOLA, for rate-robustness studies.

:func:`wsola` changes a recording's duration without changing its pitch: the output is built
from Hann-windowed frames of the input, overlapped by half, each taken near its nominal
position but shifted (by up to ``tolerance_s``) to where it continues the previous frame best
(largest cross-correlation). Unlike a phase vocoder it keeps waveforms intact, so it changes
the speaking rate without adding phasiness; the passages (:mod:`benchmarks.passages`) use the
phase vocoder, so the study that tunes on WSOLA copies is checked on a different stretcher.
(Verhelst & Roelands 1993, "An overlap-add technique based on waveform similarity (WSOLA)".)
"""

from __future__ import annotations

import numpy as np


def wsola(y: np.ndarray, factor: float, sr: int = 16_000, *, frame_s: float = 0.032, tolerance_s: float = 0.010) -> np.ndarray:
    """``y`` with its duration multiplied by ``factor`` (0.78 = faster speech), pitch kept.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    factor : float
        Duration factor, > 0.
    sr : int
        Sample rate in Hz.
    frame_s, tolerance_s : float, keyword-only
        Frame length and the largest shift searched for the best continuation, in seconds.

    Returns
    -------
    np.ndarray, shape (about n * factor,), float32
    """
    if factor <= 0:
        raise ValueError(f"factor must be > 0, got {factor!r}")
    n = int(round(frame_s * sr)) // 2 * 2
    tol = int(round(tolerance_s * sr))
    hs = n // 2
    ha = hs / factor
    win = np.hanning(n + 1)[:-1]
    pad = n + tol
    x = np.concatenate([np.zeros(pad), np.asarray(y, dtype=np.float64), np.zeros(2 * pad)])
    n_out = int(len(y) * factor)
    frames = n_out // hs + 1
    out = np.zeros(frames * hs + n)
    prev = pad
    for k in range(frames):
        nominal = int(round(pad + k * ha))
        if k == 0:
            pos = nominal
        else:
            target = x[prev + hs : prev + hs + n]
            region = x[nominal - tol : nominal + tol + n]
            pos = nominal - tol + int(np.argmax(np.correlate(region, target, mode="valid")))
        out[k * hs : k * hs + n] += win * x[pos : pos + n]
        prev = pos
    # the first half-frame has no overlap partner: start at the second
    return out[hs : hs + n_out].astype(np.float32)
