"""The voice itself: intonation (语调) and loudness, each relative to the speaker and the recording.

**Pitch.** F0 on voiced frames only, from the pitch candidates the frame features already
computed (:attr:`speechcoach.analysis.features.Frames.pitch_lag_s`: the first peaks of each
frame's full-band autocorrelation): a frame is voiced inside a speech run when its best candidate
correlates at least :data:`VOICED_MIN` and it lies within :data:`VOICED_BELOW_PEAK_DB` of the
speech level; among a frame's candidates (its period and two or three times it) the one nearest
a running median of the contour is taken (:func:`pitch_track`). No pYIN, no second pass over the
signal: ~0.2 s per 10 minutes. Pitch is given in semitones relative to the speaker's median.

**Mandarin's tones.** Every syllable's lexical tone moves the pitch whatever the speaker
intends (a falling 4th tone, a dipping 3rd), so a contour full of movement is not evidence of a
lively voice, nor a single flat syllable of a dull one. What a flat delivery changes is the span
the tones are spoken in and how it moves from phrase to phrase: a lively speaker opens the range
on what matters and shifts the register between phrases; a monotone one squeezes every tone into
a narrow band at one height. So the measures are per phrase (speech between pauses): the range
from its 10th to its 90th percentile and its mean level; over the recording, the duration-
weighted median of the phrase ranges (:attr:`Voice.range_st`, the measure the ``monotone``
finding judges), the spread of phrase levels and of phrase ranges, the phrases that stay flat
(:attr:`Voice.flat`) and the declination (the median slope within a phrase).

**Loudness**, always relative to the recording itself (the microphone's gain is unknown): each
phrase's speech level against the median phrase; **trailing off**, a sentence's last syllable
well below the syllables of its phrase (:func:`sentence_ends`), with its time and, with a
script, its words; and the level of the last third of the speech against the first.

:func:`analyse` measures, :func:`voice_findings` turns the measures into findings, and
:func:`voice_deduction` into the points the score loses. Accuracy and speed:
``benchmarks/VOICE_RESULTS.md`` and ``docs/voice.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..locales import fmt_span, fmt_time
from ..settings import Settings
from .alignment import Alignment
from .features import Frames
from .findings import Finding, drift_judged
from .metrics import _half_up, shown_limit
from .segmentation import Segmentation

VOICED_MIN = 0.6
"""A frame is voiced when its best pitch candidate's normalised autocorrelation (octave cost
included) reaches this. Chosen with :data:`VOICED_BELOW_PEAK_DB` for the voicing agreement with
Praat on the ``real`` corpus (0.45–0.65 tried; the ``wide`` corpus picks the same pair):
``benchmarks/VOICE_RESULTS.md``."""

VOICED_BELOW_PEAK_DB = 25.0
"""… and when it lies at most this far under the recording's speech level (dB): Praat calls a
frame unvoiced when its amplitude falls ~30 dB under the loudest; weak, breathy edges of
syllables correlate well but are not what a listener hears as the voice's pitch."""

CONTOUR_MEDIAN_FRAMES = 15
"""Frames (150 ms) of the running median a frame's pitch candidate is chosen against: long
enough to outvote a stretch of octave errors, short enough to follow a 4th tone's fall (tried
15, 21, 31 and 51 on the ``real`` corpus; 15 gave the fewest octave errors)."""

OUTLIER_ST = 7.0
"""A frame more than this many semitones (over half an octave) from the running median of the
contour around it is left out: speech does not leap that far within 150 ms, an octave error or a
creaky voice does."""

FIRST_GUESS_NEAR = 0.05
"""The first contour takes each frame's shortest-lag candidate within this of its best
(normalised autocorrelation): the period rather than a multiple of it."""

MIN_PHRASE_VOICED_S = 0.3
"""A phrase's pitch is judged (range, level, flat or not) only with this much voiced sound (s),
about two syllables' vowels: the range of one syllable is its tone's, not the phrase's. A phrase
counts in the recording's measures in proportion to its voiced time, so short ones weigh little."""

MIN_VOICED_S = 1.0
"""Voiced sound (s) a recording needs for its pitch to be judged at all (the corpora's shortest
clips have 1.5–2 s; an explanation has ten times more)."""

DECLINATION_MIN_S = 1.0
"""Phrases with at least this much voiced sound (s) give a declination slope."""

MIN_RANGE_ST = Settings().min_range_st
"""Default (4.2) ``[voice] min_range_st``: a recording whose phrases' pitch ranges (10th–90th
percentile, duration-weighted median over the phrases) stay under this many semitones is
monotone, and a phrase under it is a flat stretch. Chosen on the ``wide`` corpus as the largest
value (to 0.1) that flags at most 10 % of its real speakers; there it flags 91 % of the clips
resynthesised with their pitch range compressed to 25 %, and on ``real``, held out, 96 % of them
and 2 % of the originals (``benchmarks/VOICE_RESULTS.md``). Chosen on ``real`` instead it would be
5.9, which flags 31 % of ``wide``'s real speakers: Taiwan-accented narration, sad or fearful
acted speech and some regional accents speak in a narrower range than the read and broadcast
speech that ``real`` is mostly made of."""

TRAIL_DROP_DB = Settings().trail_drop_db
"""Default (9) ``[voice] trail_drop_db``: a sentence's last syllable this far (dB, as shown) under
the median syllable of its phrase trails off (10 dB is the usual rule for "half as loud"). Chosen
on the ``wide`` corpus as the smallest whole dB that flags at most 10 % of its original sentence
ends (9.7 %), as the monotone limit is; there it finds 62 % of the last syllables lowered by
10 dB, and on ``real``, held out, 63 %, flagging 15 % of the original ends. Natural last
syllables already spread over ~14 dB around their phrase (10th to 90th percentile), more than
the 10 dB taken away, so no limit meets both targets (``benchmarks/VOICE_RESULTS.md``,
``docs/voice.md``)."""

MAX_TRAILING_SHARE = Settings().max_trailing_share
"""Default (0.25) ``[voice] max_trailing_share``: more sentence ends trailing off than this share of
those judged makes the finding a warning, costs points and fails ``check``; fewer are a note.
A natural delivery trails off at ~8 % of its sentence ends (above), so one or two in a long
explanation is not a habit."""

TRAILING_MIN_COUNT = 2
"""One sentence end trailing off is a note, never a habit (:func:`trailing_habit`): natural last
syllables fall 9 dB or more at 10–15 % of the corpora's sentence ends, so in a short recording
with two or three sentences one of them would too often make a quarter."""

TRAIL_LAST_S = 0.6
"""The last syllable of a sentence is the last syllable nucleus at most this long (s) before its
end; a sentence whose end has none (a long unvoiced tail) is not judged."""

TRAIL_REFERENCE_S = 3.0
"""The syllables a last syllable is compared with: those of its phrase in the seconds before it
(at most this long, s), or, when the phrase has fewer than :data:`TRAIL_MIN_REFERENCE`, those of
the speech before it whatever the pauses."""

TRAIL_MIN_REFERENCE = 2
"""Syllables a sentence end needs before it to be judged."""

SNAP_TO_RUN_END_S = 0.35
"""A script sentence's aligned end this close (s) to the end of a speech run is taken to be that
end: the alignment places characters to within about a syllable."""

EDGE_S = 0.05
"""A sentence end this close (s) to the end of the recording is not judged: the recording may
have cut it off."""

LEVEL_FALL_DB = 6.0
"""The last third of the speech this many dB (or more) under the first is a voice that fades
across the explanation (a note; a warning from twice it). 6 dB is a clearly audible change
(quarter of the power); only judged over 30 s of speech or more, like the pace's drift."""

CONTOUR_HOP_S = 0.05
"""The report's pitch contour: one value every this many seconds (the median of its voiced
frames), like the energy envelope."""

TRAIL_TEXT_CHARS = 6
"""Characters of a sentence quoted with a trailing end (its last ones)."""


def shown_st(st: float) -> float:
    """Semitones as every report shows them and the limits judge them: to 0.1, half up."""
    return _half_up(st, 1)


def shown_db(db: float) -> int:
    """A level difference (dB) as every report shows it and the limits judge it: whole, half up."""
    return int(_half_up(db, 0))


@dataclass(frozen=True)
class Pitch:
    """The pitch contour of a recording.

    Attributes
    ----------
    hop_s : float
        Seconds between frames (frame ``i`` is at ``i * hop_s``).
    f0_hz : np.ndarray, shape (n_frames,)
        F0 (Hz) of each voiced frame, NaN elsewhere.
    median_hz : float
        The speaker's median F0 over the voiced frames (Hz); NaN when none is voiced.
    """

    hop_s: float
    f0_hz: np.ndarray
    median_hz: float

    @property
    def voiced(self) -> np.ndarray:
        """Which frames are voiced, shape (n_frames,), bool."""
        return np.isfinite(self.f0_hz)

    @property
    def st(self) -> np.ndarray:
        """Pitch in semitones relative to :attr:`median_hz`, NaN where unvoiced, shape (n_frames,)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return 12.0 * np.log2(self.f0_hz / self.median_hz)

    @property
    def voiced_s(self) -> float:
        """Voiced time (s)."""
        return float(np.sum(self.voiced)) * self.hop_s


@dataclass(frozen=True)
class Phrase:
    """One phrase (a speech run between pauses): its pitch and its loudness.

    Attributes
    ----------
    start_s, end_s : float
        The run (s).
    voiced_s : float
        Its voiced time (s).
    pitch_level_st, pitch_range_st : float or None
        Mean pitch and its 10th–90th percentile range (semitones re the speaker's median); None
        under :data:`MIN_PHRASE_VOICED_S` of voiced sound.
    slope_st_per_s : float or None
        Least-squares slope of the pitch (semitones per second); None under
        :data:`DECLINATION_MIN_S` of voiced sound.
    level_db : float
        Its speech level (power mean of its voiced frames, or of all its frames when none is
        voiced) in dB relative to the recording's median phrase.
    flat : bool
        Judged, and its range under the monotone limit (a flat stretch).
    """

    start_s: float
    end_s: float
    voiced_s: float
    pitch_level_st: float | None
    pitch_range_st: float | None
    slope_st_per_s: float | None
    level_db: float
    flat: bool = False


@dataclass(frozen=True)
class SentenceEnd:
    """A sentence end and how loud its last syllable is against its phrase.

    Attributes
    ----------
    end_s : float
        Where the sentence ends (s): a speech run's end, or the aligned end of its last character.
    syllable_s : float
        The last syllable's nucleus (s).
    drop_db : float
        The median syllable of the phrase before it minus the last syllable (dB; positive: quieter).
    text : str or None
        The sentence's last characters, with a script.
    trailing : bool
        ``drop_db`` as shown reaches the limit.
    """

    end_s: float
    syllable_s: float
    drop_db: float
    text: str | None = None
    trailing: bool = False


@dataclass(frozen=True)
class Voice:
    """Intonation and loudness of one recording (:func:`analyse`).

    Attributes
    ----------
    pitch : Pitch
    phrases : tuple of Phrase
    range_st : float or None
        The monotone measure: duration-weighted median of the judged phrases' pitch ranges
        (semitones); None when the pitch is not judged (:attr:`judged`).
    level_spread_st, range_spread_st : float or None
        Duration-weighted standard deviation of the judged phrases' levels and ranges
        (semitones); None with fewer than two judged phrases.
    declination_st_per_s : float or None
        Median slope of the pitch within the phrases (semitones per second; negative: falling).
    flat : tuple of (float, float)
        Flat stretches (s): judged phrases under the limit, neighbours joined.
    ends : tuple of SentenceEnd
        Every sentence end judged for trailing off.
    level_thirds_db : (float, float) or None
        Speech level of the first and the last third of the speech span (dB re the median
        phrase); None under 30 s of speech (:func:`speechcoach.analysis.findings.drift_judged`).
    """

    pitch: Pitch
    phrases: tuple[Phrase, ...]
    range_st: float | None
    level_spread_st: float | None
    range_spread_st: float | None
    declination_st_per_s: float | None
    flat: tuple[tuple[float, float], ...] = ()
    ends: tuple[SentenceEnd, ...] = ()
    level_thirds_db: tuple[float, float] | None = None
    contour_st: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Pitch every :data:`CONTOUR_HOP_S` (semitones re the median, NaN where unvoiced)."""

    @property
    def judged(self) -> bool:
        """Whether there was enough voiced sound (:data:`MIN_VOICED_S`) to judge the pitch."""
        return self.range_st is not None

    @property
    def trailing(self) -> tuple[SentenceEnd, ...]:
        """The sentence ends that trail off."""
        return tuple(e for e in self.ends if e.trailing)

    @property
    def level_change_db(self) -> float | None:
        """Level of the last third of the speech minus the first (dB), when judged."""
        return None if self.level_thirds_db is None else self.level_thirds_db[1] - self.level_thirds_db[0]


# --- pitch --------------------------------------------------------------------------------------


def run_mask(n_frames: int, hop_s: float, runs: np.ndarray) -> np.ndarray:
    """Run index of every frame (−1 outside the speech runs), shape (n_frames,)."""
    t = np.arange(n_frames) * hop_s
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    idx = np.searchsorted(runs[:, 0], t, side="right") - 1
    inside = (idx >= 0) & (t <= runs[np.clip(idx, 0, None), 1]) if len(runs) else np.zeros(n_frames, dtype=bool)
    return np.where(inside, idx, -1)


def running_median(x: np.ndarray, size: int) -> np.ndarray:
    """Median of each ``size``-long window centred on each element (edges repeated), shape of ``x``."""
    if len(x) == 0:
        return x
    half = size // 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, half, mode="edge"), 2 * half + 1)
    return np.partition(windows, half, axis=1)[:, half]


def pitch_track(frames: Frames, seg: Segmentation, *, max_jump_st: float | None = OUTLIER_ST) -> Pitch:
    """F0 on the voiced frames of the speech runs.

    Parameters
    ----------
    frames : Frames
        With pitch candidates (:func:`speechcoach.analysis.features.frame_features`).
    seg : Segmentation
        The speech runs and the speech level (:attr:`Segmentation.peak_db`).
    max_jump_st : float or None, keyword-only
        A voiced frame further than this (semitones) from the running median of the contour
        around it is left out (unvoiced); ``None`` keeps every frame.

    Returns
    -------
    Pitch
        Frames of ``frames``; NaN outside the runs and where unvoiced.
    """
    n = frames.n_frames
    lag, strength = frames.pitch_lag_s, frames.pitch_strength
    if lag is None or strength is None or n == 0:
        return Pitch(frames.hop_s, np.full(n, np.nan), float("nan"))
    runs = run_mask(n, frames.hop_s, seg.runs)
    best = strength.max(axis=1)
    voiced = (runs >= 0) & (best >= VOICED_MIN) & (frames.energy_db >= seg.peak_db - VOICED_BELOW_PEAK_DB)
    voiced = _tidy(voiced, runs)
    with np.errstate(divide="ignore", invalid="ignore"):
        octaves = np.log2(1.0 / lag)  # log2 Hz of every candidate; NaN where there is none
    have = np.isfinite(octaves)
    # first contour: each frame's period (its shortest candidate near the best), not a multiple
    first = np.argmax(have & (strength >= best[:, None] - FIRST_GUESS_NEAR), axis=1)
    rows = np.arange(n)
    chosen = octaves[rows, first]
    v = np.flatnonzero(voiced)
    for _ in range(2):  # then the candidate nearest a running median of that contour, twice
        if len(v) == 0:
            break
        ref = np.interp(rows, v, running_median(chosen[v], CONTOUR_MEDIAN_FRAMES))
        pick = np.argmin(np.where(have, np.abs(octaves - ref[:, None]), np.inf), axis=1)
        chosen = octaves[rows, pick]
    if max_jump_st is not None and len(v):
        # what no candidate could bring back to the contour: an octave error left, or a creak
        ref = np.interp(rows, v, running_median(chosen[v], CONTOUR_MEDIAN_FRAMES))
        voiced &= np.abs(chosen - ref) * 12.0 <= max_jump_st
        v = np.flatnonzero(voiced)
    f0 = np.where(voiced, 2.0**chosen, np.nan)
    median = float(np.median(f0[voiced])) if len(v) else float("nan")
    return Pitch(frames.hop_s, f0, median)


def _tidy(voiced: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """``voiced`` with one-frame gaps inside a run filled and single voiced frames dropped."""
    out = voiced.copy()
    if len(out) < 3:
        return out
    out[1:-1] |= voiced[:-2] & voiced[2:] & (runs[1:-1] >= 0)
    keep = out.copy()
    keep[1:-1] &= out[:-2] | out[2:]
    keep[0] &= out[1]
    keep[-1] &= out[-2]
    return keep


def contour(pitch: Pitch, hop_s: float = CONTOUR_HOP_S) -> np.ndarray:
    """The pitch (semitones re the median) every ``hop_s``: the median of each stretch's voiced
    frames, NaN where fewer than two are voiced; shape (ceil(n_frames · pitch.hop_s / hop_s),)."""
    k = max(1, int(round(hop_s / pitch.hop_s)))
    st = pitch.st
    n = int(np.ceil(len(st) / k)) * k
    blocks = np.concatenate([st, np.full(n - len(st), np.nan)]).reshape(-1, k)
    enough = np.sum(np.isfinite(blocks), axis=1) >= 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN stretches: NaN, as wanted
        med = np.nanmedian(blocks, axis=1)
    return np.where(enough, med, np.nan)


# --- phrases ------------------------------------------------------------------------------------


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x)
    cum = np.cumsum(w[order]) / np.sum(w)
    return float(x[order][np.searchsorted(cum, 0.5)])


def _weighted_sd(x: np.ndarray, w: np.ndarray) -> float | None:
    if len(x) < 2:
        return None
    mean = np.average(x, weights=w)
    return float(np.sqrt(np.average((x - mean) ** 2, weights=w)))


def _power_mean_db(db: np.ndarray) -> float:
    return float(10.0 * np.log10(np.mean(10.0 ** (db / 10.0)))) if len(db) else float("nan")


def phrases(pitch: Pitch, frames: Frames, seg: Segmentation, *, min_range_st: float = MIN_RANGE_ST) -> tuple[Phrase, ...]:
    """Each speech run's pitch level, range and slope, and its loudness against the median run.

    Parameters
    ----------
    pitch : Pitch
    frames : Frames
        The energy (dB) of each frame.
    seg : Segmentation
        The runs.
    min_range_st : float, keyword-only
        Semitones under which a judged phrase is flat.

    Returns
    -------
    tuple of Phrase
        One per run, in time order.
    """
    runs = run_mask(frames.n_frames, frames.hop_s, seg.runs)
    st, voiced = pitch.st, pitch.voiced
    hop = frames.hop_s
    rows = []
    for i, (a, b) in enumerate(np.asarray(seg.runs, dtype=float).reshape(-1, 2)):
        inside = runs == i
        v = inside & voiced
        voiced_s = float(np.sum(v)) * hop
        level = _power_mean_db(frames.energy_db[v] if np.any(v) else frames.energy_db[inside])
        p_level = p_range = slope = None
        if voiced_s >= MIN_PHRASE_VOICED_S:
            x = st[v]
            lo, hi = np.percentile(x, [10, 90])
            p_level, p_range = float(np.mean(x)), float(hi - lo)
        if voiced_s >= DECLINATION_MIN_S:
            t = np.flatnonzero(v) * hop
            slope = float(np.polyfit(t - t.mean(), st[v], 1)[0])
        rows.append((float(a), float(b), voiced_s, p_level, p_range, slope, level))
    levels = np.array([r[6] for r in rows], dtype=float)
    finite = levels[np.isfinite(levels)]
    ref = float(np.median(finite)) if len(finite) else 0.0
    return tuple(
        Phrase(
            a, b, vs, pl, pr, sl, float(lv - ref) if np.isfinite(lv) else 0.0,
            flat=pr is not None and shown_st(pr) < min_range_st,
        )
        for a, b, vs, pl, pr, sl, lv in rows
    )


def _flat_stretches(ph: tuple[Phrase, ...]) -> tuple[tuple[float, float], ...]:
    """The flat phrases, neighbours (no judged lively phrase between) joined, as (start_s, end_s)."""
    out: list[list[float]] = []
    joined = False
    for p in ph:
        if p.flat:
            if joined and out:
                out[-1][1] = p.end_s
            else:
                out.append([p.start_s, p.end_s])
            joined = True
        elif p.pitch_range_st is not None:
            joined = False
    return tuple((a, b) for a, b in out)


# --- sentence ends ------------------------------------------------------------------------------


def _sentence_times(seg: Segmentation, alignment: Alignment | None) -> list[tuple[float, str | None]]:
    """Where sentences end (s) and, with a script, their last characters: the script's sentence
    ends placed by the alignment (at a run's end when within :data:`SNAP_TO_RUN_END_S`), else every
    speech run's end."""
    runs = np.asarray(seg.runs, dtype=float).reshape(-1, 2)
    if alignment is None or alignment.n == 0:
        return [(float(b), None) for b in runs[:, 1]]
    out: dict[float, str | None] = {}
    for first, last in alignment.sentences():
        t = float(alignment.end_s[last])
        j = int(np.argmin(np.abs(runs[:, 1] - t)))
        if abs(runs[j, 1] - t) <= SNAP_TO_RUN_END_S:
            t = float(runs[j, 1])
        lo = int(alignment.index[first])
        hi = alignment.split_pos(last + 1)
        text = alignment.script[lo:hi].strip().rstrip("。？！?!…；;，,、 ")
        quoted = text if len(text) <= TRAIL_TEXT_CHARS else "…" + text[-TRAIL_TEXT_CHARS:]
        out.setdefault(round(t, 3), quoted)
    return sorted(out.items())


def sentence_ends(
    frames: Frames,
    seg: Segmentation,
    nuclei: np.ndarray,
    *,
    alignment: Alignment | None = None,
    duration_s: float | None = None,
    drop_db: float = TRAIL_DROP_DB,
) -> tuple[SentenceEnd, ...]:
    """How loud each sentence's last syllable is against the syllables of its phrase.

    A syllable's loudness is the band energy at its nucleus (the peak of its envelope). The
    last syllable is the last nucleus within :data:`TRAIL_LAST_S` before the sentence's end; it
    is compared with the median syllable of its phrase in the :data:`TRAIL_REFERENCE_S` before
    it (:data:`TRAIL_MIN_REFERENCE` at least, else the speech before it, pauses or not).

    Parameters
    ----------
    frames : Frames
    seg : Segmentation
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times (s).
    alignment : Alignment, keyword-only, optional
        The script placed in time: its sentences end where it says, with their words; without
        it every speech run's end is a sentence end.
    duration_s : float, keyword-only, optional
        The recording's length (s): an end within :data:`EDGE_S` of it is not judged.
    drop_db : float, keyword-only
        Drop (dB, as shown) from which an end trails off.

    Returns
    -------
    tuple of SentenceEnd
        The ends judged, in time order.
    """
    e = frames.energy_db
    n = len(e)
    hop = frames.hop_s
    nu = np.sort(np.asarray(nuclei, dtype=float))
    runs = np.asarray(seg.runs, dtype=float).reshape(-1, 2)
    end_of_audio = duration_s if duration_s is not None else n * hop
    if len(nu) == 0 or len(runs) == 0:
        return ()
    levels = e[np.clip(np.round(nu / hop).astype(int), 0, n - 1)]
    out = []
    for t, text in _sentence_times(seg, alignment):
        if t > end_of_audio - EDGE_S:
            continue
        last = np.flatnonzero((nu <= t) & (nu >= t - TRAIL_LAST_S))
        if not len(last):
            continue
        k = int(last[-1])
        j = np.flatnonzero(runs[:, 0] <= t + 1e-6)
        run_start = float(runs[j[-1], 0]) if len(j) else float(runs[0, 0])
        before = (nu < nu[k] - 1e-6) & (nu >= nu[k] - TRAIL_REFERENCE_S)
        ref = np.flatnonzero(before & (nu >= run_start))
        if len(ref) < TRAIL_MIN_REFERENCE:
            ref = np.flatnonzero(before)
        if len(ref) < TRAIL_MIN_REFERENCE:
            continue
        drop = float(np.median(levels[ref]) - levels[k])
        out.append(SentenceEnd(t, float(nu[k]), drop, text, shown_db(drop) >= drop_db))
    return tuple(out)


def level_thirds(phrase_rows: tuple[Phrase, ...], seg: Segmentation) -> tuple[float, float] | None:
    """Speech level (dB re the median phrase) of the first and the last third of the speech span,
    each the power mean of its phrases weighted by their time in it; None when the span is too
    short for a change across it to be judged (:func:`speechcoach.analysis.findings.drift_judged`)."""
    if not phrase_rows or not drift_judged(seg.span_s):
        return None
    third = seg.span_s / 3.0
    out = []
    for lo, hi in ((seg.start_s, seg.start_s + third), (seg.end_s - third, seg.end_s)):
        w = np.array([max(0.0, min(p.end_s, hi) - max(p.start_s, lo)) for p in phrase_rows])
        if w.sum() <= 0:
            return None
        lv = np.array([p.level_db for p in phrase_rows])
        out.append(float(10 * np.log10(np.sum(w * 10 ** (lv / 10)) / w.sum())))
    return out[0], out[1]


def analyse(
    frames: Frames,
    seg: Segmentation,
    nuclei: np.ndarray,
    *,
    alignment: Alignment | None = None,
    duration_s: float | None = None,
    settings: Settings = Settings(),
) -> Voice:
    """The voice measures of one recording.

    Parameters
    ----------
    frames : Frames
        Frame features with pitch candidates (10 ms hop).
    seg : Segmentation
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times (s).
    alignment : Alignment, keyword-only, optional
        The script placed in time, for its sentence ends and words.
    duration_s : float, keyword-only, optional
        The recording's length (s).
    settings : Settings, keyword-only
        ``min_range_st`` and ``trail_drop_db``.

    Returns
    -------
    Voice
    """
    pitch = pitch_track(frames, seg)
    ph = phrases(pitch, frames, seg, min_range_st=settings.min_range_st)
    judged = [p for p in ph if p.pitch_range_st is not None]
    range_st = level_spread = range_spread = decl = None
    if judged and pitch.voiced_s >= MIN_VOICED_S:
        w = np.array([p.voiced_s for p in judged])
        ranges = np.array([p.pitch_range_st for p in judged], dtype=float)
        range_st = _weighted_median(ranges, w)
        level_spread = _weighted_sd(np.array([p.pitch_level_st for p in judged], dtype=float), w)
        range_spread = _weighted_sd(ranges, w)
        slopes = [p.slope_st_per_s for p in judged if p.slope_st_per_s is not None]
        decl = float(np.median(slopes)) if slopes else None
    else:
        ph = tuple(Phrase(p.start_s, p.end_s, p.voiced_s, p.pitch_level_st, p.pitch_range_st, p.slope_st_per_s, p.level_db, False) for p in ph)
    ends = sentence_ends(frames, seg, nuclei, alignment=alignment, duration_s=duration_s, drop_db=settings.trail_drop_db)
    return Voice(
        pitch=pitch,
        phrases=ph,
        range_st=range_st,
        level_spread_st=level_spread,
        range_spread_st=range_spread,
        declination_st_per_s=decl,
        flat=_flat_stretches(ph) if range_st is not None else (),
        ends=ends,
        level_thirds_db=level_thirds(ph, seg),
        contour_st=contour(pitch),
    )


# --- findings and points ------------------------------------------------------------------------


def monotone(voice: Voice, settings: Settings) -> bool:
    """Whether the voice is monotone: its pitch range, as shown, under ``min_range_st``."""
    return voice.range_st is not None and shown_st(voice.range_st) < settings.min_range_st


def trailing_habit(n_trailing: int, n_ends: int, max_share: float) -> bool:
    """Whether ``n_trailing`` of ``n_ends`` judged sentence ends trailing off is a habit: at least
    :data:`TRAILING_MIN_COUNT` of them, and more than the share ``max_share`` allows. The one rule
    for the finding's severity, the score and ``check``."""
    return n_trailing >= TRAILING_MIN_COUNT and n_trailing > max_share * n_ends


def trailing_over(voice: Voice, settings: Settings) -> bool:
    """Whether the recording's sentence ends trail off as a habit (:func:`trailing_habit`)."""
    return trailing_habit(len(voice.trailing), len(voice.ends), settings.max_trailing_share)


def voice_findings(voice: Voice, settings: Settings) -> tuple[Finding, ...]:
    """``monotone``, ``trailing_off`` and ``level_falls``, pointing to the guidance items
    ``intonation`` and ``audible_ends``.

    Parameters
    ----------
    voice : Voice
    settings : Settings
        ``min_range_st``, ``max_trailing_share``, ``trail_drop_db``.

    Returns
    -------
    tuple of Finding
        Pass to :func:`speechcoach.analysis.findings.merge_findings`.
    """
    return (*_monotone(voice, settings), *_trailing(voice, settings), *_level_falls(voice))


def _monotone(voice: Voice, s: Settings) -> list[Finding]:
    """``monotone``: the phrases' pitch range under the limit, naming the flat stretches."""
    if not monotone(voice, s) or voice.range_st is None:
        return []
    spans = [[round(a, 3), round(b, 3)] for a, b in voice.flat]
    at = fmt_span(*voice.flat[0]) if voice.flat else ""
    return [
        Finding(
            "monotone",
            "warning",
            "intonation",
            dict(range=shown_st(voice.range_st), limit=shown_limit(s.min_range_st, 1), n=len(spans), at=at),
            {"range_st": round(voice.range_st, 3), "limit_st": s.min_range_st, "spans": spans},
        )
    ]


def _trailing(voice: Voice, s: Settings) -> list[Finding]:
    """``trailing_off``: sentence ends whose last syllable falls away, the deepest one named."""
    trail = voice.trailing
    if not trail:
        return []
    worst = max(trail, key=lambda e: e.drop_db)
    example = f"“{worst.text}”" if worst.text else fmt_time(worst.syllable_s)
    return [
        Finding(
            "trailing_off",
            "warning" if trailing_over(voice, s) else "info",
            "audible_ends",
            dict(n=len(trail), total=len(voice.ends), drop=shown_db(worst.drop_db), at=fmt_time(worst.syllable_s), example=example),
            {
                "spans": [[round(max(0.0, e.syllable_s - 0.15), 3), round(e.end_s, 3)] for e in trail],
                "drop_db": [round(e.drop_db, 1) for e in trail],
                "text": [e.text for e in trail],
                "limit_db": s.trail_drop_db,
                "max_share": s.max_trailing_share,
            },
        )
    ]


def _level_falls(voice: Voice) -> list[Finding]:
    """``level_falls``: the last third of the speech :data:`LEVEL_FALL_DB` or more under the first."""
    change = voice.level_change_db
    if change is None or voice.level_thirds_db is None or not shown_db(-change) >= LEVEL_FALL_DB:
        return []
    first, last = voice.level_thirds_db
    return [
        Finding(
            "level_falls",
            "warning" if shown_db(-change) >= 2 * LEVEL_FALL_DB else "info",
            "audible_ends",
            dict(drop=shown_db(-change)),
            {"first_last_third_db": [round(first, 1), round(last, 1)]},
        )
    ]


MONOTONE_POINTS = 10
TRAILING_POINTS = 3
TRAILING_MAX_POINTS = 9
LEVEL_FALL_POINTS = 3
VOICE_MAX_POINTS = 15
"""The score's voice deduction (:func:`voice_deduction`): 10 points for a monotone voice, 3 per
trailing sentence end (at most 9) once more trail off than the rubric allows, 3 for a voice that
fades by twice :data:`LEVEL_FALL_DB` across the explanation; at most 15 in all, less than the
pauses or the pace can cost (25 each), because the voice measures are newer and, for trailing
off, less sure (``docs/voice.md``)."""


def voice_deduction(voice: Voice | None, settings: Settings) -> int:
    """The points the overall mark loses for the voice (whole points, at most :data:`VOICE_MAX_POINTS`)."""
    if voice is None:
        return 0
    points = MONOTONE_POINTS if monotone(voice, settings) else 0
    if trailing_over(voice, settings):
        points += min(TRAILING_MAX_POINTS, TRAILING_POINTS * len(voice.trailing))
    change = voice.level_change_db
    if change is not None and shown_db(-change) >= 2 * LEVEL_FALL_DB:
        points += LEVEL_FALL_POINTS
    return min(points, VOICE_MAX_POINTS)


def to_report(voice: Voice, *, decimals: int = 3) -> dict[str, Any]:
    """The report's ``voice`` block (see ``docs/report-schema.json``)."""

    def r(x: float | None, nd: int = decimals) -> float | None:
        return None if x is None or not np.isfinite(x) else round(float(x), nd)

    change = voice.level_change_db
    return {
        "pitch": {
            "judged": voice.judged,
            "median_hz": r(voice.pitch.median_hz, 1),
            "voiced_s": r(voice.pitch.voiced_s, 2),
            "range_st": r(voice.range_st),
            "level_spread_st": r(voice.level_spread_st),
            "range_spread_st": r(voice.range_spread_st),
            "declination_st_per_s": r(voice.declination_st_per_s),
        },
        "flat": [[r(a), r(b)] for a, b in voice.flat],
        "phrases": [
            {
                "start_s": r(p.start_s),
                "end_s": r(p.end_s),
                "voiced_s": r(p.voiced_s, 2),
                "pitch_level_st": r(p.pitch_level_st),
                "pitch_range_st": r(p.pitch_range_st),
                "level_db": r(p.level_db, 1),
                "flat": p.flat,
            }
            for p in voice.phrases
        ],
        "ends": [
            {"end_s": r(e.end_s), "syllable_s": r(e.syllable_s), "drop_db": r(e.drop_db, 1), "text": e.text, "trailing": e.trailing}
            for e in voice.ends
        ],
        "loudness": {
            "first_third_db": None if voice.level_thirds_db is None else r(voice.level_thirds_db[0], 1),
            "last_third_db": None if voice.level_thirds_db is None else r(voice.level_thirds_db[1], 1),
            "change_db": r(change, 1),
        },
        "contour": {"hop_s": CONTOUR_HOP_S, "st": [None if not np.isfinite(v) else round(float(v), 1) for v in voice.contour_st]},
    }
