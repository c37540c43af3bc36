"""Speech runs and pauses, adapted to each recording's own noise floor.

A frame is speech when its band energy rises clearly above the noise floor (hysteresis: a run
starts above a high threshold and lasts while above a low one). The floor is the recording's
(a low percentile of all its frames), raised where the background rises for a while: a fan or
an air-conditioner starting, the phone moved nearer a noise. There the floor follows the
background's level, measured in stretches of steady, unvoiced sound well under the speech
(:func:`background_floor`), so the pauses in the noisier part are still found; in a steady
room it stays one number.

Runs that hold no voiced sound (keyboard clicks, breaths, door bangs) are dropped, unless they
touch a voiced run across a dip shorter than :data:`ATTACH_GAP_S` (a weakly voiced or unvoiced
part of the same syllable: a creaky final, a trailing fricative or aspiration). Gaps shorter than the
minimum pause are bridged. The speech span runs from the first onset to the last offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .features import WIN_S, Frames

FLOOR_PERCENTILE = 5.0
"""The noise floor is this percentile of frame energies (a recording always has some pauses),
digital silence left out (:data:`DIGITAL_SILENCE_DB`)."""

DIGITAL_SILENCE_DB = -100.0
"""A frame whose band energy lies under this (dB re a full-scale sine) is digital silence: exact
zeros, from a noise gate, a phone's or browser's noise suppression or an editor's join. No
recording chain is that quiet: the quantisation noise of 16-bit audio alone lies at about −98 dB
in the band. Such frames say nothing about the room: they are never speech and are left out of
the noise floor and of the background (:func:`background_floor`), so the floor is the same
whether the gaps between sentences hold zeros or the room's own noise."""

PEAK_PERCENTILE = 99.0
"""The speech level is this percentile of frame energies."""

ONSET_ABOVE_FLOOR_DB = 10.0
OFFSET_ABOVE_FLOOR_DB = 6.0
"""A run starts 10 dB above the floor and lasts while 6 dB above it …"""

ONSET_BELOW_PEAK_DB = 35.0
OFFSET_BELOW_PEAK_DB = 45.0
"""… but in a very quiet room the thresholds follow the speech level instead (35/45 dB below
it), so that room tone and reverberation tails are not taken for speech."""

VOICED = 0.55
"""Voicing (normalised autocorrelation) above which a frame sounds periodic."""

MIN_VOICED_S = 0.04
"""A run needs this much voiced sound to count as speech."""

ATTACH_GAP_S = 0.03
"""A stretch above the low threshold with too little voicing of its own still counts as speech
when a dip of at most this long separates it from a voiced run: inside a syllable the energy
dips that briefly (a glottalised or breathy final, a fricative or aspirated onset), while a
breath before or after a sentence is set off by 50 ms or more of silence and stays out."""

MIN_DYNAMIC_RANGE_DB = 8.0
"""Below this spread between floor and speech level there is nothing but steady noise."""

BACKGROUND_WINDOW_S = 0.4
"""The background is looked for in windows of this length (seconds) centred on each frame:
longer than any speech sound that holds steady (a vowel, a fricative), shorter than most pauses."""

STEADY_SD_DB = 2.0
"""A window holds only background when the standard deviation of its frame energies is at most
this (dB): room noise in 32 ms frames varies by 1–1.5 dB, a window touching speech by 5 dB or more."""

BACKGROUND_BELOW_PEAK_DB = 15.0
"""… and when its loudest frame lies at least this far under the speech level (dB)."""

BACKGROUND_VOICED_SHARE = 0.25
"""… and when at most this share of its frames is voiced: a fan or an air-conditioner is
aperiodic (a few % of its frames read voiced), a held vowel, a far talker or a reverberant
room's own tail mostly periodic. (Room noise carrying audible mains hum reads voiced in about
half its frames, so a background that rises with a hum is not followed.)"""

EDGE_BACKGROUND_S = 0.08
"""A run that ends (or starts) in at least this long a stretch of background (steady, unvoiced,
well under the speech, as for :data:`BACKGROUND_WINDOW_S`) is cut back to where the sound last
rose :data:`OFFSET_ABOVE_FLOOR_DB` over it (:func:`trim_background`)."""

RAISE_DB = 3.0
"""The floor follows the background only where it lies at least this far (dB) above the
recording's floor; in a steady room the two differ by less, and the floor stays one number."""


@dataclass(frozen=True)
class Segmentation:
    """Where the speech is.

    Attributes
    ----------
    runs : np.ndarray, shape (k, 2)
        Speech runs ``[start_s, end_s]`` after bridging gaps shorter than ``min_pause_s``.
    pauses : np.ndarray, shape (k - 1, 2)
        The gaps between consecutive runs, ``[start_s, end_s]``; each lasts at least ``min_pause_s``.
    speech_mask : np.ndarray, shape (n_frames,), bool
        Frame-level speech decision before bridging.
    floor_db, peak_db : float
        The recording's noise floor and speech level (dB re full scale).
    frame_floor_db : np.ndarray or None, shape (n_frames,)
        The floor the thresholds were set from at each frame (dB re full scale): ``floor_db``,
        raised where the background rose (:func:`background_floor`).
    """

    runs: np.ndarray
    pauses: np.ndarray
    speech_mask: np.ndarray
    floor_db: float
    peak_db: float
    frame_floor_db: np.ndarray | None = None

    @property
    def start_s(self) -> float:
        """First speech onset (s): the start of the speech span."""
        return float(self.runs[0, 0])

    @property
    def end_s(self) -> float:
        """Last speech offset (s): the end of the speech span."""
        return float(self.runs[-1, 1])

    @property
    def span_s(self) -> float:
        """The speech span (s), pauses inside it included: what the speaking rate divides by."""
        return self.end_s - self.start_s

    @property
    def pause_s(self) -> float:
        """Total length of the pauses (s)."""
        return float(np.sum(self.pauses[:, 1] - self.pauses[:, 0])) if len(self.pauses) else 0.0

    @property
    def phonation_s(self) -> float:
        """Span minus pauses, in seconds."""
        return self.span_s - self.pause_s


class NoSpeechError(Exception):
    """Raised by :func:`segment` when a signal holds no speech; the pipeline adds the file name."""


def segment(frames: Frames, *, min_pause_s: float = 0.25) -> Segmentation:
    """Find speech runs and pauses in a recording's frame features.

    Parameters
    ----------
    frames : Frames
        From :func:`speechcoach.analysis.features.frame_features`.
    min_pause_s : float, keyword-only
        Shortest silence inside the speech that counts as a pause, in seconds.

    Returns
    -------
    Segmentation

    Raises
    ------
    NoSpeechError
        When the recording is silent or holds only noise.
    ParameterError
        When ``min_pause_s`` is not positive.
    """
    if not min_pause_s > 0:
        raise ParameterError(f"min_pause_s must be positive, got {min_pause_s!r}")
    e = frames.energy_db
    hop = frames.hop_s
    # the speech level from every frame: gaps lie under it whatever they hold, so it stays put
    peak = float(np.percentile(e, PEAK_PERCENTILE))
    floor = noise_floor(frames, peak)
    if peak - floor < MIN_DYNAMIC_RANGE_DB:
        raise NoSpeechError("no speech found (silence or noise only)")  # as [errors] no_speech words it
    local = background_floor(frames, floor, peak)
    onset = np.maximum(local + ONSET_ABOVE_FLOOR_DB, peak - ONSET_BELOW_PEAK_DB)
    offset = np.maximum(local + OFFSET_ABOVE_FLOOR_DB, peak - OFFSET_BELOW_PEAK_DB)
    offset = np.minimum(offset, onset)

    above = e > offset
    starts, ends = true_runs(above)
    # hysteresis: keep regions above the low threshold that reach the high one
    csum_hi = np.concatenate([[0], np.cumsum(e > onset)])
    csum_v = np.concatenate([[0], np.cumsum((frames.voicing > VOICED) & above)])
    voiced = (csum_v[ends] - csum_v[starts]) * hop >= MIN_VOICED_S
    keep = (csum_hi[ends] - csum_hi[starts] > 0) & voiced
    keep = _attach_touching(starts, ends, keep, int(round(ATTACH_GAP_S / hop)))
    starts, ends = starts[keep], ends[keep]
    starts, ends = trim_background(frames, starts, ends, peak, local, min_voiced=int(np.ceil(MIN_VOICED_S / hop)))
    if len(starts) == 0:
        raise NoSpeechError("no speech found (silence or noise only)")

    mask = np.zeros(len(e), dtype=bool)
    for s, t in zip(starts, ends):  # loop over runs, not frames
        mask[s:t] = True

    # frame i covers [i*hop - hop/2, i*hop + hop/2]: a run of frames [s, t) spans these times
    run_times = np.stack([starts * hop - hop / 2, ends * hop - hop / 2], axis=1)
    run_times = np.clip(run_times, 0.0, (len(e) - 1) * hop)
    gaps = run_times[1:, 0] - run_times[:-1, 1]
    split = np.flatnonzero(gaps >= min_pause_s)
    run_starts = np.concatenate([[0], split + 1])
    run_ends = np.concatenate([split, [len(run_times) - 1]])
    runs = np.stack([run_times[run_starts, 0], run_times[run_ends, 1]], axis=1)
    pauses = np.stack([runs[:-1, 1], runs[1:, 0]], axis=1) if len(runs) > 1 else np.zeros((0, 2))
    return Segmentation(runs=runs, pauses=pauses, speech_mask=mask, floor_db=floor, peak_db=peak,
                        frame_floor_db=local)


def background_floor(frames: Frames, floor_db: float, peak_db: float) -> np.ndarray:
    """The noise floor at every frame, following the background where it rises.

    A window of :data:`BACKGROUND_WINDOW_S` holds only background when its energies are steady
    (standard deviation at most :data:`STEADY_SD_DB`), its loudest frame lies at least
    :data:`BACKGROUND_BELOW_PEAK_DB` under the speech level and at most
    :data:`BACKGROUND_VOICED_SHARE` of its frames are voiced. Such a window's quietest frame is
    the background level at its centre (like the global floor, a low point of the noise's own
    fluctuation), and so is that of any window coming down to within :data:`RAISE_DB` of
    ``floor_db`` (wherever the energy falls that low the background is no higher). Between
    such windows, over the speech, the level is interpolated linearly, so each pause is judged
    against its own background and the speech between two pauses against theirs. Where the
    level lies less than :data:`RAISE_DB` above ``floor_db`` (a steady room, or a quieter
    stretch), the floor is ``floor_db``.

    Parameters
    ----------
    frames : Frames
        The recording's frame features.
    floor_db, peak_db : float
        The recording's noise floor and speech level (dB re full scale).

    Returns
    -------
    np.ndarray, shape (n_frames,)
        The floor in dB re full scale, never below ``floor_db``.
    """
    e = frames.energy_db
    n = len(e)
    out = np.full(n, floor_db)
    bg = _background_windows(frames, peak_db)
    if bg is None or not bg.steady.any():
        return out
    # a window that comes down to the recording's floor shows the background no higher there
    j = np.flatnonzero(bg.steady | ((bg.low < floor_db + RAISE_DB) & bg.live))
    level = np.interp(np.arange(n), j + bg.w // 2, bg.low[j])
    return np.where(level >= floor_db + RAISE_DB, level, out)


@dataclass(frozen=True)
class _Windows:
    """The windows of :data:`BACKGROUND_WINDOW_S` of a recording (window ``j`` is centred on
    frame ``j + w // 2``): their quietest frame, whether they hold only background, and whether
    they are free of digital silence."""

    w: int
    low: np.ndarray
    steady: np.ndarray
    live: np.ndarray


def _background_windows(frames: Frames, peak_db: float, window_s: float = BACKGROUND_WINDOW_S) -> _Windows | None:
    """Which windows of ``window_s`` hold only background (:func:`background_floor`); None for
    a recording shorter than one window."""
    e = frames.energy_db
    w = round(window_s / frames.hop_s)
    if len(e) < w or w < 2:
        return None
    win = np.lib.stride_tricks.sliding_window_view(e, w)
    c1 = np.concatenate([[0.0], np.cumsum(e)])
    c2 = np.concatenate([[0.0], np.cumsum(e * e)])
    cv = np.concatenate([[0], np.cumsum(frames.voicing > VOICED)])
    cd = np.concatenate([[0], np.cumsum(e <= DIGITAL_SILENCE_DB)])
    mean = (c1[w:] - c1[:-w]) / w
    var = (c2[w:] - c2[:-w]) / w - mean * mean
    voiced_share = (cv[w:] - cv[:-w]) / w
    live = cd[w:] == cd[:-w]  # digital silence shows no background: its windows are left out
    steady = (var <= STEADY_SD_DB**2) & (voiced_share <= BACKGROUND_VOICED_SHARE) & live
    steady &= win.max(axis=1) <= peak_db - BACKGROUND_BELOW_PEAK_DB
    return _Windows(w, win.min(axis=1), steady, live)


def noise_floor(frames: Frames, peak_db: float) -> float:
    """The recording's noise floor (dB re full scale): :data:`FLOOR_PERCENTILE` of its frame
    energies, digital silence left out.

    Frames of digital silence (:data:`DIGITAL_SILENCE_DB`) say nothing about the room, so the
    floor is taken over the others, as long as they show the room somewhere: a stretch of
    :data:`EDGE_BACKGROUND_S` of background (steady, unvoiced, well under the speech, as in
    :func:`background_floor`) at that level. A recording whose only quiet is digital
    silence (speech gated to zeros, a synthetic voice) shows no room: its floor is the
    percentile of all frames, and the thresholds follow the speech level instead
    (:data:`ONSET_BELOW_PEAK_DB`).
    """
    e = frames.energy_db
    every = float(np.percentile(e, FLOOR_PERCENTILE))
    live = e > DIGITAL_SILENCE_DB
    if live.all() or not live.any():
        return every
    floor = float(np.percentile(e[live], FLOOR_PERCENTILE))
    bg = _background_windows(frames, peak_db, EDGE_BACKGROUND_S)
    seen = bg is not None and bool(np.any(bg.steady & (bg.low < floor + RAISE_DB)))
    return floor if seen else every


def trim_background(
    frames: Frames, starts: np.ndarray, ends: np.ndarray, peak_db: float, floor_db: np.ndarray, *, min_voiced: int
) -> tuple[np.ndarray, np.ndarray]:
    """Speech runs with the background they end or start in cut off.

    A run's edge is judged against the background next to it. Where the gap beside a run is
    quieter than the room (digital zeros, a noise gate's or noise suppression's output, hum
    alone), the room's own noise just before the gap rises over thresholds set from the
    gap, and the run takes it in. Such a stretch, at least :data:`EDGE_BACKGROUND_S` long at
    the run's end (or start), steady (standard deviation at most :data:`STEADY_SD_DB`), well
    under the speech (:data:`BACKGROUND_BELOW_PEAK_DB`) and mostly unvoiced
    (:data:`BACKGROUND_VOICED_SHARE`), is background: the run ends where the sound last rose
    :data:`OFFSET_ABOVE_FLOOR_DB` over its quietest frame (or the speech-level bound, as in
    :func:`segment`), as long as the gap beside it is at least as long and its median lies
    more than the background's own spread (:data:`STEADY_SD_DB`) under that stretch's (the drop
    into the quieter gap; runs closer
    together than :data:`EDGE_BACKGROUND_S` are taken as one first). Mandarin
    syllables end in a vowel or a nasal, never in a steady unvoiced sound, and a steady initial
    (a fricative, an aspiration) that a short dip sets off from the syllable before is left alone. A run left with under ``min_voiced``
    voiced frames is dropped.

    Parameters
    ----------
    frames : Frames
    starts, ends : np.ndarray of int, shape (k,)
        Frame runs ``[start, end)`` in time order.
    peak_db : float
        The recording's speech level (dB re full scale).
    floor_db : np.ndarray, shape (n_frames,)
        The floor at every frame (:func:`background_floor`).
    min_voiced : int, keyword-only
        Voiced frames a run needs to stay.

    Returns
    -------
    starts, ends : np.ndarray of int, shape (k',)
    """
    e = frames.energy_db
    voiced = frames.voicing > VOICED
    n = int(round(EDGE_BACKGROUND_S / frames.hop_s))
    lag = int(np.ceil(WIN_S / frames.hop_s / 2))  # frames straddling the drop into the gap

    def background(lo: int, hi: int) -> tuple[float, float] | None:
        """(quietest, median) level of ``[lo, hi)`` when it holds only background, else None."""
        if hi - lo < n:
            return None
        x = e[lo:hi]
        quiet = x.min() < floor_db[lo:hi].max() + ONSET_ABOVE_FLOOR_DB  # too quiet to start a run
        if quiet and x.std() <= STEADY_SD_DB and x.max() <= peak_db - BACKGROUND_BELOW_PEAK_DB and voiced[lo:hi].mean() <= BACKGROUND_VOICED_SHARE:
            return float(x.min()), float(np.median(x))
        return None

    def quieter(lo: int, hi: int, typical: float) -> bool:
        """Whether the gap ``[lo, hi)`` beside a run lies under a background whose median is ``typical``."""
        return hi - lo >= n and float(np.median(e[lo:hi])) <= typical - STEADY_SD_DB

    # runs a dip shorter than n frames apart are one stretch of sound (bridging joins them anyway)
    if len(starts) > 1:
        join = starts[1:] - ends[:-1] < n
        starts, ends = starts[np.r_[True, ~join]], ends[np.r_[~join, True]]
    prev_end = np.concatenate([[0], ends[:-1]])
    next_start = np.concatenate([starts[1:], [len(e)]])
    out_s, out_e = [], []
    for s, t, a, b in zip(starts.tolist(), ends.tolist(), prev_end.tolist(), next_start.tolist()):
        s0, t0 = s, t
        bg = background(max(s0, t0 - lag - n), t0 - lag)
        if bg is not None and quieter(t0, b, bg[1]):
            above = np.flatnonzero(e[s:t] > max(bg[0] + OFFSET_ABOVE_FLOOR_DB, peak_db - OFFSET_BELOW_PEAK_DB))
            t = s + int(above[-1]) + 1 if len(above) else s
        bg = background(s0 + lag, min(t0, s0 + lag + n))
        if bg is not None and quieter(a, s0, bg[1]):
            above = np.flatnonzero(e[s:t] > max(bg[0] + OFFSET_ABOVE_FLOOR_DB, peak_db - OFFSET_BELOW_PEAK_DB))
            s = s + int(above[0]) if len(above) else t
        if t > s and int(voiced[s:t].sum()) >= min_voiced:
            out_s.append(s)
            out_e.append(t)
    return np.asarray(out_s, dtype=int), np.asarray(out_e, dtype=int)


def _attach_touching(starts: np.ndarray, ends: np.ndarray, keep: np.ndarray, max_gap: int) -> np.ndarray:
    """``keep`` widened to every run whose dip to a kept neighbour is at most ``max_gap`` frames.

    A forward then a backward pass, so a chain of touching stretches joins its voiced run on
    either side. Loops over runs, not frames.
    """
    keep = keep.copy()
    close = starts[1:] - ends[:-1] <= max_gap  # run i and run i + 1 touch
    for i in range(1, len(starts)):
        keep[i] |= keep[i - 1] and close[i - 1]
    for i in range(len(starts) - 2, -1, -1):
        keep[i] |= keep[i + 1] and close[i]
    return keep


def true_runs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) indices of the runs of True in a bool array."""
    d = np.diff(np.concatenate([[False], x, [False]]).astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)
