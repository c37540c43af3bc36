"""From measurements to findings, each pointing to an item of the guidance catalogue.

A :class:`Finding` is language-neutral: an id, a severity, the guidance item, the numbers for
its message, and evidence (values and time spans). The report renders the message in the
chosen language from ``locales/*.toml``.

:func:`derive` makes the delivery findings: the rate against the band (judged on the rate shown,
:func:`speechcoach.analysis.metrics.shown_cpm`), fast articulation, no pauses, over-long pauses (on their
shown length), mid-phrase pauses (``mid_phrase_possible`` when only guessed from the sound),
long runs without a pause, uneven pace (on the cv shown) and a drift: the rates of the first and
the last third of the speaking time compared, relative to the mean rate, with the band's
half-width relative to the target, only when :func:`drift_judged` (30 s or more of speaking
time, :data:`TREND_MIN_SPAN_S`) and the middle third lies between them (else the pace dipped or
peaked, which the uneven-pace rule judges). :func:`placement_findings` adds the pauses the script called
for and did not get; :func:`precise_findings` the fillers, jargon and passages left out or added
(precise mode, or jargon in the script); :func:`merge_findings` sorts them by severity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..locales import fmt_span, fmt_time
from .metrics import Pace, Rate, Window, cv_above, is_long_pause, several_windows, shown_cpm, shown_cv, shown_limit, shown_s, windowed_sums
from .placement import Gap, Pause
from ..settings import Settings

SEVERITIES = ("problem", "warning", "info")

NO_PAUSE_SPAN_S = 15.0
"""Speech longer than this (s, the speech span) without any pause is flagged."""

ARTICULATION_FACTOR = 1.35
"""Flag fast talking between pauses when the articulation rate exceeds the band's top by this factor."""

TREND_MIN_SPAN_S = 30.0
"""A drift in pace is looked for, and a trend shown, only over at least this much speaking time
(s, :attr:`speechcoach.analysis.metrics.Pace.speaking_s`: each pause counted at most 1 s)."""


@dataclass(frozen=True)
class Finding:
    """One observation about the recording.

    Attributes
    ----------
    id : str
        Stable identifier (``rate_fast``, ``mid_phrase``, …); also the message key.
    severity : str
        ``"info"``, ``"warning"`` or ``"problem"``.
    guidance : str
        Id of the guidance item it concerns.
    params : dict
        Values for the message template.
    evidence : dict
        Numbers and time spans (``spans``: list of ``[start_s, end_s]``) backing the finding.
    """

    id: str
    severity: str
    guidance: str
    params: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def start_s(self) -> float | None:
        """Start (s) of the first evidence span: where the report plays the finding from; None without spans."""
        spans = self.evidence.get("spans") or []
        return float(spans[0][0]) if spans else None


def _span(w: Window) -> str:
    """A pace window as the report names it, ``0:10.5–0:18.5``: the chart draws each window at
    its middle, so its start alone would point at a neighbouring point of the chart."""
    return fmt_span(w.start_s, w.end_s)


def run_lengths(run_times: np.ndarray, event_times: np.ndarray, weight: float | np.ndarray) -> np.ndarray:
    """Characters in each speech run (between pauses), shape (k,); ``weight``: characters per
    event, one for all or one each (see :func:`speechcoach.analysis.metrics.windowed_sums`)."""
    return np.rint(windowed_sums(event_times, weight, run_times[:, 0], run_times[:, 1])).astype(int)


def drift_judged(speaking_s: float) -> bool:
    """Whether a recording has enough speech (:data:`TREND_MIN_SPAN_S`) for its pace drift to be
    judged, and so for a trend to be shown at all: over a shorter stretch a slope per minute is
    an extrapolation, not a measurement.

    Parameters
    ----------
    speaking_s : float
        Length of the pace's time axis (s), :attr:`speechcoach.analysis.metrics.Pace.speaking_s`: the
        speech span less what each pause lasts beyond
        :data:`~speechcoach.analysis.metrics.PACE_PAUSE_CAP_S`, the time the trend is fitted over (a long
        pause adds no speech). :func:`speaking_s` reads it from a report.
    """
    return speaking_s >= TREND_MIN_SPAN_S


def speaking_s(report: dict[str, Any]) -> float:
    """The pace's speaking time (s) of a report (``pace.speaking_s``); for a report stored before
    that key existed, its speech span (``speech.span_s``)."""
    value = report.get("pace", {}).get("speaking_s")
    return float(value) if value else float(report["speech"]["span_s"])


def placement_findings(missed_breaks: tuple[Gap, ...], missed_steps: tuple[Gap, ...]) -> tuple[Finding, ...]:
    """Findings for pauses the script called for and the speaker did not make.

    Parameters
    ----------
    missed_breaks : tuple of Gap
        Sentence ends with no pause (``missed_breaks``, guidance ``pauses``).
    missed_steps : tuple of Gap
        Joins between the steps of a procedure with no pause (``procedure_steps``).

    Returns
    -------
    tuple of Finding
        Pass as ``extra`` to :func:`derive`.
    """
    out = []
    for fid, gaps in (("missed_breaks", missed_breaks), ("procedure_steps", missed_steps)):
        if gaps:
            out.append(
                Finding(
                    fid,
                    "warning",
                    "pauses",
                    dict(n=len(gaps), example=gaps[0].context),
                    {
                        "spans": [[round(g.time_s, 3), round(g.time_s, 3)] for g in gaps],
                        "char_index": [g.char_index for g in gaps],
                    },
                )
            )
    return tuple(out)


def derive(
    *,
    rate: Rate,
    pace: Pace,
    pauses: tuple[Pause, ...],
    runs: np.ndarray,
    run_chars: np.ndarray,
    span_s: float,
    settings: Settings,
    extra: tuple[Finding, ...] = (),
    pause_method: str = "script",
) -> tuple[Finding, ...]:
    """All findings for one recording, most important first.

    ``rate`` (cpm), ``pace`` (windows and thirds in cpm, ``speaking_s``), ``pauses`` (s),
    ``runs`` (``[start_s, end_s]`` rows), ``run_chars`` (characters per run) and ``span_s`` (the
    speech span, s) are the pipeline's measurements; ``settings`` gives the limits; ``extra``
    (from :func:`placement_findings`) is inserted after the pause findings.

    ``pause_method`` is how the pauses were placed (:class:`speechcoach.analysis.placement.Placed`):
    from the sound alone (``"acoustic"``), a mid-phrase pause is a guess (a pause after a very
    short stretch of speech), reported as ``mid_phrase_possible``, a note (a warning over the
    limit), instead of ``mid_phrase``.
    """
    s = settings
    return _by_severity(
        [
            *_rate(rate, s),
            *_articulation(rate, s),
            *_no_pauses(pauses, runs, span_s, s),
            *_long_pauses(pauses, s),
            *_mid_phrase(pauses, s, pause_method),
            *extra,
            *_long_runs(runs, run_chars, s),
            *_uneven_pace(pace, s),
            *_drift(pace, span_s, s),
        ]
    )


# Each function below makes one kind of finding for derive, as a list (empty when there is none).
# Every number a message quotes is the one the report shows (metrics.shown_cpm, shown_s, …).


def _rate(rate: Rate, s: Settings) -> list[Finding]:
    """``rate_fast``, ``rate_slow`` or ``rate_on_target``: the rate shown against the band (always one)."""
    lo, hi = s.band
    evidence = {"cpm": round(rate.cpm, 1), "band_cpm": [lo, hi], "target_cpm": s.target_cpm}
    cpm = shown_cpm(rate.cpm)
    given = dict(lo=shown_limit(lo), hi=shown_limit(hi), target=shown_limit(s.target_cpm))  # the settings as given: 139.5 stays 139.5
    if rate.verdict == "fast":
        pct = 100.0 * (cpm / s.target_cpm - 1)
        sev = "problem" if cpm > hi * 1.3 else "warning"
        return [Finding("rate_fast", sev, "pace", dict(cpm=cpm, pct=pct, **given), evidence)]
    if rate.verdict == "slow":
        pct = 100.0 * (1 - cpm / s.target_cpm)
        sev = "problem" if cpm < lo * 0.75 else "warning"
        return [Finding("rate_slow", sev, "pace", dict(cpm=cpm, pct=pct, **given), evidence)]
    return [Finding("rate_on_target", "info", "pace", dict(cpm=cpm, **given), evidence)]


def _articulation(rate: Rate, s: Settings) -> list[Finding]:
    """``articulation_fast``: fast talking between pauses (:data:`ARTICULATION_FACTOR` above the
    band's top) when the overall rate is not already too fast."""
    if rate.verdict == "fast" or not rate.articulation_cpm > s.band[1] * ARTICULATION_FACTOR:
        return []
    return [
        Finding(
            "articulation_fast",
            "warning",
            "pace",
            dict(articulation=shown_cpm(rate.articulation_cpm)),
            {"articulation_cpm": round(rate.articulation_cpm, 1)},
        )
    ]


def _no_pauses(pauses: tuple[Pause, ...], runs: np.ndarray, span_s: float, s: Settings) -> list[Finding]:
    """``no_pauses``: more than :data:`NO_PAUSE_SPAN_S` of speech without a single pause."""
    if pauses or not span_s > NO_PAUSE_SPAN_S:
        return []
    return [
        Finding(
            "no_pauses",
            "problem",
            "pauses",
            dict(span=span_s, min_pause=s.min_pause_s),
            {"span_s": round(span_s, 2), "spans": [[runs[0, 0], runs[-1, 1]]]},
        )
    ]


def _long_pauses(pauses: tuple[Pause, ...], s: Settings) -> list[Finding]:
    """``long_pauses``: pauses over the limit, judged on the length shown."""
    long_ = [p for p in pauses if is_long_pause(p.duration_s, s.max_pause_s)]
    if not long_:
        return []
    longest = max(long_, key=lambda p: p.duration_s)
    return [
        Finding(
            "long_pauses",
            "warning",
            "pauses",
            dict(n=len(long_), limit=shown_limit(s.max_pause_s, 1), longest=shown_s(longest.duration_s), at=fmt_time(longest.start_s)),
            {"spans": [[round(p.start_s, 3), round(p.end_s, 3)] for p in long_]},
        )
    ]


def _mid_phrase(pauses: tuple[Pause, ...], s: Settings, pause_method: str) -> list[Finding]:
    """``mid_phrase``, or ``mid_phrase_possible`` (milder) when the pauses were placed from the
    sound alone (``pause_method == "acoustic"``): then they are possibly hesitations."""
    mid = [p for p in pauses if p.placement == "mid_phrase"]
    if not mid:
        return []
    evidence = {"spans": [[round(p.start_s, 3), round(p.end_s, 3)] for p in mid], "limit": s.max_mid_phrase}
    over = len(mid) > s.max_mid_phrase
    if pause_method == "acoustic":
        return [Finding("mid_phrase_possible", "warning" if over else "info", "pauses", dict(n=len(mid), example=fmt_time(mid[0].start_s)), evidence)]
    example = mid[0].context or fmt_time(mid[0].start_s)
    return [Finding("mid_phrase", "problem" if over else "warning", "pauses", dict(n=len(mid), example=example), evidence)]


def _long_runs(runs: np.ndarray, run_chars: np.ndarray, s: Settings) -> list[Finding]:
    """``long_runs``: runs of speech (between pauses) of more than ``max_run_chars`` characters;
    the longest first, the one the message names and the report plays."""
    long_runs = np.flatnonzero(run_chars > s.max_run_chars)
    if not len(long_runs):
        return []
    k = int(long_runs[np.argmax(run_chars[long_runs])])
    long_runs = np.concatenate([[k], long_runs[long_runs != k]])
    return [
        Finding(
            "long_runs",
            "warning",
            "short_sentences",
            dict(n=len(long_runs), limit=s.max_run_chars, longest=int(run_chars[k]), at=fmt_time(runs[k, 0])),
            {
                "spans": [[round(float(runs[i, 0]), 3), round(float(runs[i, 1]), 3)] for i in long_runs],
                "chars": [int(run_chars[i]) for i in long_runs],
            },
        )
    ]


def _uneven_pace(pace: Pace, s: Settings) -> list[Finding]:
    """``pace_uneven``: the pace windows' cv (as shown) over the limit, naming the fastest and
    the slowest window."""
    if not (several_windows(pace.series) and cv_above(pace.cv, s.max_cv)):
        return []
    f, w = pace.fastest, pace.slowest
    return [
        Finding(
            "pace_uneven",
            "warning",
            "pace",
            dict(cv=shown_cv(pace.cv), fast_at=_span(f), fast=shown_cpm(f.cpm), slow_at=_span(w), slow=shown_cpm(w.cpm)),
            {"cv": round(pace.cv, 3), "spans": [[round(f.start_s, 2), round(f.end_s, 2)], [round(w.start_s, 2), round(w.end_s, 2)]]},
        )
    ]


def _drift(pace: Pace, span_s: float, s: Settings) -> list[Finding]:
    """``pace_speeds_up`` or ``pace_slows_down``.

    A drift is judged on what the finding quotes: the rates of the first and the last third of
    the speaking time, counted from the characters' times ("about 92 in the first third, about
    190 in the last"), their difference relative to the mean rate against the band's half-width
    relative to the target (20/120 = 17% for 100-140: a change that carries a speaker from the
    band's middle to its edge) for a note, twice that for a warning. Relative, because a rate
    without a script errs in proportion to the rate; by the measured change rather than a
    fitted slope per minute, which extrapolates beyond a short recording. Only over
    :data:`TREND_MIN_SPAN_S` of speech or more (:func:`drift_judged`, on the pace's speaking time),
    and only when the middle third's rate lies between the two, as shown (whole cpm): "越讲越慢"
    about a speaker who was slowest in the middle (218, 150, 171) would be false.
    """
    step = (s.band_hi_cpm - s.band_lo_cpm) / (2.0 * s.target_cpm)
    first, middle, last = pace.first_third_cpm, pace.middle_third_cpm, pace.last_third_cpm
    change = abs(last - first) / max(pace.mean_cpm, 1e-9)
    if not (drift_judged(pace.speaking_s or span_s) and several_windows(pace.series) and change >= step):
        return []
    if not min(shown_cpm(first), shown_cpm(last)) <= shown_cpm(middle) <= max(shown_cpm(first), shown_cpm(last)):
        return []  # not a drift: a dip or a peak in the middle
    return [
        Finding(
            "pace_speeds_up" if last > first else "pace_slows_down",
            "info" if change < 2 * step else "warning",
            "pace",
            dict(first=shown_cpm(first), last=shown_cpm(last)),
            {
                "first_last_third_cpm": [round(first, 1), round(last, 1)],
                "middle_third_cpm": round(middle, 1),
                "trend_cpm_per_min": round(pace.trend_cpm_per_min, 1),
            },
        )
    ]


def _by_severity(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """``findings`` sorted most severe first (:data:`SEVERITIES`), stable within a severity."""
    order = {sev: i for i, sev in enumerate(SEVERITIES)}
    return tuple(sorted(findings, key=lambda f: order[f.severity]))


# --- precise mode (speech recogniser): fillers, jargon, passages left out or added -------------
FILLER_PROBLEM_FACTOR = 2.0
"""Fillers per minute above this multiple of the limit make the finding a problem."""
FILLER_MIN_SPEECH_S = 30.0
"""A filler rate is judged over at least this much speech (s, pauses excluded), or from
:data:`FILLER_MIN_COUNT` fillers: one "那" in a 4-second clip is not "about 14 a minute" (a rate
over a few seconds extrapolates a single word). 30 s is also the least speech a drift is judged
over (:data:`TREND_MIN_SPAN_S`)."""
FILLER_MIN_COUNT = 3
"""Fillers enough to judge their rate over any length of speech (:data:`FILLER_MIN_SPEECH_S`):
three in a short answer are a habit worth naming, one or two may be chance."""


def precise_findings(
    *,
    fillers: tuple[Any, ...] = (),
    speech_s: float = 0.0,
    max_fillers_per_minute: float | None = None,
    jargon: tuple[Any, ...] = (),
    passages: tuple[Any, ...] = (),
) -> tuple[Finding, ...]:
    """Findings from the transcript and the script: fillers, policy jargon, skipped/added passages.

    Parameters
    ----------
    fillers : tuple of speechcoach.precise.fillers.Filler, keyword-only
    speech_s : float, keyword-only
        Speech time (pauses excluded) the filler rate is taken over.
    max_fillers_per_minute : float, keyword-only, optional
        Limit (default: ``guidance/fillers.toml``).
    jargon : tuple of speechcoach.precise.jargon.JargonUse, keyword-only
    passages : tuple of speechcoach.precise.asr.Passage, keyword-only

    Returns
    -------
    tuple of Finding
        Pass to :func:`merge_findings`.
    """
    return (
        *_fillers(fillers, speech_s, max_fillers_per_minute),
        *_jargon_heard(jargon),
        *_jargon_in_script(jargon),
        *_passages(passages, "skipped"),
        *_passages(passages, "added"),
    )


# Each function below makes one kind of finding for precise_findings, as a list (empty when there is none).


def _fillers(fillers: tuple[Any, ...], speech_s: float, max_per_minute: float | None) -> list[Finding]:
    """``fillers``: more fillers per minute of speech than the limit (a problem from
    :data:`FILLER_PROBLEM_FACTOR` times it), judged only over :data:`FILLER_MIN_SPEECH_S` of
    speech or from :data:`FILLER_MIN_COUNT` fillers."""
    if not (fillers and speech_s > 0):
        return []
    if speech_s < FILLER_MIN_SPEECH_S and len(fillers) < FILLER_MIN_COUNT:  # too little to make a rate of
        return []
    if max_per_minute is None:
        from ..precise.fillers import rules

        max_per_minute = rules().max_per_minute
    per_min = 60.0 * len(fillers) / speech_s
    if not per_min > max_per_minute:
        return []
    sev = "problem" if per_min > FILLER_PROBLEM_FACTOR * max_per_minute else "warning"
    return [
        Finding(
            "fillers",
            sev,
            "fillers",
            dict(n=len(fillers), per_min=per_min, limit=max_per_minute, words=_most_used(fillers)),
            {
                "per_minute": round(per_min, 2),
                "spans": [[round(f.start_s, 3), round(f.end_s, 3)] for f in fillers],
                "words": [f.word for f in fillers],
                "kinds": [f.kind for f in fillers],
            },
        )
    ]


def _most_used(fillers: tuple[Any, ...]) -> str:
    """The three most used filler words with their counts, ``就是×3、那个×2``, first used first on a tie."""
    counts: dict[str, int] = {}
    for f in fillers:
        counts[f.word] = counts.get(f.word, 0) + 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    return "、".join(f"{w}×{n}" for w, n in top)


def _jargon_heard(jargon: tuple[Any, ...]) -> list[Finding]:
    """``jargon_heard``: policy terms said in the recording, naming the first one said."""
    heard = [j for j in jargon if j.start_s is not None]
    if not heard:
        return []
    j = heard[0]
    return [
        Finding(
            "jargon_heard",
            "warning",
            "plain_words",
            dict(n=len(heard), term=j.term, plain=j.plain, at=fmt_time(j.start_s)),
            {
                "terms": [u.term for u in heard],
                "plain": [u.plain for u in heard],
                "spans": [[round(u.start_s, 3), round(u.start_s, 3)] for u in heard],
            },
        )
    ]


def _jargon_in_script(jargon: tuple[Any, ...]) -> list[Finding]:
    """``jargon_script``: policy terms only in the script (not heard, or no recogniser), a note."""
    only_script = [j for j in jargon if j.start_s is None]
    if not only_script:
        return []
    j = only_script[0]
    return [
        Finding(
            "jargon_script",
            "info",
            "plain_words",
            dict(n=len(only_script), term=j.term, plain=j.plain),
            {"terms": [u.term for u in only_script], "plain": [u.plain for u in only_script]},
        )
    ]


def _passages(passages: tuple[Any, ...], kind: str) -> list[Finding]:
    """``passages_skipped`` (a warning) or ``passages_added`` (a note) for the passages of ``kind``, quoting the longest."""
    ps = [p for p in passages if p.kind == kind]
    if not ps:
        return []
    longest = max(ps, key=lambda p: len(p.text))
    return [
        Finding(
            "passages_skipped" if kind == "skipped" else "passages_added",
            "warning" if kind == "skipped" else "info",
            "script_coverage",
            dict(n=len(ps), example=longest.text),
            {
                "passages": [p.text for p in ps],
                "char_index": [p.script_index for p in ps],
                "spans": [[round(p.start_s, 3), round(p.end_s if p.end_s is not None else p.start_s, 3)] for p in ps if p.start_s is not None],
            },
        )
    ]


def merge_findings(base: tuple[Finding, ...], extra: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """``base`` and ``extra`` together, most severe first (stable within a severity)."""
    return _by_severity((*base, *extra))
