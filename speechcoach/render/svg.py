"""Hand-written inline SVG charts for the HTML report.

The charts are plain SVG strings: no plotting library, no fonts of their own (labels use the
page's font stack, so Chinese renders with the reader's system fonts), and no script. Charts
that show time carry ``data-t0``/``data-t1`` (the time range) and ``data-x0``/``data-x1`` (the
plot's left and right edge in viewBox units) so the page's script can turn a click into a
position in the recording; elements with ``data-t`` seek to that exact time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any, Sequence

from ..analysis.metrics import shown_cpm
from .words import Words, guessed_placements

PLACEMENT_COLOURS: dict[str, str] = {
    "sentence": "#1f8a70",
    "clause": "#3569c4",
    "mid_phrase": "#d1492e",
    "unknown": "#7a8599",
}
"""Colour of a pause by where it falls in the text (shared with the page's CSS)."""

ZONE_COLOURS = {"slow": "#f3dcae", "on_target": "#bfe3c6", "fast": "#f2bcb3"}
"""Fill of the rate zones: below, inside and above the moderate band."""

VERDICT_INK = {"slow": "#9a6a00", "on_target": "#1f7a3f", "fast": "#b3321c"}
"""Text/marker colour for a rate in each zone."""

WIDTH = 1000.0
"""Width of every chart's viewBox; the page scales it to the column width."""

PLOT_X0 = 56.0
PLOT_X1 = 984.0
"""Left and right edge of the time axis (the same in the timeline and the pace chart)."""

PAUSE_LEAD_IN_S = 1.0
"""Clicking a pause plays from this long before it, so the listener hears what led up to it."""

ENVELOPE_MAX_POINTS = 1200
"""The energy envelope is max-pooled down to at most this many points."""


def _f(x: float) -> str:
    """A coordinate with one decimal, without a trailing ``.0``."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _a(s: object) -> str:
    """Escape text for an attribute value or element content."""
    return escape(str(s), quote=True)


def text_width(s: str, size: float) -> float:
    """Rough rendered width of ``s`` at font size ``size`` (CJK full width, Latin about half)."""
    w = 0.0
    for ch in s:
        w += size if ord(ch) >= 0x2E80 else size * 0.58
    return w


@dataclass(frozen=True)
class TimeAxis:
    """Maps seconds to x in viewBox units.

    Attributes
    ----------
    t0, t1 : float
        The time range shown, in seconds.
    x0, x1 : float
        The plot's left and right edge.
    """

    t0: float
    t1: float
    x0: float = PLOT_X0
    x1: float = PLOT_X1

    def x(self, t: float) -> float:
        """The x coordinate of time ``t`` (clamped to the plot)."""
        span = max(self.t1 - self.t0, 1e-9)
        f = min(max((t - self.t0) / span, 0.0), 1.0)
        return self.x0 + f * (self.x1 - self.x0)

    def svg_attrs(self) -> str:
        """The ``data-*`` attributes the page's script uses to seek from a click."""
        return (
            f'data-t0="{self.t0:.3f}" data-t1="{self.t1:.3f}" '
            f'data-x0="{_f(self.x0)}" data-x1="{_f(self.x1)}"'
        )


def nice_step(span: float, max_ticks: int, steps: Sequence[float]) -> float:
    """The smallest of ``steps`` giving at most ``max_ticks`` intervals over ``span``."""
    for s in steps:
        if span / s <= max_ticks:
            return s
    return steps[-1] * math.ceil(span / (steps[-1] * max_ticks))


def _tick_label(t: float) -> str:
    m, s = divmod(int(round(t)), 60)
    return f"{m}:{s:02d}"


def time_axis_svg(axis: TimeAxis, y: float) -> str:
    """A time axis at height ``y``: ticks and ``m:ss`` labels."""
    step = nice_step(axis.t1 - axis.t0, 12, (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600))
    parts = [f'<line class="axis" x1="{_f(axis.x0)}" x2="{_f(axis.x1)}" y1="{_f(y)}" y2="{_f(y)}"/>']
    t = math.ceil(axis.t0 / step) * step
    while t <= axis.t1 + 1e-9:
        x = axis.x(t)
        parts.append(f'<line class="axis" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(y)}" y2="{_f(y + 5)}"/>')
        label = _tick_label(t) if step >= 1 else f"{t:.1f}"
        parts.append(f'<text class="tick" x="{_f(x)}" y="{_f(y + 19)}" text-anchor="middle">{label}</text>')
        t += step
    return "".join(parts)


def _playhead(y0: float, y1: float) -> str:
    return f'<line class="playhead" x1="{_f(PLOT_X0)}" x2="{_f(PLOT_X0)}" y1="{_f(y0)}" y2="{_f(y1)}" visibility="hidden"/>'


# -- the rate gauge ------------------------------------------------------------------------

def rate_gauge(cpm: float, band: Sequence[float], target: float, verdict: str, words: Words, *, width: float = WIDTH) -> str:
    """A horizontal gauge: the slow / moderate / fast zones, the target and the speaker's rate.

    Parameters
    ----------
    cpm : float
        The measured speaking rate (characters per minute).
    band : (float, float)
        The moderate band.
    target : float
        The target rate.
    verdict : str
        ``slow``, ``on_target`` or ``fast`` (colours the marker).
    words : Words
        Wording in the report's language.
    width : float, keyword-only
        Width of the drawing; below :data:`WIDTH` it is the compact gauge of narrow screens
        (class ``narrow``), whose text stays legible when the drawing is ~300 px wide.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    lo, hi = float(band[0]), float(band[1])
    top = math.ceil(max(hi * 1.5, cpm * 1.12, 200.0) / 20.0) * 20.0
    scale = _Clamped(16.0, width - 16.0, top)
    narrow = " narrow" if width < WIDTH else ""
    parts = [
        f'<svg class="chart gauge{narrow}" viewBox="0 0 {_f(width)} {_f(_GAUGE_H)}" role="img" '
        f'aria-label="{_a(words.labels["rate"])}: {_a(words.cpm(cpm))}, {_a(words.verdict(verdict))}">',
        *_gauge_zones(scale, lo, hi, words),
        *_gauge_numbers(scale, lo, hi, target, words),
        *_gauge_marker(scale, cpm, target, verdict, words),
        "</svg>",
    ]
    return "".join(parts)


_GAUGE_H = 122.0
"""Height of the rate gauge's viewBox."""

_GAUGE_BAR_TOP = 44.0
_GAUGE_BAR_BOTTOM = 68.0
"""Top and bottom of the gauge's bar of zones."""


@dataclass(frozen=True)
class _Clamped:
    """Maps a rate 0–``top`` (chars/min) onto ``start``–``end`` (viewBox units), clamped at both ends."""

    start: float
    end: float
    top: float

    def at(self, v: float) -> float:
        """The coordinate of rate ``v`` (chars/min)."""
        return self.start + min(max(v / self.top, 0.0), 1.0) * (self.end - self.start)


def _gauge_zones(scale: _Clamped, lo: float, hi: float, words: Words) -> list[str]:
    """The slow, moderate and fast zones of the bar, each named under it where the name fits."""
    x, x0, x1 = scale.at, scale.start, scale.end
    by0, by1 = _GAUGE_BAR_TOP, _GAUGE_BAR_BOTTOM
    parts = [
        f'<rect x="{_f(x0)}" y="{_f(by0)}" width="{_f(x(lo) - x0)}" height="{_f(by1 - by0)}" fill="{ZONE_COLOURS["slow"]}" rx="4"/>',
        f'<rect x="{_f(x(hi))}" y="{_f(by0)}" width="{_f(x1 - x(hi))}" height="{_f(by1 - by0)}" fill="{ZONE_COLOURS["fast"]}" rx="4"/>',
        f'<rect x="{_f(x(lo))}" y="{_f(by0)}" width="{_f(x(hi) - x(lo))}" height="{_f(by1 - by0)}" fill="{ZONE_COLOURS["on_target"]}"/>',
    ]
    for key, a, b in (("slow", 0.0, lo), ("on_target", lo, hi), ("fast", hi, scale.top)):
        label = words.verdict(key)
        if text_width(label, 15) < x(b) - x(a) - 8:
            parts.append(f'<text class="zone" x="{_f((x(a) + x(b)) / 2)}" y="{_f(by1 + 20)}" text-anchor="middle">{_a(label)}</text>')
    return parts


def _gauge_numbers(scale: _Clamped, lo: float, hi: float, target: float, words: Words) -> list[str]:
    """The target's and the band edges' numbers under the zone names, the target first; one that would overlap a number placed before is left out."""
    x = scale.at
    tgt = words.report["target_value"].format(v=words.limit(target))
    placed: list[tuple[float, float]] = []
    parts = []
    for v, label, cls in ((target, tgt, "tick tlabel"), (lo, words.limit(lo), "tick"), (hi, words.limit(hi), "tick")):
        w = text_width(label, 14)
        a, b = x(v) - w / 2, x(v) + w / 2
        if any(a < pb + 6 and b > pa - 6 for pa, pb in placed):
            continue
        placed.append((a, b))
        parts.append(f'<text class="{cls}" x="{_f(x(v))}" y="{_f(_GAUGE_BAR_BOTTOM + 20 + 22)}" text-anchor="middle">{_a(label)}</text>')
    return parts


def _gauge_marker(scale: _Clamped, cpm: float, target: float, verdict: str, words: Words) -> list[str]:
    """The target's line across the bar, and the speaker's marker with the rate above it in the verdict's colour."""
    x, x0, x1 = scale.at, scale.start, scale.end
    by0, by1 = _GAUGE_BAR_TOP, _GAUGE_BAR_BOTTOM
    ink = VERDICT_INK.get(verdict, "#333")
    mx = x(shown_cpm(cpm))  # where the number shown lies: 140.4 (shown 140) sits on the band's edge, not past it
    value = words.cpm(cpm)
    w = text_width(value, 17)
    vx = min(max(mx, x0 + w / 2), x1 - w / 2)
    return [
        f'<line class="target" x1="{_f(x(target))}" x2="{_f(x(target))}" y1="{_f(by0 - 6)}" y2="{_f(by1 + 6)}"/>',
        f'<path d="M{_f(mx - 9)},{_f(by0 - 16)} L{_f(mx + 9)},{_f(by0 - 16)} L{_f(mx)},{_f(by0 - 2)} Z" fill="{ink}"/>'
        f'<line x1="{_f(mx)}" x2="{_f(mx)}" y1="{_f(by0)}" y2="{_f(by1)}" stroke="{ink}" stroke-width="4"/>',
        f'<text class="value" x="{_f(vx)}" y="{_f(by0 - 22)}" text-anchor="middle" fill="{ink}">{_a(value)}</text>',
    ]


# -- the timeline --------------------------------------------------------------------------

_TIMELINE_H = 262.0
"""Height of the timeline's viewBox."""

_TIMELINE_TOP = 64.0
_TIMELINE_BASE = 200.0
"""Top and baseline of the timeline's envelope (the plot runs from 14 above the top to the baseline)."""


def pool_max(values: Sequence[float], n: int) -> list[tuple[int, float]]:
    """Max-pool ``values`` into at most ``n`` (index, value) points, keeping peaks visible."""
    m = len(values)
    if m <= n:
        return list(enumerate(float(v) for v in values))
    k = math.ceil(m / n)
    return [(i, max(float(v) for v in values[i : i + k])) for i in range(0, m, k)]


def _stagger(spans: list[tuple[float, float]], rows: int) -> list[int]:
    """Assign each label span (sorted by position) a row so labels do not overlap where possible."""
    ends = [-1e9] * rows
    out = []
    for a, b in spans:
        row = next((r for r in range(rows) if a > ends[r] + 4), min(range(rows), key=lambda r: ends[r]))
        ends[row] = b
        out.append(row)
    return out


def timeline(report: dict[str, Any], words: Words) -> str:
    """The recording over time: energy envelope, speech span, pauses by placement, syllables.

    Parameters
    ----------
    report : dict
        The report (``envelope``, ``speech``, ``pauses``, ``nuclei_s``, ``input``).
    words : Words
        Wording in the report's language.

    Returns
    -------
    str
        An ``<svg>`` element; clicking it seeks the page's audio player.
    """
    dur = float(report["input"]["duration_s"]) or 1.0
    axis = TimeAxis(0.0, dur)
    pauses = report.get("pauses") or []
    parts = [
        f'<svg class="chart timeline" viewBox="0 0 {_f(WIDTH)} {_f(_TIMELINE_H)}" {axis.svg_attrs()} '
        f'role="img" aria-label="{_a(words.labels["timeline"])}">',
        *_speech_span(report["speech"], axis, words),
        *_pause_columns(pauses, axis),
        *_envelope(report.get("envelope") or {}, axis),
        *_nuclei_rug(report.get("nuclei_s") or [], axis, words),
        *_pause_marks(pauses, axis, words, guessed_placements(report)),
        *_missed_breaks(report.get("alignment"), axis, words),
        time_axis_svg(axis, _TIMELINE_BASE + 16),
        _playhead(_TIMELINE_TOP - 14, _TIMELINE_BASE),
        "</svg>",
    ]
    return "".join(parts)


def _speech_span(speech: dict[str, Any], axis: TimeAxis, words: Words) -> list[str]:
    """The plot's background, the leading and trailing silence (labelled where there is room) and the speech span."""
    top, base = _TIMELINE_TOP, _TIMELINE_BASE
    silence = words.report["silence"]
    parts = [f'<rect class="plotbg" x="{_f(axis.x0)}" y="{_f(top - 14)}" width="{_f(axis.x1 - axis.x0)}" height="{_f(base - top + 14)}"/>']
    for a, b in ((0.0, float(speech["start_s"])), (float(speech["end_s"]), axis.t1)):
        if b - a > 0:
            xa, xb = axis.x(a), axis.x(b)
            parts.append(f'<rect class="silence" x="{_f(xa)}" y="{_f(top - 14)}" width="{_f(xb - xa)}" height="{_f(base - top + 14)}"/>')
            if text_width(silence, 12) < xb - xa - 4:
                parts.append(f'<text class="small muted" x="{_f((xa + xb) / 2)}" y="{_f(base - 6)}" text-anchor="middle">{_a(silence)}</text>')
    xs, xe = axis.x(float(speech["start_s"])), axis.x(float(speech["end_s"]))
    parts.append(f'<rect class="speech" x="{_f(xs)}" y="{_f(top - 14)}" width="{_f(max(xe - xs, 0))}" height="{_f(base - top + 14)}"/>')
    return parts


def _pause_columns(pauses: list[dict[str, Any]], axis: TimeAxis) -> list[str]:
    """Each pause as a shaded column, coloured by its placement."""
    top, base = _TIMELINE_TOP, _TIMELINE_BASE
    parts = []
    for p in pauses:
        xa, xb = axis.x(p["start_s"]), axis.x(p["end_s"])
        w = max(xb - xa, 2.0)
        col = PLACEMENT_COLOURS.get(p.get("placement") or "unknown", PLACEMENT_COLOURS["unknown"])
        parts.append(f'<rect x="{_f(xa)}" y="{_f(top - 14)}" width="{_f(w)}" height="{_f(base - top + 14)}" fill="{col}" fill-opacity="0.18"/>')
    return parts


def _envelope(envelope: dict[str, Any], axis: TimeAxis) -> list[str]:
    """The energy envelope (dB above the noise floor) as a filled path, max-pooled to :data:`ENVELOPE_MAX_POINTS`."""
    top, base = _TIMELINE_TOP, _TIMELINE_BASE
    db = envelope.get("db") or []
    hop = float(envelope.get("hop_s") or 0.05)
    if not db:
        return []
    vmax = max(max(float(v) for v in db), 1.0)
    pts = pool_max(db, ENVELOPE_MAX_POINTS)
    d = [f"M{_f(axis.x(0.0))},{_f(base)}"]
    for i, v in pts:
        d.append(f"L{_f(axis.x((i + 0.5) * hop))},{_f(base - (v / vmax) * (base - top))}")
    d.append(f"L{_f(axis.x(pts[-1][0] * hop + hop))},{_f(base)} Z")
    return [f'<path class="envelope" d="{" ".join(d)}"/>']


def _nuclei_rug(nuclei_s: list[float], axis: TimeAxis, words: Words) -> list[str]:
    """The syllable nuclei as a rug under the envelope."""
    rug = "".join(f"M{_f(axis.x(t))},{_f(_TIMELINE_BASE + 3)}v8" for t in nuclei_s)
    if not rug:
        return []
    return [f'<path class="nuclei" d="{rug}"><title>{_a(words.report["nuclei"])}</title></path>']


def _pause_marks(pauses: list[dict[str, Any]], axis: TimeAxis, words: Words, guessed: bool) -> list[str]:
    """Each pause's length label and click target, the labels staggered in three rows above the envelope."""
    top, base = _TIMELINE_TOP, _TIMELINE_BASE
    labels = [words.pause(p["duration_s"]) for p in pauses]
    spans = []
    for p, lab in zip(pauses, labels):
        cx = (axis.x(p["start_s"]) + axis.x(p["end_s"])) / 2
        w = text_width(lab, 13)
        spans.append((cx - w / 2, cx + w / 2))
    rows = _stagger(spans, 3)
    parts = []
    for p, lab, row in zip(pauses, labels, rows):
        place = p.get("placement") or "unknown"
        col = PLACEMENT_COLOURS.get(place, PLACEMENT_COLOURS["unknown"])
        xa, xb = axis.x(p["start_s"]), axis.x(p["end_s"])
        cx = (xa + xb) / 2
        ly = 16.0 + row * 15.0
        title = f"{words.time(p['start_s'])} · {words.pause_label(p['duration_s'], place, guessed)}"
        parts.append(
            f'<g class="pause p-{_a(place)}" data-t="{max(0.0, p["start_s"] - PAUSE_LEAD_IN_S):.3f}" tabindex="0" role="button">'
            f"<title>{_a(title)}</title>"
            f'<rect class="hit" x="{_f(min(xa, cx - 6))}" y="4" width="{_f(max(xb - xa, 12))}" height="{_f(base - 4)}"/>'
            f'<line x1="{_f(cx)}" x2="{_f(cx)}" y1="{_f(ly + 3)}" y2="{_f(top - 14)}" stroke="{col}" stroke-width="1"/>'
            f'<rect x="{_f(xa)}" y="{_f(base - 5)}" width="{_f(max(xb - xa, 2.0))}" height="5" fill="{col}"/>'
            f'<text class="plabel" x="{_f(cx)}" y="{_f(ly)}" text-anchor="middle" fill="{col}">{_a(lab)}</text>'
            "</g>"
        )
    return parts


def _missed_breaks(alignment: Any, axis: TimeAxis, words: Words) -> list[str]:
    """A dashed mark and click target at each sentence end or procedure step passed without a pause."""
    top, base = _TIMELINE_TOP, _TIMELINE_BASE
    missed = []
    if isinstance(alignment, dict):
        for key in ("missed_breaks", "missed_steps"):
            missed += [g for g in alignment.get(key) or [] if isinstance(g, dict) and g.get("time_s") is not None]
    col = PLACEMENT_COLOURS["mid_phrase"]
    parts = []
    for g in missed:
        t = float(g["time_s"])
        x = axis.x(t)
        title = f"{words.time(t)} · {words.labels['missed_break']}"
        parts.append(
            f'<g class="missed" data-t="{max(0.0, t - PAUSE_LEAD_IN_S):.3f}" tabindex="0" role="button">'
            f"<title>{_a(title)}</title>"
            f'<rect class="hit" x="{_f(x - 7)}" y="{_f(top - 14)}" width="14" height="{_f(base - top + 14)}"/>'
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top - 14)}" y2="{_f(base)}" stroke="{col}" stroke-width="2" stroke-dasharray="4 3"/>'
            f'<text x="{_f(x)}" y="{_f(base - 8)}" text-anchor="middle" fill="{col}" class="plabel">✗</text>'
            "</g>"
        )
    return parts


# -- the pace chart ------------------------------------------------------------------------

def pace_chart(report: dict[str, Any], words: Words) -> str:
    """Local speaking rate over time with the moderate band and the target.

    Parameters
    ----------
    report : dict
        The report (``pace.series``, ``settings``, ``input``).
    words : Words
        Wording in the report's language.

    Returns
    -------
    str
        An ``<svg>`` element, or ``""`` when the report has no pace series.
    """
    series = report.get("pace", {}).get("series") or []
    if not series:
        return ""
    st = report["settings"]
    lo, hi = (float(v) for v in st["band_cpm"])
    axis = TimeAxis(0.0, float(report["input"]["duration_s"]) or 1.0)
    top, base = _PACE_TOP, _PACE_BASE
    vmax = max(max(float(w["cpm"]) for w in series), hi) * 1.12
    ystep = nice_step(vmax, 6, (20, 25, 50, 100, 200))
    scale = _Clamped(base, top, math.ceil(vmax / ystep) * ystep)
    y = scale.at
    parts = [
        f'<svg class="chart pace" viewBox="0 0 {_f(WIDTH)} {_f(_PACE_H)}" {axis.svg_attrs()} '
        f'role="img" aria-label="{_a(words.labels["pace_chart"])}">',
        f'<rect class="plotbg" x="{_f(axis.x0)}" y="{_f(top)}" width="{_f(axis.x1 - axis.x0)}" height="{_f(base - top)}"/>',
        f'<rect x="{_f(axis.x0)}" y="{_f(y(hi))}" width="{_f(axis.x1 - axis.x0)}" height="{_f(y(lo) - y(hi))}" fill="{ZONE_COLOURS["on_target"]}" fill-opacity="0.7"/>',
        *_pace_grid(axis, scale, ystep, words),
        *_pace_target(axis, scale, float(st["target_cpm"]), words),
        *_pace_points(series, axis, scale, lo, hi, words),
        time_axis_svg(axis, base + 10),
        _playhead(top, base),
        "</svg>",
    ]
    return "".join(parts)


_PACE_H = 236.0
"""Height of the pace chart's viewBox."""

_PACE_TOP = 16.0
_PACE_BASE = 190.0
"""Top and baseline of the pace chart's plot."""


def _pace_grid(axis: TimeAxis, scale: _Clamped, ystep: float, words: Words) -> list[str]:
    """A grid line and its rate every ``ystep`` chars/min, from 0 to the plot's top."""
    y = scale.at
    parts = []
    v = 0.0
    while v <= scale.top + 1e-9:
        parts.append(f'<line class="grid" x1="{_f(axis.x0)}" x2="{_f(axis.x1)}" y1="{_f(y(v))}" y2="{_f(y(v))}"/>')
        parts.append(f'<text class="tick" x="{_f(axis.x0 - 8)}" y="{_f(y(v) + 5)}" text-anchor="end">{words.num(v)}</text>')
        v += ystep
    return parts


def _pace_target(axis: TimeAxis, scale: _Clamped, target: float, words: Words) -> list[str]:
    """The target's line across the plot, labelled at its right end."""
    y = scale.at
    tgt = words.report["target_value"].format(v=words.limit(target))
    return [
        f'<line class="target" x1="{_f(axis.x0)}" x2="{_f(axis.x1)}" y1="{_f(y(target))}" y2="{_f(y(target))}"/>',
        f'<text class="tick tlabel" x="{_f(axis.x1 - 6)}" y="{_f(y(target) - 6)}" text-anchor="end">{_a(tgt)}</text>',
    ]


def _pace_points(series: list[dict[str, Any]], axis: TimeAxis, scale: _Clamped, lo: float, hi: float, words: Words) -> list[str]:
    """Each window's rate at its middle, joined by a line, coloured by its zone; clicking one seeks to its start."""
    y = scale.at
    pts = [((w["start_s"] + w["end_s"]) / 2, float(w["cpm"]), w) for w in series]
    parts = []
    if len(pts) > 1:
        d = " ".join(("M" if i == 0 else "L") + f"{_f(axis.x(t))},{_f(y(c))}" for i, (t, c, _) in enumerate(pts))
        parts.append(f'<path class="paceline" d="{d}"/>')
    for t, c, w in pts:
        zone = "slow" if c < lo else "fast" if c > hi else "on_target"
        title = f"{words.window(w)} · {words.cpm(c)}"
        parts.append(
            f'<circle class="pt" cx="{_f(axis.x(t))}" cy="{_f(y(c))}" r="6" fill="{VERDICT_INK[zone]}" '
            f'data-t="{float(w["start_s"]):.3f}" tabindex="0" role="button"><title>{_a(title)}</title></circle>'
        )
    return parts


# -- the voice chart -----------------------------------------------------------------------

_VOICE_H = 300.0
"""Height of the voice chart's viewBox."""

_PITCH_TOP = 22.0
_PITCH_BASE = 176.0
"""Top and bottom of the pitch panel."""

_LOUD_TOP = 196.0
_LOUD_BASE = 256.0
"""Top and bottom of the phrase-loudness panel (its zero, the median phrase, in the middle)."""

LOUDNESS_SPAN_DB = 12.0
"""The loudness panel shows ±this many dB around the median phrase (larger values are clipped)."""

CONTOUR_JOIN_ST = 6.0
"""Neighbouring contour points further apart than this (semitones, in 50 ms) are not joined by a
line: a jump that size is a voice breaking or a tracking error, not a glide."""

FLAT_FILL = "#f6d9b5"
TRAIL_INK = "#c0392b"
PHRASE_INK = "#1f8a70"
FLAT_INK = "#b86a00"


def voice_chart(report: dict[str, Any], words: Words) -> str:
    """The voice over time: pitch contour with each phrase's mean pitch, flat stretches shaded,
    sentence ends that trail off marked; under it, each phrase's loudness against the median.

    Parameters
    ----------
    report : dict
        The report (``voice``, ``input``).
    words : Words
        Wording in the report's language.

    Returns
    -------
    str
        An ``<svg>`` element (clicking it seeks the page's audio player), or ``""`` without ``voice``.
    """
    voice = report.get("voice")
    if not isinstance(voice, dict):
        return ""
    axis = TimeAxis(0.0, float(report["input"]["duration_s"]) or 1.0)
    contour = voice.get("contour") or {}
    st = sorted(abs(float(v)) for v in contour.get("st") or [] if v is not None)
    typical = st[int(0.98 * (len(st) - 1))] if st else 6.0  # a stray octave error does not set the scale
    top = max(6.0, min(12.0, math.ceil(typical / 3.0) * 3.0))
    pitch = _Clamped(_PITCH_BASE, _PITCH_TOP, 2 * top)  # maps st + top onto the panel
    parts = [
        f'<svg class="chart voice" viewBox="0 0 {_f(WIDTH)} {_f(_VOICE_H)}" {axis.svg_attrs()} '
        f'role="img" aria-label="{_a(words.labels["voice"])}">',
        f'<rect class="plotbg" x="{_f(axis.x0)}" y="{_f(_PITCH_TOP)}" width="{_f(axis.x1 - axis.x0)}" height="{_f(_PITCH_BASE - _PITCH_TOP)}"/>',
        f'<rect class="plotbg" x="{_f(axis.x0)}" y="{_f(_LOUD_TOP)}" width="{_f(axis.x1 - axis.x0)}" height="{_f(_LOUD_BASE - _LOUD_TOP)}"/>',
        *_flat_shading(voice.get("flat") or [], axis, words),
        *_pitch_grid(axis, pitch, top, words),
        *_contour_path(contour, axis, pitch, top),
        *_phrase_levels(voice.get("phrases") or [], axis, pitch, top, words),
        *_loudness_bars(voice.get("phrases") or [], axis, words),
        *_trailing_marks(voice.get("ends") or [], axis, words),
        time_axis_svg(axis, _LOUD_BASE + 12),
        _playhead(_PITCH_TOP, _LOUD_BASE),
        "</svg>",
    ]
    return "".join(parts)


def _flat_shading(flat: list[Any], axis: TimeAxis, words: Words) -> list[str]:
    """Each flat stretch shaded across the pitch panel; clicking plays it."""
    parts = []
    for a, b in flat:
        xa, xb = axis.x(float(a)), axis.x(float(b))
        title = f"{words.span(float(a), float(b))} · {words.labels['flat_stretches']}"
        parts.append(
            f'<g class="flat" data-t="{float(a):.3f}" tabindex="0" role="button"><title>{_a(title)}</title>'
            f'<rect x="{_f(xa)}" y="{_f(_PITCH_TOP)}" width="{_f(max(xb - xa, 2.0))}" height="{_f(_PITCH_BASE - _PITCH_TOP)}" '
            f'fill="{FLAT_FILL}" fill-opacity="0.55"/></g>'
        )
    return parts


def _pitch_grid(axis: TimeAxis, pitch: _Clamped, top: float, words: Words) -> list[str]:
    """Grid lines every 3 semitones (0, the speaker's median, solid), labelled, and the unit."""
    parts = []
    v = -top
    while v <= top + 1e-9:
        y = pitch.at(v + top)
        cls = "axis" if v == 0 else "grid"
        label = "0" if v == 0 else f"{v:+.0f}".replace("-", "−")
        parts.append(f'<line class="{cls}" x1="{_f(axis.x0)}" x2="{_f(axis.x1)}" y1="{_f(y)}" y2="{_f(y)}"/>')
        parts.append(f'<text class="tick" x="{_f(axis.x0 - 8)}" y="{_f(y + 5)}" text-anchor="end">{label}</text>')
        v += 3.0 if top <= 6 else 6.0
    parts.append(f'<text class="tick" x="{_f(axis.x0 - 8)}" y="{_f(_PITCH_TOP - 8)}" text-anchor="end">{_a(words.report["pitch_axis"])}</text>')
    return parts


def _contour_path(contour: dict[str, Any], axis: TimeAxis, pitch: _Clamped, top: float) -> list[str]:
    """The pitch contour as one path, broken where the voice is silent or unvoiced."""
    hop = float(contour.get("hop_s") or 0.05)
    d: list[str] = []
    last: float | None = None
    for i, v in enumerate(contour.get("st") or []):
        if v is None:
            last = None
            continue
        x, y = axis.x((i + 0.5) * hop), pitch.at(max(-top, min(top, float(v))) + top)
        joined = last is not None and abs(float(v) - last) <= CONTOUR_JOIN_ST
        d.append(f"{'L' if joined else 'M'}{_f(x)},{_f(y)}")
        last = float(v)
    return [f'<path class="contour" d="{" ".join(d)}"/>'] if d else []


def _phrase_levels(phrases: list[dict[str, Any]], axis: TimeAxis, pitch: _Clamped, top: float, words: Words) -> list[str]:
    """Each judged phrase's mean pitch as a bar across it (orange when flat), with its range on hover."""
    parts = []
    for p in phrases:
        level, rng = p.get("pitch_level_st"), p.get("pitch_range_st")
        if level is None or rng is None:
            continue
        xa, xb = axis.x(float(p["start_s"])), axis.x(float(p["end_s"]))
        y = pitch.at(max(-top, min(top, float(level))) + top)
        ink = FLAT_INK if p.get("flat") else PHRASE_INK
        title = f"{words.span(float(p['start_s']), float(p['end_s']))} · {words.labels['pitch_range']} {words.st(float(rng))}"
        parts.append(
            f'<line class="plevel" x1="{_f(xa)}" x2="{_f(max(xb, xa + 2))}" y1="{_f(y)}" y2="{_f(y)}" stroke="{ink}">'
            f"<title>{_a(title)}</title></line>"
        )
    return parts


def _loudness_bars(phrases: list[dict[str, Any]], axis: TimeAxis, words: Words) -> list[str]:
    """Each phrase's level against the median phrase: a bar up (louder) or down (quieter) from the middle line."""
    mid = (_LOUD_TOP + _LOUD_BASE) / 2
    half = (_LOUD_BASE - _LOUD_TOP) / 2
    parts = [
        f'<line class="axis" x1="{_f(axis.x0)}" x2="{_f(axis.x1)}" y1="{_f(mid)}" y2="{_f(mid)}"/>',
        f'<text class="tick" x="{_f(axis.x0 - 8)}" y="{_f(mid + 5)}" text-anchor="end">0</text>',
        f'<text class="tick" x="{_f(axis.x0 - 8)}" y="{_f(_LOUD_TOP + 10)}" text-anchor="end">+{LOUDNESS_SPAN_DB:.0f}</text>',
        f'<text class="tick" x="{_f(axis.x0 - 8)}" y="{_f(_LOUD_BASE)}" text-anchor="end">−{LOUDNESS_SPAN_DB:.0f}</text>',
        f'<text class="small muted" x="{_f(axis.x0 + 6)}" y="{_f(_LOUD_TOP + 12)}">{_a(words.labels["phrase_loudness"])}</text>',
    ]
    for p in phrases:
        db = max(-LOUDNESS_SPAN_DB, min(LOUDNESS_SPAN_DB, float(p.get("level_db") or 0.0)))
        xa, xb = axis.x(float(p["start_s"])), axis.x(float(p["end_s"]))
        h = abs(db) / LOUDNESS_SPAN_DB * half
        y = mid - h if db > 0 else mid
        title = f"{words.span(float(p['start_s']), float(p['end_s']))} · {words.db(float(p.get('level_db') or 0.0), signed=True)}"
        parts.append(
            f'<rect class="lbar" x="{_f(xa)}" y="{_f(y)}" width="{_f(max(xb - xa, 2.0))}" height="{_f(max(h, 1.0))}">'
            f"<title>{_a(title)}</title></rect>"
        )
    return parts


def _trailing_marks(ends: list[dict[str, Any]], axis: TimeAxis, words: Words) -> list[str]:
    """A red triangle and dashed line at each sentence end that trails off, with its drop; clicking plays it."""
    parts = []
    for e in ends:
        if not e.get("trailing"):
            continue
        t = float(e["syllable_s"])
        x = axis.x(t)
        drop = words.db(float(e["drop_db"]))
        quoted = f" “{e['text']}”" if e.get("text") and words.lang == "zh" else ""  # a title cannot mark Chinese on an English page
        title = f"{words.time(t)} · {words.labels['trailing']}{quoted} · {words.report['drop_value'].format(d=drop)}"
        parts.append(
            f'<g class="trail" data-t="{max(0.0, t - PAUSE_LEAD_IN_S):.3f}" tabindex="0" role="button"><title>{_a(title)}</title>'
            f'<rect class="hit" x="{_f(x - 8)}" y="{_f(_PITCH_TOP - 16)}" width="16" height="{_f(_LOUD_BASE - _PITCH_TOP + 16)}"/>'
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(_PITCH_TOP)}" y2="{_f(_LOUD_BASE)}" stroke="{TRAIL_INK}" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<path d="M{_f(x - 7)},{_f(_PITCH_TOP - 14)} L{_f(x + 7)},{_f(_PITCH_TOP - 14)} L{_f(x)},{_f(_PITCH_TOP - 2)} Z" fill="{TRAIL_INK}"/>'
            + (
                f'<text class="plabel" x="{_f(x + 10)}" y="{_f(_PITCH_TOP - 4)}" fill="{TRAIL_INK}">−{_a(drop)}</text>'
                if x + 10 + text_width("−" + drop, 13) <= WIDTH
                else f'<text class="plabel" x="{_f(x - 10)}" y="{_f(_PITCH_TOP - 4)}" text-anchor="end" fill="{TRAIL_INK}">−{_a(drop)}</text>'
            )
            + "</g>"
        )
    return parts
