"""The terminal report: headline rate, pause table, pace sparkline, findings with guidance."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from ..analysis.findings import drift_judged, speaking_s
from ..locales import fmt_span, fmt_time, strings
from ..analysis.metrics import several_windows, shown_cpm, shown_cv, shown_limit
from .words import Words, guessed_placements, inert

_SPARK = "▁▂▃▄▅▆▇█"
_SEVERITY_MARK = {"problem": "✗", "warning": "!", "info": "·"}


def sparkline(values: list[float], lo: float, hi: float) -> str:
    """One block character per value, scaled between ``lo`` and ``hi``."""
    if not values:
        return ""
    span = max(hi - lo, 1e-9)
    return "".join(_SPARK[min(len(_SPARK) - 1, max(0, int((v - lo) / span * len(_SPARK))))] for v in values)


def rate_bar(cpm: float, band: list[float], target: float, *, width: int = 40, top: float = 300.0) -> str:
    """A one-line gauge: the band as ``═``, the target ``┃``, the speaker ``●``."""
    top = max(top, cpm * 1.05, band[1] * 1.3)
    cells = []
    for i in range(width):
        v = (i + 0.5) / width * top
        cells.append("═" if band[0] <= v <= band[1] else "─")
    cells[min(width - 1, int(target / top * width))] = "┃"
    cells[min(width - 1, int(cpm / top * width))] = "●"
    return "0 " + "".join(cells) + f" {top:.0f}"


def render_text(report: dict[str, Any], *, color: bool = False) -> str:
    """The report as plain text (UTF-8, fixed-width friendly).

    Every string of the report (a script, a transcript, a file name) is shown without control
    and invisible format characters (:func:`~speechcoach.render.words.inert`): an escape sequence
    or a carriage return in a script reaches no terminal. The only escape codes are the bold of
    ``color``.
    """
    report = inert(report)
    S = strings(report.get("lang", "zh"))
    bold = _bold if color else _plain
    out = [
        *_header(report, S, bold),
        *_warnings(report, S["labels"], bold),  # first, as in the HTML and Markdown reports: they say how far to trust the rest
        *_pauses(report, S, bold),
        *_pace(report, S, bold),
        *_findings(report, S, bold),
        *_precise_sections(report, S["labels"]),
        *_self_check(report, S["labels"], bold),
    ]
    return "\n".join(out) + "\n"


def _bold(s: str) -> str:
    """``s`` in bold on a terminal (ANSI escape codes)."""
    return f"\033[1m{s}\033[0m"


def _plain(s: str) -> str:
    """``s`` unchanged (no colour)."""
    return s


def _header(report: dict[str, Any], S: dict[str, Any], bold: Callable[[str], str]) -> list[str]:
    """The title, the recording (and the script file counted) and its speech span, the characters, the rate against the band and the score."""
    L = S["labels"]
    w = Words(report.get("lang", "zh"))
    c = w.colon()  # "：" in zh, ": " in en
    unit = L["cpm_unit"]
    rate = report["rate"]
    st = report["settings"]
    lo, hi = st["band_cpm"]
    src = L.get(f"source_{report['characters']['source']}", report["characters"]["source"])
    sp = report["speech"]
    verdict = S["verdict"][rate["verdict"]]
    span_s = f"{sp['span_s']:.1f} {L['seconds']}"
    standard = f"{L['target']} {shown_limit(st['target_cpm'])}{w.report['list_sep']}{L['band']} {shown_limit(lo)}–{shown_limit(hi)}"
    return [
        bold(L["title"]),
        f"{L['file']}{c}{report['input']['path']}",
        *([f"{L['script_file']}{c}{report['input']['script_path']}"] if report["input"].get("script_path") else []),
        f"{L['duration']}{c}{report['input']['duration_s']:.1f} {L['seconds']}   "
        f"{L['speech_span']}{c}{fmt_span(sp['start_s'], sp['end_s'])}{w.paren(span_s)}",
        f"{L['chars']}{c}{report['characters']['count']}{w.paren(src)}",
        "",
        bold(f"{L['rate']}{c}{shown_cpm(rate['cpm'])} {unit} — {verdict}") + "  " + w.paren(standard),
        rate_bar(rate["cpm"], [lo, hi], st["target_cpm"]),
        f"{L['articulation']}{c}{shown_cpm(rate['articulation_cpm'])} {unit}   {L['score']}{c}{w.score(report)}",
        "",
    ]


def _warnings(report: dict[str, Any], L: dict[str, str], bold: Callable[[str], str]) -> list[str]:
    """The warnings about the recording and the method, when there are any."""
    if not report["warnings"]:
        return []
    return [bold(L["warnings"]), *(f"  - {w['message']}" for w in report["warnings"]), ""]


def _pauses(report: dict[str, Any], S: dict[str, Any], bold: Callable[[str], str]) -> list[str]:
    """The pause table with how the pauses were placed, and the script marked with them."""
    L = S["labels"]
    words = Words(report.get("lang", "zh"))
    c = words.colon()
    pauses = report["pauses"]
    total = sum(p["duration_s"] for p in pauses)
    out = [bold(f"{L['pauses']}{c}{len(pauses)}") + f"   {L['pause_total']}{c}{total:.1f} {L['seconds']}"]
    if not pauses:
        out.append("  " + L["no_pauses"])
    else:
        guessed = guessed_placements(report)
        rows = [
            (str(i), fmt_time(p["start_s"]), words.pause(p["duration_s"]), words.placement(p.get("placement") or "unknown", guessed),
             words.pause_marks(p["context"]) if p.get("context") else "")
            for i, p in enumerate(pauses, 1)
        ]
        head = ("#", L["start"], L["length"], L["placement"], "")
        # columns as wide as their widest cell on a terminal (a Chinese character takes two
        # cells), at least as wide as they always were; the context column starts level
        widths = [max(least, *(_width(r[k]) for r in (head, *rows))) for k, least in enumerate((3, 7, 6, 0))]
        for r in (head, *rows):
            cells = [_rjust(r[0], widths[0]), _rjust(r[1], widths[1]), _rjust(r[2], widths[2])]
            place = _ljust(r[3], widths[3]) if r[4] else r[3]
            out.append("  " + "  ".join([*cells, place]) + (f"  {r[4]}" if r[4] else ""))
    method = report.get("pause_method")
    if pauses and method in S.get("pause_method", {}) and method != "none":
        out.append(f"  {L['placement_method']}{c}{S['pause_method'][method]}")
    marked = report.get("script_marked")
    if marked:
        out += ["", bold(L["script"]), "  " + words.pause_marks(marked).replace("\n", "\n  ")]
    out.append("")
    return out


def _pace(report: dict[str, Any], S: dict[str, Any], bold: Callable[[str], str]) -> list[str]:
    """The pace sparkline, range, cv, trend and fastest and slowest windows; nothing for fewer than two windows."""
    L = S["labels"]
    w = Words(report.get("lang", "zh"))
    unit = L["cpm_unit"]
    hi = report["settings"]["band_cpm"][1]
    pace = report["pace"]
    series = [w["cpm"] for w in pace["series"]]
    if not several_windows(series):  # no section, as in Markdown and HTML (one bar would read as an even pace)
        return []
    top = max(max(series), hi * 1.2)
    trend = S["report"]["trend_value"].format(v=f"{pace['trend_cpm_per_min']:+.0f}")
    trend = f"{L['trend']} {trend}   " if drift_judged(speaking_s(report)) else ""  # a slope only where drift is judged
    return [
        bold(L["pace"]) + "  " + w.paren(f"{pace['window_s']:.0f} {L['seconds']}"),
        f"  {sparkline(series, 0.0, top)}   {shown_cpm(min(series))}–{shown_cpm(max(series))} {unit}",
        f"  {L['pace_cv']} {S['report']['cv_value'].format(v=format(shown_cv(pace['cv']), '.2f'))}   {trend}"
        f"{L['fastest']} {fmt_span(pace['fastest']['start_s'], pace['fastest']['end_s'])}{w.paren(str(shown_cpm(pace['fastest']['cpm'])))}   "
        f"{L['slowest']} {fmt_span(pace['slowest']['start_s'], pace['slowest']['end_s'])}{w.paren(str(shown_cpm(pace['slowest']['cpm'])))}",
        "",
    ]


def _findings(report: dict[str, Any], S: dict[str, Any], bold: Callable[[str], str]) -> list[str]:
    """Each finding with its guidance item (and, once, a trainer's target beside ``pace``), the advice once, at the item's first finding to act on."""
    L = S["labels"]
    w = Words(report.get("lang", "zh"))
    out = [bold(L["findings"])]
    if not report["findings"]:
        out.append("  " + L["no_findings"])
    shown: set[str] = set()
    note = w.target_note(report["settings"])  # a trainer's target next to the material's figure
    for f in report["findings"]:
        sev = S["severity"][f["severity"]]
        out.append(f"  {_SEVERITY_MARK[f['severity']]} [{sev}] {w.pause_marks(f['message'])}")  # ⏸0.4 秒, as in the pause table
        g = report["guidance"].get(f["guidance"])
        if not g:
            continue
        out.append(f"      → {g['title']}{w.paren(g['source'])}")
        if note and f["guidance"] == "pace":
            out.append(f"        {note}")
            note = None  # once
        if f["severity"] != "info" and f["guidance"] not in shown:  # advice once, at its first finding to act on
            out.append(f"        {g['advice']}")
            out.append(f"        {L['tip']}{w.colon()}{g['tip']}")
            shown.add(f["guidance"])
    return out


def _self_check(report: dict[str, Any], L: dict[str, str], bold: Callable[[str], str]) -> list[str]:
    """The items for the trainee to check alone, as boxes to tick."""
    c = Words(report.get("lang", "zh")).colon()
    return ["", bold(L["self_check"]), *(f"  □ {g['title']}{c}{g['advice']}" for g in report["self_check"])]


def _width(s: str) -> int:
    """Terminal cells ``s`` takes: two for a wide (CJK) character, one for the others."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _rjust(s: str, width: int) -> str:
    """``s`` right-aligned in ``width`` terminal cells."""
    return " " * max(0, width - _width(s)) + s


def _ljust(s: str, width: int) -> str:
    """``s`` left-aligned in ``width`` terminal cells."""
    return s + " " * max(0, width - _width(s))


def _precise_sections(report: dict[str, Any], L: dict[str, str]) -> list[str]:
    """Transcript, fillers and policy terms, when the report has them (precise mode / script)."""
    out: list[str] = []
    transcript = report.get("transcript")
    if transcript and transcript.get("text"):
        out += ["", L["transcript"], "  " + transcript["text"]]
    fillers = report.get("fillers") or []
    if fillers:
        out += ["", L["fillers"]]
        out.append("  " + "  ".join(f"{f['word']} {fmt_time(f['start_s'])}" for f in fillers))
    jargon = report.get("jargon") or []
    if jargon:
        out += ["", L["jargon"]]
        for j in jargon:
            at = Words(report.get("lang", "zh")).paren(fmt_time(j["start_s"])) if j.get("start_s") is not None else ""
            out.append(f"  {j['term']}{at} → {j['plain']}")
    return out
