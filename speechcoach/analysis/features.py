"""Frame-level features: band energy and a voicing cue, computed from one short-time spectrum.

Frames are centred: frame ``i`` describes the signal around ``t = i * hop_s`` seconds.
Everything is vectorised numpy; long signals are processed in blocks of frames so memory
stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio import resample
from ..errors import ParameterError

FEATURE_SR = 8_000
"""Features are computed on a copy of the signal at this rate (Hz): the band they use ends at
4 kHz, and half the samples make the spectra four times cheaper."""

HOP_S = 0.010
"""Frame hop in seconds."""

WIN_S = 0.032
"""Analysis window in seconds (long enough for two periods of a 65 Hz voice)."""

BAND_HZ = (150.0, 4000.0)
"""Band summed for the energy envelope: above mains hum and fan rumble, below hiss."""

VOICING_LAGS_S = (0.0025, 0.0150)
"""Autocorrelation lags searched for a pitch period: 67–400 Hz."""

ENERGY_FLOOR_DB = -120.0
"""Energy of digital silence, so that logarithms stay finite."""

N_SUBBANDS = 16
"""Subbands of the band above (equal widths on the mel scale, 150–4000 Hz), for syllable-nucleus
detection: about one critical band each, the resolution of Wang & Narayanan's (2007) 19 bands
over 8 kHz."""

_BLOCK = 256  # frames per block: small enough for the FFT work to stay in cache (10 min: 0.42 s at 4096, 0.28 s at 256)


@dataclass(frozen=True)
class Frames:
    """Per-frame features of a signal.

    Attributes
    ----------
    hop_s : float
        Seconds between frames.
    energy_db : np.ndarray, shape (n_frames,)
        Band energy (150–4000 Hz) in dB relative to a full-scale sine.
    voicing : np.ndarray, shape (n_frames,)
        Normalised autocorrelation at the best pitch lag, 0 (noise) to 1 (periodic).
    subband_db : np.ndarray or None, shape (n_frames, N_SUBBANDS)
        Energy in each of :data:`N_SUBBANDS` mel-spaced subbands of the band, dB re a full-scale
        sine (float32), from the same spectrum; ``None`` when built without it.
    """

    hop_s: float
    energy_db: np.ndarray
    voicing: np.ndarray
    subband_db: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.energy_db.shape[0])

    @property
    def times(self) -> np.ndarray:
        """Frame centre times in seconds, shape (n_frames,)."""
        return np.arange(self.n_frames) * self.hop_s


def lag_bias(window: np.ndarray, n_fft: int) -> np.ndarray:
    """Normalised autocorrelation of an analysis window, shape ``(len(window),)``, 1 at lag 0.

    A tapered frame's autocorrelation falls with the lag even for a perfectly periodic signal;
    dividing by this undoes the taper (Boersma 1993). Shared by every autocorrelation pitch and
    voicing measure (:func:`frame_features`, :mod:`speechcoach.precise.fillers`,
    :mod:`speechcoach.analysis.placement`). Computed in the window's own precision.

    Parameters
    ----------
    window : np.ndarray, shape (w,)
        The analysis window (e.g. Hann).
    n_fft : int
        FFT length, ``>= 2 * w`` so the autocorrelation is linear, not circular.
    """
    ac = np.fft.irfft(np.abs(np.fft.rfft(window, n_fft)) ** 2, n_fft)[: len(window)]
    return ac / ac[0]


def frame_features(y: np.ndarray, sr: int, *, hop_s: float = HOP_S, win_s: float = WIN_S) -> Frames:
    """Band energy and voicing for every frame of ``y``.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal, full scale ±1.
    sr : int
        Sample rate in Hz.
    hop_s, win_s : float, keyword-only
        Hop and window length in seconds.

    Returns
    -------
    Frames
        ``1 + n // hop`` frames.
    """
    y = resample(np.asarray(y, dtype=np.float32), sr, FEATURE_SR)
    sr = FEATURE_SR
    hop = int(round(hop_s * sr))
    win = int(round(win_s * sr))
    n_fft = 1 << int(np.ceil(np.log2(2 * win)))  # zero-padded: linear, not circular, autocorrelation
    n_frames = 1 + len(y) // hop
    padded = np.zeros(len(y) + win + hop, dtype=np.float32)
    padded[win // 2 : win // 2 + len(y)] = y
    window = np.hanning(win).astype(np.float32)

    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    # Parseval: a full-scale sine puts n_fft * sum(w^2) / 4 into the one-sided spectrum.
    ref = n_fft * float(np.sum(window.astype(np.float64) ** 2)) / 4.0
    lag_lo = int(VOICING_LAGS_S[0] * sr)
    lag_hi = min(int(VOICING_LAGS_S[1] * sr), win // 2)
    w_norm = lag_bias(window, n_fft)[lag_lo - 1 : lag_hi + 2]
    # the subbands are contiguous runs of bins: sum them with reduceat (5x cheaper than a matmul)
    b0, b1, starts = subband_bins(freqs)
    window64 = window.astype(np.float64)

    energy = np.empty(n_frames, dtype=np.float64)
    voicing = np.empty(n_frames, dtype=np.float64)
    subband = np.empty((n_frames, len(starts)), dtype=np.float32)
    all_frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:n_frames]
    for start in range(0, n_frames, _BLOCK):
        block = all_frames[start : start + _BLOCK] * window64
        spec = np.fft.rfft(block, n_fft, axis=1)  # numpy's float64 FFT: fast, and no scipy import
        power = spec.real**2 + spec.imag**2
        power[:, ~band] = 0.0
        band_power = power.sum(axis=1)
        energy[start : start + len(block)] = band_power
        subband[start : start + len(block)] = np.add.reduceat(power[:, b0:b1], starts, axis=1)
        full = np.fft.irfft(power, n_fft, axis=1)[:, : lag_hi + 2]
        ac = full[:, lag_lo - 1 :] / np.maximum(full[:, :1], 1e-20) / w_norm
        # best local maximum over the lag range
        mid = ac[:, 1:-1]
        is_peak = (mid >= ac[:, :-2]) & (mid >= ac[:, 2:])
        voicing[start : start + len(block)] = np.where(is_peak, mid, 0.0).max(axis=1)
    floor = 10 ** (ENERGY_FLOOR_DB / 10)
    energy_db = 10.0 * np.log10(np.maximum(energy / ref, floor))
    subband_db = 10.0 * np.log10(np.maximum(subband / np.float32(ref), np.float32(floor)))
    return Frames(hop_s=hop / sr, energy_db=energy_db, voicing=np.clip(voicing, 0.0, 1.0),
                  subband_db=subband_db)


def subband_bins(freqs: np.ndarray, n_bands: int = N_SUBBANDS) -> tuple[int, int, np.ndarray]:
    """FFT bins of the mel-spaced subbands of :data:`BAND_HZ`.

    Parameters
    ----------
    freqs : np.ndarray, shape (n_bins,)
        Bin frequencies in Hz, ascending.
    n_bands : int
        Number of subbands.

    Returns
    -------
    first, stop : int
        The band's bins are ``first:stop``.
    starts : np.ndarray of int, shape (n_bands,)
        Where each subband begins, counted from ``first``: ``np.add.reduceat(power[:, first:stop],
        starts, axis=1)`` sums each frame's power per subband.
    """
    freqs = np.asarray(freqs, dtype=np.float64)
    bins = np.flatnonzero((freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1]))
    mel = 2595.0 * np.log10(1.0 + freqs[bins] / 700.0)
    lo, hi = (2595.0 * np.log10(1.0 + f / 700.0) for f in BAND_HZ)
    edges = np.linspace(lo, hi, n_bands + 1)
    k = np.minimum(np.searchsorted(edges, mel, side="right") - 1, n_bands - 1)  # top edge joins the last band
    starts = np.flatnonzero(np.r_[True, np.diff(k) != 0])
    if len(starts) != n_bands:
        raise ParameterError(f"{n_bands} subbands leave some without an FFT bin at this resolution")
    return int(bins[0]), int(bins[-1]) + 1, starts
