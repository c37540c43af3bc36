"""The terminal report: headline rate, pause table, pace sparkline, findings with guidance."""

from __future__ import annotations

from typing import Any

from ..findings import drift_judged, speaking_s
from ..locales import fmt_span, fmt_time, strings
from ..metrics import several_windows, shown_cpm, shown_cv, shown_limit
from .words import Words, guessed_placements

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
    """The report as plain text (UTF-8, fixed-width friendly)."""
    lang = report.get("lang", "zh")
    S = strings(lang)
    L = S["labels"]
    unit = L["cpm_unit"]
    rate = report["rate"]
    st = report["settings"]
    lo, hi = st["band_cpm"]
    out: list[str] = []
    bold = (lambda s: f"\033[1m{s}\033[0m") if color else (lambda s: s)

    out.append(bold(L["title"]))
    out.append(f"{L['file']}: {report['input']['path']}")
    if report["input"].get("script_path"):
        out.append(f"{L['script_file']}: {report['input']['script_path']}")
    src = L.get(f"source_{report['characters']['source']}", report["characters"]["source"])
    sp = report["speech"]
    out.append(
        f"{L['duration']}: {report['input']['duration_s']:.1f} {L['seconds']}   "
        f"{L['speech_span']}: {fmt_span(sp['start_s'], sp['end_s'])} ({sp['span_s']:.1f} {L['seconds']})"
    )
    out.append(f"{L['chars']}: {report['characters']['count']} ({src})")
    out.append("")
    verdict = S["verdict"][rate["verdict"]]
    out.append(bold(f"{L['rate']}: {shown_cpm(rate['cpm'])} {unit} — {verdict}") + f"   ({L['target']} {shown_limit(st['target_cpm'])}, {L['band']} {shown_limit(lo)}–{shown_limit(hi)})")
    out.append(rate_bar(rate["cpm"], [lo, hi], st["target_cpm"]))
    out.append(f"{L['articulation']}: {shown_cpm(rate['articulation_cpm'])} {unit}   {L['score']}: {report['score']}/100")
    out.append("")
    if report["warnings"]:  # first, as in the HTML and Markdown reports: they say how far to trust the rest
        out.append(bold(L["warnings"]))
        for w in report["warnings"]:
            out.append(f"  - {w['message']}")
        out.append("")

    pauses = report["pauses"]
    total = sum(p["duration_s"] for p in pauses)
    out.append(bold(f"{L['pauses']}: {len(pauses)}") + f"   {L['pause_total']}: {total:.1f} {L['seconds']}")
    if not pauses:
        out.append("  " + L["no_pauses"])
    else:
        out.append(f"  {'#':>3}  {L['start']:>7}  {L['length']:>6}  {L['placement']}")
        words, guessed = Words(lang), guessed_placements(report)
        for i, p in enumerate(pauses, 1):
            place = words.placement(p.get("placement") or "unknown", guessed)
            ctx = f"  {words.pause_marks(p['context'])}" if p.get("context") else ""
            out.append(f"  {i:>3}  {fmt_time(p['start_s']):>7}  {words.pause(p['duration_s']):>6}  {place}{ctx}")
    method = report.get("pause_method")
    if pauses and method in S.get("pause_method", {}) and method != "none":
        out.append(f"  {L['placement_method']}: {S['pause_method'][method]}")
    marked = report.get("script_marked")
    if marked:
        out.append("")
        out.append(bold(L["script"]))
        out.append("  " + Words(lang).pause_marks(marked).replace("\n", "\n  "))
    out.append("")

    pace = report["pace"]
    series = [w["cpm"] for w in pace["series"]]
    if several_windows(series):  # else no section, as in Markdown and HTML (one bar would read as an even pace)
        out.append(bold(L["pace"]) + f"   ({pace['window_s']:.0f} {L['seconds']})")
        top = max(max(series), hi * 1.2)
        out.append(f"  {sparkline(series, 0.0, top)}   {shown_cpm(min(series))}–{shown_cpm(max(series))} {unit}")
        trend = S["report"]["trend_value"].format(v=f"{pace['trend_cpm_per_min']:+.0f}")
        trend = f"{L['trend']} {trend}   " if drift_judged(speaking_s(report)) else ""  # a slope only where drift is judged
        out.append(
            f"  {L['pace_cv']} {S['report']['cv_value'].format(v=format(shown_cv(pace['cv']), '.2f'))}   {trend}"
            f"{L['fastest']} {fmt_span(pace['fastest']['start_s'], pace['fastest']['end_s'])} ({shown_cpm(pace['fastest']['cpm'])})   "
            f"{L['slowest']} {fmt_span(pace['slowest']['start_s'], pace['slowest']['end_s'])} ({shown_cpm(pace['slowest']['cpm'])})"
        )
        out.append("")

    out.append(bold(L["findings"]))
    if not report["findings"]:
        out.append("  " + L["no_findings"])
    shown: set[str] = set()
    note = Words(lang).target_note(st)  # a trainer's target next to the material's figure
    for f in report["findings"]:
        sev = S["severity"][f["severity"]]
        out.append(f"  {_SEVERITY_MARK[f['severity']]} [{sev}] {f['message']}")
        g = report["guidance"].get(f["guidance"])
        if not g:
            continue
        out.append(f"      → {g['title']}（{g['source']}）" if lang == "zh" else f"      → {g['title']} ({g['source']})")
        if note and f["guidance"] == "pace":
            out.append(f"        {note}")
            note = None  # once
        if f["severity"] != "info" and f["guidance"] not in shown:  # advice once, at its first finding to act on
            out.append(f"        {g['advice']}")
            out.append(f"        {L['tip']}: {g['tip']}")
            shown.add(f["guidance"])
    out.extend(_precise_sections(report, L))
    out.append("")
    out.append(bold(L["self_check"]))
    for g in report["self_check"]:
        out.append(f"  □ {g['title']}: {g['advice']}")
    return "\n".join(out) + "\n"


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
            at = f" ({fmt_time(j['start_s'])})" if j.get("start_s") is not None else ""
            out.append(f"  {j['term']}{at} → {j['plain']}")
    return out
