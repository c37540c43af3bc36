"""Exports for audio tools: a Praat TextGrid and an Audacity label track.

Both writers are pure functions from the report dictionary to text; the command line writes the
text with :func:`speechcoach.fileio.write_atomic`. Neither reads audio.

TextGrid tiers
--------------
``speech`` (interval tier)
    Covers 0..duration without gaps: ``silence`` before the first and after the last speech,
    ``speech`` between pauses and ``pause`` for each pause of the report (``pause:<placement>``
    when its placement is known). Pause intervals are exactly the report's pauses.
``nuclei`` (point tier)
    One point per detected syllable nucleus (``report["nuclei_s"]``).
``characters`` (interval tier, only when the report has ``alignment.chars``)
    One interval per aligned character, empty intervals in between.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from .words import Words, guessed_placements

MIN_INTERVAL_S = 1e-6
"""Intervals shorter than this are dropped (Praat does not allow empty-width intervals)."""


def _num(x: float) -> str:
    """A time for the TextGrid: up to 6 decimals, no exponent, no trailing zeros."""
    s = f"{float(x):.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def _quote(text: str) -> str:
    """A Praat string literal: double quotes doubled."""
    return '"' + str(text).replace('"', '""') + '"'


Interval = tuple[float, float, str]


def speech_intervals(report: dict[str, Any]) -> list[Interval]:
    """The ``speech`` tier: silence / speech / pause intervals covering 0..duration.

    Parameters
    ----------
    report : dict
        The report (``input.duration_s``, ``speech.start_s``/``end_s``, ``pauses``).

    Returns
    -------
    list of (start_s, end_s, label)
        Contiguous intervals in time order.
    """
    dur = float(report["input"]["duration_s"])
    sp = report["speech"]
    s0 = min(max(float(sp["start_s"]), 0.0), dur)
    s1 = min(max(float(sp["end_s"]), s0), dur)
    pauses = sorted(report.get("pauses") or [], key=lambda p: p["start_s"])
    out: list[Interval] = []
    cursor = 0.0

    def push(a: float, b: float, label: str) -> None:
        nonlocal cursor
        if b - a > MIN_INTERVAL_S:
            out.append((a, b, label))
            cursor = b

    push(0.0, s0, "silence")
    cursor = max(cursor, s0)
    for p in pauses:
        a = max(float(p["start_s"]), cursor)
        b = min(float(p["end_s"]), s1)
        if b - a <= MIN_INTERVAL_S:
            continue
        push(cursor, a, "speech")
        place = p.get("placement") or "unknown"
        push(a, b, "pause" if place == "unknown" else f"pause:{place}")
    push(cursor, s1, "speech")
    cursor = max(cursor, s1)
    push(cursor, dur, "silence")
    if not out:
        out.append((0.0, dur, "silence"))
    return out


def character_intervals(chars: Sequence[dict[str, Any]], duration_s: float) -> list[Interval]:
    """The ``characters`` tier: aligned characters with empty intervals filling the gaps.

    Parameters
    ----------
    chars : sequence of dict
        ``{"char", "start_s", "end_s"}`` in time order; overlaps are clipped.
    duration_s : float
        The recording's length.

    Returns
    -------
    list of (start_s, end_s, label)
        Contiguous intervals covering 0..duration.
    """
    out: list[Interval] = []
    cursor = 0.0
    for c in sorted(chars, key=lambda c: float(c.get("start_s", 0.0))):
        try:
            a, b = float(c["start_s"]), float(c["end_s"])
        except (KeyError, TypeError, ValueError):
            continue
        a, b = max(a, cursor), min(b, duration_s)
        if b - a <= MIN_INTERVAL_S:
            continue
        if a - cursor > MIN_INTERVAL_S:
            out.append((cursor, a, ""))
        out.append((a, b, str(c.get("char", ""))))
        cursor = b
    if duration_s - cursor > MIN_INTERVAL_S:
        out.append((cursor, duration_s, ""))
    return out


def _interval_tier(name: str, xmax: float, intervals: list[Interval], number: int) -> list[str]:
    lines = [
        f"    item [{number}]:",
        '        class = "IntervalTier" ',
        f"        name = {_quote(name)} ",
        "        xmin = 0 ",
        f"        xmax = {_num(xmax)} ",
        f"        intervals: size = {len(intervals)} ",
    ]
    for i, (a, b, label) in enumerate(intervals, 1):
        lines += [
            f"        intervals [{i}]:",
            f"            xmin = {_num(a)} ",
            f"            xmax = {_num(b)} ",
            f"            text = {_quote(label)} ",
        ]
    return lines


def _point_tier(name: str, xmax: float, points: Iterable[tuple[float, str]], number: int) -> list[str]:
    pts = list(points)
    lines = [
        f"    item [{number}]:",
        '        class = "TextTier" ',
        f"        name = {_quote(name)} ",
        "        xmin = 0 ",
        f"        xmax = {_num(xmax)} ",
        f"        points: size = {len(pts)} ",
    ]
    for i, (t, mark) in enumerate(pts, 1):
        lines += [f"        points [{i}]:", f"            number = {_num(t)} ", f"            mark = {_quote(mark)} "]
    return lines


def textgrid(report: dict[str, Any]) -> str:
    """The report as a Praat TextGrid in the long text format.

    Parameters
    ----------
    report : dict
        A report from :func:`speechcoach.render.report.to_dict` (or read back from its JSON).

    Returns
    -------
    str
        The TextGrid text (write it as UTF-8).
    """
    dur = float(report["input"]["duration_s"])
    tiers: list[list[str]] = []
    tiers.append(_interval_tier("speech", dur, speech_intervals(report), 1))
    nuclei: list[float] = []
    for t in sorted(float(x) for x in report.get("nuclei_s") or []):
        if 0.0 <= t <= dur and (not nuclei or t - nuclei[-1] > MIN_INTERVAL_S):
            nuclei.append(t)
    tiers.append(_point_tier("nuclei", dur, ((t, "") for t in nuclei), 2))
    alignment = report.get("alignment")
    chars = alignment.get("chars") if isinstance(alignment, dict) else None
    if chars:
        tiers.append(_interval_tier("characters", dur, character_intervals(chars, dur), 3))
    head = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        f"xmax = {_num(dur)} ",
        "tiers? <exists> ",
        f"size = {len(tiers)} ",
        "item []: ",
    ]
    return "\n".join(head + [line for tier in tiers for line in tier]) + "\n"


def audacity_labels(report: dict[str, Any]) -> str:
    """Pauses and findings as an Audacity label track (``start<TAB>end<TAB>label`` lines).

    Pause labels give the length and, when known, the placement; finding labels give the
    severity and message, one label per time span of the finding's evidence (a finding with no
    time span is left out). Labels are in the report's language.

    Parameters
    ----------
    report : dict
        A report from :func:`speechcoach.render.report.to_dict` (or read back from its JSON).

    Returns
    -------
    str
        The label file text (UTF-8), sorted by start time.
    """
    w = Words(report.get("lang", "zh"))
    rows: list[tuple[float, float, str]] = []
    for p in report.get("pauses") or []:
        rows.append((float(p["start_s"]), float(p["end_s"]), w.pause_label(p["duration_s"], p.get("placement") or "unknown", guessed_placements(report))))
    for f in report.get("findings") or []:
        spans = (f.get("evidence") or {}).get("spans") or []
        if not spans and f.get("start_s") is not None:
            spans = [[f["start_s"], f["start_s"]]]
        label = f"[{w.severity(f.get('severity', 'info'))}] {f['message']}"
        for span in spans:
            try:
                a, b = float(span[0]), float(span[1])
            except (TypeError, ValueError, IndexError):
                continue
            rows.append((a, max(a, b), label))
    rows.sort(key=lambda r: (r[0], r[1]))
    return "".join(f"{a:.6f}\t{b:.6f}\t{' '.join(label.split())}\n" for a, b, label in rows)
