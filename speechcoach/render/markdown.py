r"""The Markdown report: the HTML report's content without charts, for chat, wikis and e-mail.

Inert wherever it is pasted: ``<``, ``>`` and ``&`` in anything quoted (a script, a transcript,
a file name, a guidance text) are written as the entities ``&lt;``, ``&gt;`` and ``&amp;``, which
every Markdown flavour and every HTML viewer shows as the characters; a backslash escape
(``\<``) is not enough, as the original Markdown and many chat and mail renderers pass
``\<img …>`` on as HTML. The other Markdown syntax characters are backslash-escaped, newlines
in a file name become spaces (a blank line would start raw HTML), and control characters are
dropped (:func:`~speechcoach.render.words.visible`). No ``<`` is left in the document.
"""

from __future__ import annotations

import re
from typing import Any

from ..analysis.findings import drift_judged, speaking_s
from ..analysis.metrics import several_windows
from .html import script_marks
from .words import Words, guessed_placements, visible

SEVERITY_RANK = {"problem": 0, "warning": 1, "info": 2}

_SPECIAL = re.compile(r"([\\`*_\[\]{}|~])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HTML_SPECIAL = re.compile("[&<>]")

TIME_RE = re.compile(r"\b\d+:\d\d\.\d\b")
"""A position in the recording as messages write it (``0:08.3``; also inside a span ``0:10.5–0:18.5``)."""


def md_escape(text: object) -> str:
    r"""Text made inert in running Markdown (one line: newlines become spaces): ``&``, ``<`` and
    ``>`` as entities, the other syntax characters backslash-escaped, control characters dropped.

    >>> md_escape("<img src=x onerror=alert(1)> *a*")
    '&lt;img src=x onerror=alert(1)&gt; \\*a\\*'
    """
    flat = " ".join(visible(text).split())
    return _SPECIAL.sub(r"\\\1", _HTML_SPECIAL.sub(lambda m: _ENTITIES[m.group(0)], flat))


def md_path(text: object) -> str:
    """A file name in running Markdown: a code span (shown as it is, in a monospace font), on
    one line, without control characters or backquotes (which would end it); a name with ``<``,
    ``>`` or ``&`` is written as running text instead (:func:`md_escape`), so that no ``<``
    reaches a renderer at all, not even inside a code span."""
    flat = " ".join(visible(text).replace("`", "").split())
    if _HTML_SPECIAL.search(flat) or not flat:
        return md_escape(flat)
    return f"`{flat}`"


def _cell(text: object) -> str:
    """Escape text for a table cell."""
    return md_escape(text)


def _script_with_marks(report: dict[str, Any], words: Words) -> tuple[str, bool]:
    """The script with a mark after each aligned pause (and each sentence end passed without one).

    Returns
    -------
    text : str
        Markdown (a block quote, one paragraph per script line).
    marked : bool
        Whether any mark was placed.
    """
    text = str(report.get("script") or "")
    marks = script_marks(report)
    lines: list[str] = []
    cur: list[str] = []
    for i, ch in enumerate(text):
        if ch == "\n":
            lines.append("".join(cur))
            cur = []
        else:
            cur.append(md_escape(ch) if ch.strip() else visible(ch))  # a carriage return or form feed is "white space" too
        for kind, item in marks.get(i, ()):
            if kind == "pause":
                mark = f"⏸{words.pause(item['duration_s'])}"
                cur.append(f" **{mark}** " if item.get("placement") == "mid_phrase" else f" `{mark}` ")
            else:
                cur.append(f" ~~⏸~~ *{md_escape(words.labels['missed_break'])}* ")
    lines.append("".join(cur))
    body = "\n>\n".join("> " + ln.strip() for ln in lines if ln.strip())
    return body, bool(marks)


def _precise_sections(report: dict[str, Any], w: Words) -> list[str]:
    """Transcript (with segment times), fillers and policy terms, when the report has them."""
    L, R = w.labels, w.report
    c = w.colon()
    out: list[str] = []
    tr = report.get("transcript")
    if isinstance(tr, dict) and (tr.get("text") or tr.get("segments")):
        out += [f"## {md_escape(L['transcript'])}", ""]
        lines = []
        for sg in tr.get("segments") or []:
            text = str(sg.get("text") or "").strip()
            if text and sg.get("start_s") is not None:
                lines.append(f"- `{w.time(float(sg['start_s']))}` {md_escape(text)}")
        out += lines or [md_escape(str(tr.get("text") or "").strip())]
        out += ["", f"*{md_escape(R['transcript_note'])}*", ""]
    fillers = [f for f in report.get("fillers") or [] if f.get("start_s") is not None]
    if fillers:
        counts: dict[str, int] = {}
        for f in fillers:
            counts[f.get("kind", "")] = counts.get(f.get("kind", ""), 0) + 1
        head = " · ".join(f"{w.filler_kind(k)}{c}{w.num(n)}" for k, n in sorted(counts.items()))
        out += [f"## {md_escape(L['fillers'])}", "", md_escape(head), ""]
        out.append("| " + " | ".join(_cell(h) for h in ("#", L["start"], L["word"], L["kind"])) + " |")
        out.append("|---:|---:|---|---|")
        for i, f in enumerate(fillers, 1):
            row = [str(i), w.time(float(f["start_s"])), f.get("word", ""), w.filler_kind(str(f.get("kind", "")))]
            out.append("| " + " | ".join(_cell(x) for x in row) + " |")
        out.append("")
    jargon = [j for j in report.get("jargon") or [] if j.get("term")]
    if jargon:
        out += [f"## {md_escape(L['jargon'])}", ""]
        out.append("| " + " | ".join(_cell(h) for h in (L["term"], L["plain"], L["said_at"])) + " |")
        out.append("|---|---|---|")
        for j in jargon:
            t = j.get("start_s")
            row = [j["term"], j.get("plain", ""), w.said_at(None if t is None else float(t))]
            out.append("| " + " | ".join(_cell(x) for x in row) + " |")
        out += ["", f"*{md_escape(R['jargon_note'])}*", ""]
    return out


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown (CommonMark with GitHub-style tables and task lists).

    Parameters
    ----------
    report : dict
        A report from :func:`speechcoach.render.report.to_dict` (or read back from its JSON).

    Returns
    -------
    str
        The Markdown document.
    """
    w = Words(report.get("lang", "zh"))
    out = [
        *_header(report, w),
        *_rate(report, w),
        *_warnings(report, w),
        *_findings(report, w),
        *_pauses(report, w),
        *_script(report, w),
        *_precise_sections(report, w),
        *_pace(report, w),
        *_guidance(report, w),
        *_self_check(report, w),
        *_footer(report, w),
    ]
    return "\n".join(out).rstrip() + "\n"


def _header(report: dict[str, Any], w: Words) -> list[str]:
    """The title and a list of the file (and the script file counted), date, duration, speech span and characters."""
    L = w.labels
    c = w.colon()
    sp = report["speech"]
    ch = report["characters"]
    script = report["input"].get("script_path")
    span = f"{w.span(sp['start_s'], sp['end_s'])} · {w.seconds(sp['span_s'])}"
    return [
        f"# {md_escape(L['title'])}",
        "",
        f"- **{md_escape(L['file'])}**{c}{md_path(report['input']['path'])}",
        *([f"- **{md_escape(L['script_file'])}**{c}{md_path(script)}"] if script else []),
        f"- **{md_escape(L['date'])}**{c}{md_escape(w.date(report.get('created', '')))}",
        f"- **{md_escape(L['duration'])}**{c}{md_escape(w.seconds(report['input']['duration_s']))}",
        f"- **{md_escape(L['speech_span'])}**{c}{md_escape(span)}",
        f"- **{md_escape(L['chars'])}**{c}{md_escape(w.num(ch['count']))} · {md_escape(w.source(ch['source']))}",
        "",
    ]


def _rate(report: dict[str, Any], w: Words) -> list[str]:
    """The rate and its verdict as a heading, with the target, band, articulation rate and score."""
    L, R = w.labels, w.report
    c = w.colon()
    rate, st = report["rate"], report["settings"]
    lo, hi = st["band_cpm"]
    return [
        f"## {md_escape(L['rate'])}{c}{md_escape(w.cpm(rate['cpm']))} — {md_escape(w.verdict(rate['verdict']))}",
        "",
        f"- {md_escape(L['target'])} {md_escape(w.target(st['target_cpm']))} · "
        f"{md_escape(L['band'])} {md_escape(w.band(lo, hi))}",
        f"- {md_escape(L['articulation'])}{c}{md_escape(w.cpm(rate['articulation_cpm']))}",
        f"- **{md_escape(L['score'])}**{c}{md_escape(w.score(report))}",
        "",
    ]


def _warnings(report: dict[str, Any], w: Words) -> list[str]:
    """The warnings as a block quote, when there are any."""
    if not report.get("warnings"):
        return []
    return [
        f"> **{md_escape(w.labels['warnings'])}**",
        *(f"> - {md_escape(w.pause_marks(x['message']))}" for x in report["warnings"]),
        "",
    ]


def _findings(report: dict[str, Any], w: Words) -> list[str]:
    """The findings, most severe first, numbered, each with its time and guidance item."""
    L = w.labels
    c = w.colon()
    out = [f"## {md_escape(L['findings'])}", ""]
    fs = sorted(report.get("findings") or [], key=lambda f: SEVERITY_RANK.get(f.get("severity", "info"), 3))
    guide = report.get("guidance") or {}
    if not fs:
        out.append(md_escape(L["no_findings"]))
    for i, f in enumerate(fs, 1):
        named = TIME_RE.search(str(f.get("message", "")))  # "…在 0:00.1 处" already says when
        at = w.paren(md_escape(w.time(f["start_s"]))) if f.get("start_s") is not None and not named else ""
        g = guide.get(f.get("guidance", ""))
        brk = "\\" if g else ""
        out.append(f"{i}. **{md_escape(w.severity(f.get('severity', 'info')))}** {md_escape(w.pause_marks(f['message']))}{at}{brk}")
        if g:
            out.append(f"   {md_escape(L['guidance'])}{c}{md_escape(g['title'])}")
    out.append("")
    return out


def _pauses(report: dict[str, Any], w: Words) -> list[str]:
    """The pause count and total, the pause table (with the script's context when known) and how they were placed."""
    L = w.labels
    c = w.colon()
    pauses = report.get("pauses") or []
    total = sum(p["duration_s"] for p in pauses)
    out = [
        f"## {md_escape(L['pauses'])}",
        "",
        f"{md_escape(L['pause_count'])}{c}{md_escape(w.num(len(pauses)))} · "
        f"{md_escape(L['pause_total'])}{c}{md_escape(w.seconds(total))}",
        "",
    ]
    if not pauses:
        out.append(md_escape(L["no_pauses"]))
    else:
        has_ctx = any(p.get("context") for p in pauses)
        head = ["#", L["start"], L["length"], L["placement"]] + ([L["context"]] if has_ctx else [])
        out.append("| " + " | ".join(_cell(h) for h in head) + " |")
        out.append("|" + "|".join(["---:", "---:", "---:", "---"] + (["---"] if has_ctx else [])) + "|")
        for i, p in enumerate(pauses, 1):
            row = [str(i), w.time(p["start_s"]), w.pause(p["duration_s"]), w.placement(p.get("placement") or "unknown", guessed_placements(report))]
            if has_ctx:
                row.append(w.pause_marks(p.get("context") or ""))
            out.append("| " + " | ".join(_cell(x) for x in row) + " |")
    method = w.pause_method(report.get("pause_method", ""))
    if method:
        out += ["", f"*{md_escape(L['placement_method'])}{c}{md_escape(method)}*"]
    out.append("")
    return out


def _script(report: dict[str, Any], w: Words) -> list[str]:
    """The script with its pauses marked, when the report has one."""
    if not report.get("script"):
        return []
    body, marked = _script_with_marks(report, w)
    R = w.report
    return [
        f"## {md_escape(w.labels['script'])}",
        "",
        body,
        "",
        f"*{md_escape(R['script_marks_md'] if marked else R['script_plain'])}*",  # no chart: no colours
        "",
    ]


def _pace(report: dict[str, Any], w: Words) -> list[str]:
    """The fastest and slowest windows, the cv and (where drift is judged) the trend; nothing for fewer than two windows."""
    pace = report["pace"]
    if not several_windows(pace.get("series") or []):
        return []
    L, R = w.labels, w.report
    c = w.colon()
    fa, sl = pace["fastest"], pace["slowest"]
    out = [
        f"## {md_escape(L['pace_chart'])}",
        "",
        f"- {md_escape(L['fastest'])}{c}{md_escape(w.cpm(fa['cpm']))} · {md_escape(w.window(fa))}",
        f"- {md_escape(L['slowest'])}{c}{md_escape(w.cpm(sl['cpm']))} · {md_escape(w.window(sl))}",
        f"- {md_escape(L['pace_cv'])}{c}{md_escape(R['cv_value'].format(v=w.cv(pace['cv'])))}",
    ]
    if drift_judged(speaking_s(report)):  # a slope per minute only where drift is judged
        trend = R["trend_value"].format(v=f"{pace['trend_cpm_per_min']:+,.0f}")
        out.append(f"- {md_escape(L['trend'])}{c}{md_escape(trend)}")
    out += [
        "",
        f"*{md_escape(R['pace_note_md'].format(window=w.num(pace['window_s'])))}*",  # no chart: no band or line
        "",
    ]
    return out


def _guidance(report: dict[str, Any], w: Words) -> list[str]:
    """Each guidance item a finding points to: its source, advice and tip (and a trainer's target beside ``pace``)."""
    guide = report.get("guidance") or {}
    if not guide:
        return []
    L = w.labels
    c = w.colon()
    out = [f"## {md_escape(L['guidance'])}", ""]
    note = w.target_note(report["settings"])  # a trainer's target next to the material's figure
    for gid, g in guide.items():
        out += [f"### {md_escape(g['title'])}", ""]
        if note and gid == "pace":
            out += [f"> {md_escape(note)}", ""]
        out += [
            f"*{md_escape(L['source'])}{c}{md_escape(g['source'])}*",
            "",
            f"- **{md_escape(L['advice'])}**{c}{md_escape(g['advice'])}",
            f"- **{md_escape(L['tip'])}**{c}{md_escape(g['tip'])}",
            "",
        ]
    return out


def _self_check(report: dict[str, Any], w: Words) -> list[str]:
    """The items for the trainee to check alone, as a task list."""
    if not report.get("self_check"):
        return []
    L = w.labels
    c = w.colon()
    out = [f"## {md_escape(L['self_check'])}", ""]
    for g in report["self_check"]:
        out.append(f"- [ ] **{md_escape(g['title'])}**{c}{md_escape(g['advice'])}\\")
        out.append(f"  {md_escape(L['tip'])}{c}{md_escape(g['tip'])}")
    out.append("")
    return out


def _footer(report: dict[str, Any], w: Words) -> list[str]:
    """A rule, the settings the recording was judged by (target, band, pauses and their limit), and the generator."""
    R = w.report
    c = w.colon()
    st = report["settings"]
    lo, hi = st["band_cpm"]
    settings = R["settings_value"].format(
        target=w.limit(st["target_cpm"]), lo=w.limit(lo), hi=w.limit(hi), min_pause=w.num(st["min_pause_s"], 2)
    ) + R["list_sep"] + R["settings_pause_limit"].format(max_pause=w.limit(st["max_pause_s"], 1))
    return [
        "---",
        "",
        f"{md_escape(R['settings'])}{c}{md_escape(settings)}\\",
        md_escape(R["generated_by"].format(generator=report.get("generator", "speechcoach"))),
    ]
