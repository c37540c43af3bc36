"""Frame-level features: band energy, a voicing cue and pitch candidates, from one short-time spectrum.

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

PITCH_RANGE_HZ = (75.0, 600.0)
"""Pitch searched for the voice measures (Hz): Praat's defaults for ``To Pitch (ac)``, the
reference the tracker of :mod:`speechcoach.analysis.voice` is compared with
(``benchmarks/voice.py``)."""

PITCH_CANDIDATES = 3
"""Pitch candidates kept per frame (:attr:`Frames.pitch_lag_s`): the shortest-lag peaks of the
autocorrelation that come within :data:`PITCH_NEAR_BEST` of its best one. A voice's period and
its multiples (2, 3 … periods) all correlate almost equally well; keeping the first three lets
:func:`speechcoach.analysis.voice.pitch_track` choose the one that continues the contour. Three
cover a 300 Hz voice's period and its double and triple, where the 75 Hz floor allows four."""

PITCH_NEAR_BEST = 0.1
"""How close (normalised autocorrelation) to the frame's best peak a candidate must come. Chosen
on the ``real`` corpus against Praat (0.05 and 0.15 gave more octave errors; with 0.1 the
contours of both corpora differ from Praat's by more than a semitone on ~5 % of the frames both
call voiced, ``benchmarks/VOICE_RESULTS.md``)."""

PITCH_OCTAVE_COST = 0.01
"""Favour for higher candidates per octave (Praat's ``octave cost`` default): a perfectly periodic
signal correlates as well at two periods as at one."""

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
    pitch_lag_s : np.ndarray or None, shape (n_frames, PITCH_CANDIDATES)
        Pitch-period candidates (s, float32, NaN where a frame has fewer): the shortest-lag peaks
        of the full-band normalised autocorrelation within :data:`PITCH_NEAR_BEST` of the best
        one, in :data:`PITCH_RANGE_HZ`, shortest first, refined by parabolic interpolation.
    pitch_strength : np.ndarray or None, shape (n_frames, PITCH_CANDIDATES)
        Each candidate's normalised autocorrelation plus :data:`PITCH_OCTAVE_COST` per octave
        above the range's floor (−inf where there is none).
    """

    hop_s: float
    energy_db: np.ndarray
    voicing: np.ndarray
    subband_db: np.ndarray | None = None
    pitch_lag_s: np.ndarray | None = None
    pitch_strength: np.ndarray | None = None

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
    bias = lag_bias(window, n_fft)
    w_norm = bias[lag_lo - 1 : lag_hi + 2]
    pitch = _PitchLags(sr, n_fft, band, bias, win)
    # the subbands are contiguous runs of bins: sum them with reduceat (5x cheaper than a matmul)
    b0, b1, starts = subband_bins(freqs)
    window64 = window.astype(np.float64)

    energy = np.empty(n_frames, dtype=np.float64)
    voicing = np.empty(n_frames, dtype=np.float64)
    subband = np.empty((n_frames, len(starts)), dtype=np.float32)
    lags = np.empty((n_frames, PITCH_CANDIDATES), dtype=np.float32)
    strength = np.empty((n_frames, PITCH_CANDIDATES), dtype=np.float32)
    top = max(lag_hi, pitch.hi) + 2
    all_frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:n_frames]
    for start in range(0, n_frames, _BLOCK):
        block = all_frames[start : start + _BLOCK] * window64
        spec = np.fft.rfft(block, n_fft, axis=1)  # numpy's float64 FFT: fast, and no scipy import
        power = spec.real**2 + spec.imag**2
        outside = power[:, pitch.outside]  # the few bins below the band, for the pitch's full-band autocorrelation
        power[:, ~band] = 0.0
        band_power = power.sum(axis=1)
        energy[start : start + len(block)] = band_power
        subband[start : start + len(block)] = np.add.reduceat(power[:, b0:b1], starts, axis=1)
        full = np.fft.irfft(power, n_fft, axis=1)[:, :top]
        ac = full[:, lag_lo - 1 : lag_hi + 2] / np.maximum(full[:, :1], 1e-20) / w_norm
        # best local maximum over the lag range
        mid = ac[:, 1:-1]
        is_peak = (mid >= ac[:, :-2]) & (mid >= ac[:, 2:])
        voicing[start : start + len(block)] = np.where(is_peak, mid, 0.0).max(axis=1)
        lags[start : start + len(block)], strength[start : start + len(block)] = pitch.candidates(full, outside)
    floor = 10 ** (ENERGY_FLOOR_DB / 10)
    energy_db = 10.0 * np.log10(np.maximum(energy / ref, floor))
    subband_db = 10.0 * np.log10(np.maximum(subband / np.float32(ref), np.float32(floor)))
    return Frames(hop_s=hop / sr, energy_db=energy_db, voicing=np.clip(voicing, 0.0, 1.0),
                  subband_db=subband_db, pitch_lag_s=lags, pitch_strength=strength)


class _PitchLags:
    """Pitch-period candidates of a block of frames from their autocorrelation (:func:`frame_features`).

    The energy's autocorrelation leaves out the bins below :data:`BAND_HZ` (hum and rumble),
    and with them the fundamental of a low voice; the pitch uses the full band, which Praat
    does too and which halves the octave errors on real speech. The missing bins are added
    back as a few cosines (``outside @ cosines``) rather than by a second inverse FFT.
    """

    def __init__(self, sr: int, n_fft: int, band: np.ndarray, bias: np.ndarray, win: int) -> None:
        self.sr = sr
        self.lo = int(np.floor(sr / PITCH_RANGE_HZ[1]))
        self.hi = min(int(np.ceil(sr / PITCH_RANGE_HZ[0])), win - 2)
        self.outside = np.flatnonzero(~band)
        k = self.outside[:, None].astype(np.float64)
        lag = np.arange(max(self.hi, win // 2) + 3)[None, :]
        weight = np.where((k == 0) | (k == n_fft // 2), 1.0, 2.0)  # one-sided spectrum: the ends once
        self.cosines = weight * np.cos(2 * np.pi * k * lag / n_fft) / n_fft
        self.bias = bias[self.lo - 1 : self.hi + 2]
        self.octave = PITCH_OCTAVE_COST * np.log2(sr / np.arange(self.lo, self.hi + 1) / PITCH_RANGE_HZ[0])

    def candidates(self, full: np.ndarray, outside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lags (s) and strengths, each shape (frames, :data:`PITCH_CANDIDATES`), of one block."""
        fb = full + outside @ self.cosines[:, : full.shape[1]]
        r = fb[:, self.lo - 1 : self.hi + 2] / np.maximum(fb[:, :1], 1e-20) / self.bias
        mid = r[:, 1:-1]
        peak = (mid >= r[:, :-2]) & (mid >= r[:, 2:])
        score = np.where(peak, mid + self.octave, -np.inf)
        near = score >= score.max(axis=1, keepdims=True) - PITCH_NEAR_BEST
        rows = np.arange(len(r))
        idx = np.empty((len(r), PITCH_CANDIDATES), dtype=np.intp)
        have = np.empty((len(r), PITCH_CANDIDATES), dtype=bool)
        for k in range(PITCH_CANDIDATES):  # the shortest lags first: take the first left, then clear it
            idx[:, k] = np.argmax(near, axis=1)
            have[:, k] = near[rows, idx[:, k]]
            near[rows, idx[:, k]] = False
        rows = rows[:, None]
        left, centre, right = r[rows, idx], r[rows, idx + 1], r[rows, idx + 2]
        den = left - 2 * centre + right
        shift = np.clip(np.where(np.abs(den) > 1e-12, 0.5 * (left - right) / np.where(den == 0, 1.0, den), 0.0), -0.5, 0.5)
        lag_s = np.where(have, (self.lo + idx + shift) / self.sr, np.nan)
        return lag_s, np.where(have, score[rows, idx], -np.inf)


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
