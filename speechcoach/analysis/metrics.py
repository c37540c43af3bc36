"""Rates, pace variation and the overall score, from segmentation and syllable times.

Rates are in characters per minute (cpm). The speaking rate is timed like a stopwatch:
characters ÷ speech span, pauses inside the span included, leading and trailing silence not.

Every rate is reported to :data:`RATE_DECIMALS` decimal (the JSON report's value) and shown as a
whole number by :func:`shown_cpm`: that reported value rounded half up. Findings, renderers,
``check``, batch summaries and the practice page (``Math.round`` of the stored value) all show
the same integer, and the band verdict is judged on it.

Pause lengths and the pace variation follow the same rule: a pause is shown in seconds to
:data:`PAUSE_SHOWN_DECIMALS` decimal by :func:`shown_s`, the cv to :data:`CV_SHOWN_DECIMALS`
decimals by :func:`shown_cv` (both the stored value rounded half up), and the long-pause and
pace-variation limits are judged on those shown values, in findings, ``check``, the score and
batch rows alike: a pause shown as 3.0 s is not longer than a 3.0 s limit.

The pace (:func:`pace`) is the local rate in sliding windows of *speaking time*: every pause
counts at most :data:`PACE_PAUSE_CAP_S` (1 s) there, its excess is cut out (:func:`pace_cut`,
:class:`SpeakingTime` maps between recording and speaking time), because how long a speaker
stopped is judged by the pause rules, not as slow speech. It also gives the rates of the first
and the last third of that time, which a drift finding quotes
(:func:`speechcoach.analysis.findings.derive`). :func:`deductions` turns rate, pauses and pace into points lost, and 0–100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence, Sized
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from ..settings import Settings

RATE_DECIMALS = 1
"""Decimals a rate (cpm) is reported with in the JSON report, the one value every displayed
rate is rounded from (a tenth of a character a minute is far below what a rate is measured to)."""


STORED_DECIMALS = 3
"""Decimals the JSON report stores pause lengths (s) and the pace cv with (``report._r``): the
value :func:`shown_s` and :func:`shown_cv` round from, so a fresh analysis and a report read
back show and judge the same."""
PAUSE_SHOWN_DECIMALS = 1
"""Decimals a pause length (s) is shown with in findings, ``check``, script marks and charts
(a tenth of a second, the resolution the long-pause limit is written in)."""
CV_SHOWN_DECIMALS = 2
"""Decimals the pace coefficient of variation is shown with (``0.36``), as its limit is written."""


def _half_up(x: float, decimals: int, *, stored: int = STORED_DECIMALS) -> float:
    """``x`` as stored (``stored`` decimals), rounded half up to ``decimals`` decimals in
    decimal arithmetic (3.05 → 3.1, where ``round`` and ``format`` see 3.04999… and give 3.0)."""
    kept = Decimal(repr(round(float(x), stored)))
    return float(kept.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def shown_cpm(cpm: float) -> int:
    """A rate as every report shows it: the reported value, rounded half up to a whole number.

    Parameters
    ----------
    cpm : float
        A rate in characters per minute, exact or as the report stores it (to
        :data:`RATE_DECIMALS` decimals): both give the same result, because the exact value is
        first rounded to the reported one.

    Returns
    -------
    int
        The rate shown (cpm): ``179.46`` → ``179.5`` → ``180``, ``118.5`` → ``119`` (half up,
        like JavaScript's ``Math.round`` on the stored value, not Python's half-to-even).
    """
    return int(_half_up(cpm, 0, stored=RATE_DECIMALS))


def shown_s(seconds: float) -> float:
    """A pause length as every report shows it, and as the long-pause limit judges it.

    Parameters
    ----------
    seconds : float
        A pause length (s), exact or as the report stores it (:data:`STORED_DECIMALS`).

    Returns
    -------
    float
        Seconds to :data:`PAUSE_SHOWN_DECIMALS` decimal, half up: ``3.04`` → ``3.0`` (not
        longer than a 3.0 s limit), ``3.05`` → ``3.1`` (longer).
    """
    return _half_up(seconds, PAUSE_SHOWN_DECIMALS)


def shown_cv(cv: float) -> float:
    """The pace variation (coefficient of variation, dimensionless) as every report shows it,
    and as its limit (``max_cv``) judges it.

    Parameters
    ----------
    cv : float
        The cv, exact or as the report stores it (:data:`STORED_DECIMALS`).

    Returns
    -------
    float
        The stored cv to :data:`CV_SHOWN_DECIMALS` decimals, half up: ``0.364`` → ``0.36``
        (not above a 0.36 limit), ``0.365`` → ``0.37``; ``0.3649`` is stored as ``0.365`` and
        so shown ``0.37``, as a report read back shows it.
    """
    return _half_up(cv, CV_SHOWN_DECIMALS)


def shown_limit(value: float, decimals: int = 0) -> str:
    """A limit from the settings (a band edge or target in cpm, a pause limit in s, a cv limit)
    as the user gave it: at least ``decimals`` decimals, more when the value has them, never
    rounded (a band edge of 139.5 is shown ``139.5``, not ``140``).

    Parameters
    ----------
    value : float
        The limit, in its own unit.
    decimals : int
        Decimals always shown (0 for cpm, 1 for seconds, 2 for the cv).

    Returns
    -------
    str
        ``shown_limit(140)`` → ``"140"``, ``shown_limit(139.5)`` → ``"139.5"``,
        ``shown_limit(3, 1)`` → ``"3.0"``, ``shown_limit(2.55, 1)`` → ``"2.55"``,
        ``shown_limit(0.255, 2)`` → ``"0.255"``.
    """
    v = float(value)
    text = f"{v:.{decimals}f}"
    if not math.isfinite(v) or float(text) == v:
        return text
    short = f"{v:.12g}"  # as written in a rubric or on the command line, without binary noise
    return short if "e" not in short else repr(v)


def is_long_pause(duration_s: float, max_pause_s: float) -> bool:
    """Whether a pause of ``duration_s`` (s) breaks the long-pause limit ``max_pause_s`` (s),
    judged on its shown length (:func:`shown_s`)."""
    return shown_s(duration_s) > max_pause_s


def cv_above(cv: float, max_cv: float) -> bool:
    """Whether the pace variation ``cv`` breaks the limit ``max_cv``, judged on its shown value
    (:func:`shown_cv`)."""
    return shown_cv(cv) > max_cv


PACE_PAUSE_CAP_S = 1.0
"""Seconds of each pause that the pace's time axis keeps (:func:`pace_cut`). A pause at a
sentence end of about a second belongs to a steady delivery (the guidance asks for half a
second to a second at every full stop and between steps), so up to this much a pause counts as
part of the talking, as in the speaking rate; what a pause lasts beyond it is not how fast the
person talks but how long they stopped, which the pause rules judge (the long-pause limit,
``max_pause_s``, 3 s by default). Cutting only the excess keeps the pace continuous in a
pause's length: a 2.9 s and a 3.1 s pause both count as 1 s."""


@dataclass(frozen=True)
class Rate:
    """Speaking rate.

    Attributes
    ----------
    cpm : float
        Characters ÷ speech span × 60.
    articulation_cpm : float
        Characters ÷ (span − pauses) × 60: how fast the speaker talks while talking.
    verdict : str
        ``"slow"``, ``"on_target"`` or ``"fast"`` against the settings' band (cpm), judged on
        the rate shown (:func:`verdict`).
    """

    cpm: float
    articulation_cpm: float
    verdict: str


@dataclass(frozen=True)
class Window:
    """One window of the pace series: ``start_s``/``end_s`` in recording time (s), ``cpm`` its
    local rate (characters per minute of the window's speaking time)."""

    start_s: float
    end_s: float
    cpm: float


@dataclass(frozen=True)
class Pace:
    """Local rate over sliding windows.

    Attributes
    ----------
    window_s : float
        Window length in seconds (shorter when the speech is shorter).
    series : tuple of Window
        Local rates in cpm, windows ``hop_s`` apart, covering the whole span.
    cv : float
        Coefficient of variation of the local rates (0 = perfectly even).
    trend_cpm_per_min : float
        Least-squares slope of local rate against speaking time (cpm per minute): positive
        when the speaker speeds up. A fitted line, for charts; findings quote the thirds.
    first_third_cpm, last_third_cpm : float
        Rates (cpm) of the first and the last third of the speaking time, counted directly
        from the characters' times: the measured values a drift finding quotes.
    middle_third_cpm : float
        Rate (cpm) of the middle third, likewise: a drift is named only when it lies between
        the other two (a speaker who slows in the middle and picks up again is uneven, not
        slowing down).
    speaking_s : float
        Length (s) of the time axis the windows slide over: the speech span less what
        :func:`pace` cut out of it (every pause's excess over :data:`PACE_PAUSE_CAP_S`). The
        speech a drift is judged over (:func:`speechcoach.analysis.findings.drift_judged`); 0 when
        unknown (a report from before it was stored).
    """

    window_s: float
    series: tuple[Window, ...]
    cv: float
    trend_cpm_per_min: float
    first_third_cpm: float = 0.0
    last_third_cpm: float = 0.0
    speaking_s: float = 0.0
    middle_third_cpm: float = 0.0

    @property
    def mean_cpm(self) -> float:
        """Mean of the local rates (cpm); the centre of the trend line."""
        return float(np.mean([w.cpm for w in self.series]))

    @property
    def fastest(self) -> Window:
        """The window with the highest local rate (cpm)."""
        return max(self.series, key=lambda w: w.cpm)

    @property
    def slowest(self) -> Window:
        """The window with the lowest local rate (cpm)."""
        return min(self.series, key=lambda w: w.cpm)


def pace_cut(pauses: Sequence[tuple[float, float]], cap_s: float = PACE_PAUSE_CAP_S) -> np.ndarray:
    """The stretches the pace's time axis leaves out: every pause's excess over ``cap_s``.

    Parameters
    ----------
    pauses : sequence of (start_s, end_s)
        The pauses inside the speech span (s).
    cap_s : float
        Seconds of each pause kept in the axis (:data:`PACE_PAUSE_CAP_S`).

    Returns
    -------
    np.ndarray, shape (k, 2)
        ``[start_s + cap_s, end_s]`` (s) of each pause longer than ``cap_s``: pass as
        :func:`pace`'s ``cut``.
    """
    p = np.asarray(pauses, dtype=float).reshape(-1, 2)
    p = p[p[:, 1] - p[:, 0] > cap_s]
    return np.column_stack([p[:, 0] + cap_s, p[:, 1]])


def several_windows(series: Sized) -> bool:
    """Whether the pace has more than one window: only then has it a spread (cv), a fastest and a
    slowest window and a trend worth showing (one window is too short to judge the pace)."""
    return len(series) > 1


def verdict(cpm: float, band: tuple[float, float]) -> str:
    """``"slow"`` below the band, ``"fast"`` above it, else ``"on_target"`` (ends included).

    Judged on the rate the trainee sees, :func:`shown_cpm`: 140.4 cpm is shown as 140 and is
    inside a 100–140 band, 140.5 is shown as 141 and is above it.
    """
    lo, hi = band
    shown = shown_cpm(cpm)
    return "slow" if shown < lo else "fast" if shown > hi else "on_target"


def speaking_rate(n_chars: int, span_s: float, pause_s: float, *, band: tuple[float, float]) -> Rate:
    """Rates of ``n_chars`` characters spoken over ``span_s`` seconds with ``pause_s`` of pauses.

    Parameters
    ----------
    n_chars : int
        Spoken characters (script, recogniser or estimate).
    span_s : float
        The speech span (s), first onset to last offset, pauses included.
    pause_s : float
        Total length of the pauses inside it (s).
    band : (float, float), keyword-only
        The moderate band (cpm) the verdict is taken against.

    Returns
    -------
    Rate
        ``cpm`` and ``articulation_cpm`` in characters per minute, and the verdict.
    """
    cpm = 60.0 * n_chars / span_s if span_s > 0 else 0.0
    talking = max(span_s - pause_s, 1e-6)
    return Rate(cpm=cpm, articulation_cpm=60.0 * n_chars / talking, verdict=verdict(cpm, band))


def windowed_sums(event_times: np.ndarray, weight: float | np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Summed weight of the events inside each ``[start, end]`` interval (ends included), shape (k,).

    ``weight`` is one value for every event or one per event (shape of ``event_times``).
    """
    t = np.asarray(event_times, dtype=float).ravel()
    wts = np.broadcast_to(np.asarray(weight, dtype=float), t.shape)
    order = np.argsort(t, kind="stable")
    t = t[order]
    cum = np.concatenate([[0.0], np.cumsum(wts[order])])
    return cum[np.searchsorted(t, ends, side="right")] - cum[np.searchsorted(t, starts, side="left")]


def pace(
    event_times: np.ndarray,
    start_s: float,
    end_s: float,
    *,
    weight: float | np.ndarray = 1.0,
    window_s: float = 8.0,
    hop_s: float = 2.0,
    cut: np.ndarray | Sequence[tuple[float, float]] = (),
) -> Pace:
    """Local rate over sliding windows of speaking time.

    Pace describes how fast the person talks, so the stretches in ``cut`` are taken out of the
    time axis: the pipeline passes every pause's excess over :data:`PACE_PAUSE_CAP_S`
    (:func:`pace_cut`), so a pause counts at most about a second, however long it lasts (what
    it lasts beyond is judged by the pause rules). The windows slide over the speech with those
    stretches removed, each holds ``window_s`` of that time, and its edges are mapped back to
    the recording's time for display (a window across a shortened pause spans all of it).
    Without ``cut`` the axis is the recording's own.

    Parameters
    ----------
    event_times : np.ndarray, shape (n,)
        Times in seconds of syllables (aligned characters, or syllable nuclei).
    start_s, end_s : float
        The speech span (s).
    weight : float or np.ndarray of shape (n,), keyword-only
        Characters per event, one for all or one each: syllable nuclei weigh the characters
        they stand for (:func:`speechcoach.analysis.syllables.nucleus_weights`, scaled to the count).
    window_s, hop_s : float, keyword-only
        Window length and hop in seconds of speaking time.
    cut : array-like of shape (k, 2), keyword-only
        ``[start_s, end_s]`` (s) of the stretches to leave out of the time axis.

    Returns
    -------
    Pace
        Windows in the recording's time (s), rates in cpm; the cv and the trend (cpm per
        minute of speaking time) are taken over the windows; ``speaking_s`` is the axis's
        length (s).
    """
    axis = SpeakingTime(start_s, end_s, cut)
    span = axis.length_s
    w = min(window_s, span)
    n_steps = int(np.floor((span - w) / hop_s + 1e-9)) + 1
    starts = hop_s * np.arange(n_steps)
    if starts[-1] + w < span - 1e-6:  # make the last window end with the speech
        starts = np.append(starts, span - w)
    ends = starts + w
    squeezed = axis.squeeze(event_times)
    rates = windowed_sums(squeezed, weight, starts, ends) / w * 60.0
    mean = float(np.mean(rates))
    cv = float(np.std(rates) / mean) if mean > 0 and len(rates) > 1 else 0.0
    centres = (starts + ends) / 2
    trend = float(np.polyfit(centres / 60.0, rates, 1)[0]) if len(rates) > 2 else 0.0
    third = span / 3.0
    first, middle, last = windowed_sums(squeezed, weight, np.array([0.0, third, span - third]), np.array([third, span - third, span])) / third * 60.0
    real_starts, real_ends = axis.unsqueeze(starts, after_cut=True), axis.unsqueeze(ends, after_cut=False)
    series = tuple(Window(float(a), float(b), float(r)) for a, b, r in zip(real_starts, real_ends, rates))
    return Pace(
        window_s=float(w),
        series=series,
        cv=cv,
        trend_cpm_per_min=trend,
        first_third_cpm=float(first),
        last_third_cpm=float(last),
        speaking_s=float(span),
        middle_third_cpm=float(middle),
    )


class SpeakingTime:
    """The speech span with some pauses taken out: recording time ↔ speaking time (s).

    Parameters
    ----------
    start_s, end_s : float
        The speech span (s); speaking time 0 is ``start_s``.
    cut : array-like of shape (k, 2)
        ``[start_s, end_s]`` of the stretches to remove; parts outside the span are ignored.
    """

    def __init__(self, start_s: float, end_s: float, cut: np.ndarray | Sequence[tuple[float, float]] = ()) -> None:
        c = np.asarray(cut, dtype=float).reshape(-1, 2)
        c = np.clip(c, start_s, end_s)
        c = c[c[:, 1] > c[:, 0]]
        self.start_s = float(start_s)
        self.cut = c[np.argsort(c[:, 0])]
        self.length_s = float(end_s - start_s - np.sum(self.cut[:, 1] - self.cut[:, 0]))
        self._at = self.squeeze(self.cut[:, 0])  # where each cut sits in speaking time

    def squeeze(self, t: np.ndarray | float) -> np.ndarray:
        """Recording time (s) → speaking time (s); a time inside a removed pause goes to its start."""
        t = np.asarray(t, dtype=float)
        out = t - self.start_s
        for a, b in self.cut:
            out = out - np.clip(t - a, 0.0, b - a)
        return out

    def unsqueeze(self, c: np.ndarray, *, after_cut: bool) -> np.ndarray:
        """Speaking time (s) → recording time (s); at a removed pause, its end when ``after_cut``
        (a window starting there starts when speech resumes), else its start."""
        c = np.asarray(c, dtype=float)
        out = c + self.start_s
        for at, (a, b) in zip(self._at, self.cut):
            past = c > at + 1e-9 if not after_cut else c >= at - 1e-9
            out = out + np.where(past, b - a, 0.0)
        return out


RATE_POINT_CPM = 2.0
"""Characters per minute outside the band that cost one point of the score; every started step
counts, so a rate shown even 1 cpm (or half of one, for a fractional band edge) outside the
band costs a point and never scores 100."""


def deductions(
    rate: Rate,
    pace_: Pace,
    *,
    settings: Settings,
    n_long_pauses: int,
    n_mid_phrase: int,
    n_long_runs: int,
    no_pauses: bool,
) -> Deductions:
    """The points the overall mark loses, by rule: the mark is 100 minus their sum, clipped to 0–100
    (:attr:`Deductions.score`). Whole points each, so that a report can show the sum.

    - Rate: one point per started :data:`RATE_POINT_CPM` (2 cpm) the rate (as shown,
      :func:`shown_cpm`) lies outside the band, so any rate outside it costs at least a point
      (119 against a band ending at 118: 1 point), with no cap, so the mark keeps falling as
      the rate moves away from the band until it reaches 0 (at 200 cpm outside, whatever the
      rest).
    - Pauses: at most 25 points: 12 for no pause at all, 4 per over-long pause (at most 8),
      4 per mid-phrase pause (at most 12), 3 per long run without a pause (at most 9).
    - Pace: at most 25 points: none up to half the cv limit (``settings.max_cv``), all 25 from
      twice it, linearly between (rounded half up to a whole point), on the cv as shown
      (:func:`shown_cv`).

    Parameters
    ----------
    rate : Rate
        The speaking rate (cpm); only ``rate.cpm`` counts, as shown.
    pace_ : Pace
        The pace; only its cv (dimensionless), as shown.
    settings : Settings, keyword-only
        The band (cpm) and the cv limit.
    n_long_pauses, n_mid_phrase, n_long_runs : int, keyword-only
        Pauses over ``max_pause_s`` (judged on their shown length, :func:`is_long_pause`), pauses in the middle of a phrase (placed by the script:
        the caller passes 0 when they were only guessed from the sound, ``pause_method``
        ``"acoustic"``, which precise mode's placement is too), speech runs over
        ``max_run_chars`` characters.
    no_pauses : bool, keyword-only
        No pause at all in a long stretch of speech.

    Returns
    -------
    Deductions
    """
    lo, hi = settings.band
    shown = shown_cpm(rate.cpm)
    rate_loss = math.ceil(max(lo - shown, shown - hi, 0.0) / RATE_POINT_CPM)  # a started step costs a point
    pause_loss = (12 if no_pauses else 0) + min(8, 4 * n_long_pauses) + min(12, 4 * n_mid_phrase) + min(9, 3 * n_long_runs)
    lo_cv, hi_cv = settings.max_cv / 2, settings.max_cv * 2
    pace_share = float(np.clip((shown_cv(pace_.cv) - lo_cv) / (hi_cv - lo_cv), 0.0, 1.0))
    return Deductions(rate=int(rate_loss), pauses=min(pause_loss, 25), pace=math.floor(25.0 * pace_share + 0.5))


@dataclass(frozen=True)
class Deductions:
    """Points the overall mark loses for the rate, the pauses and the pace (:func:`deductions`)."""

    rate: int
    pauses: int
    pace: int

    @property
    def score(self) -> int:
        """The mark: 100 minus the deductions, clipped to 0–100."""
        return max(0, min(100, 100 - self.rate - self.pauses - self.pace))

    def to_dict(self) -> dict[str, int]:
        return {"rate": self.rate, "pauses": self.pauses, "pace": self.pace}

