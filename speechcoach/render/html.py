"""The HTML report: one self-contained page (inline CSS, SVG and script) that opens offline.

The recording is embedded in the page as compressed speech (:func:`speechcoach.render.media.embedded_recording`,
what ``analyze`` and ``batch`` do by default), so a report that is mailed, moved or zipped
still plays; or it is linked, relative to the report's folder (``--link-audio``,
:func:`audio_source`), and then the page says plainly, where the recording is not beside it,
that it cannot play and where it looked. Clicking a pause, a finding or a point on a chart
plays the recording from that moment.
"""

from __future__ import annotations

import base64
import os
import re
import unicodedata
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from ..errors import AudioError
from ..analysis.findings import drift_judged, speaking_s
from ..analysis.metrics import several_windows, shown_cpm
from . import svg
from .words import MARK_RE, Words, guessed_placements

AUDIO_MIME = {
    ".wav": "audio/wav",
    ".wave": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".amr": "audio/amr",
    ".webm": "audio/webm",
}
"""MIME type of an embedded recording, by file suffix."""

SEVERITY_RANK = {"problem": 0, "warning": 1, "info": 2}


def _e(s: object) -> str:
    return escape(str(s), quote=True)


_CJK = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CJK_RUN = re.compile(f"[{_CJK}](?:[^A-Za-z]*[{_CJK}])?")


def _lang_runs(text: str, page_lang: str) -> str:
    """Escape ``text``; on a non-Chinese page, mark runs of Chinese (quoted script) ``lang="zh-CN"``."""
    if page_lang == "zh":
        return _e(text)
    out, pos = [], 0
    for m in _CJK_RUN.finditer(text):
        out.append(_e(text[pos : m.start()]))
        out.append(f'<span lang="zh-CN">{_e(m.group(0))}</span>')
        pos = m.end()
    out.append(_e(text[pos:]))
    return "".join(out)


def rich_text(text: object, words: Words) -> str:
    """A message or context as HTML: escaped, pause marks drawn and localized, quoted Chinese marked.

    Messages and contexts quote the script with marks such as ``⏸0.4s`` (a pause) and ``⏸✗``
    (a sentence end passed without one). The pause glyph is drawn with CSS (many fonts lack it),
    its length is written in the page's language, and on an English page the quoted Chinese is
    marked so the browser picks a Chinese font for it.
    """
    s = str(text)
    out, pos = [], 0
    for m in MARK_RE.finditer(s):
        out.append(_lang_runs(s[pos : m.start()], words.lang))
        glyph = '<span class="pz" role="img" aria-label="||"></span>'
        if m.group(1):
            out.append(f'<span class="pmx">{glyph}{_e(words.labels["missed_break"])}</span>')
        elif m.group(2):
            out.append(f'<span class="pmx">{glyph}{_e(words.seconds(float(m.group(2)), 1))}</span>')
        else:
            out.append(glyph)
        pos = m.end()
    out.append(_lang_runs(s[pos:], words.lang))
    return "".join(out)


def mark_position(text: str, char_index: int) -> int:
    """Where a mark after character ``char_index`` goes: after any punctuation that follows it."""
    i = char_index
    while i + 1 < len(text) and unicodedata.category(text[i + 1]).startswith("P"):
        i += 1
    return i


def audio_source(audio_path: str | Path, output: str | Path | None = None, *, embed: bool = False) -> str:
    """The ``src`` of the report's audio player.

    Parameters
    ----------
    audio_path : path-like
        The recording, as given on the command line (relative to the working folder or absolute).
    output : path-like, optional
        Where the HTML file will be written; the link is made relative to its folder
        (the working folder when ``None``, i.e. the page goes to standard output).
    embed : bool
        Embed the recording's bytes as a base64 ``data:`` URI instead of linking to it.

    Returns
    -------
    str
        A relative, percent-encoded URL, or a ``data:`` URI.

    Raises
    ------
    AudioError
        When ``embed`` is set and the recording cannot be read.
    """
    src = Path(audio_path)
    if embed:
        try:
            raw = src.read_bytes()
        except OSError as exc:
            reason = str(exc.strerror or exc)
            raise AudioError(src, f"cannot read the recording to embed it ({reason})", code="cannot_embed", params={"reason": reason}) from None
        mime = AUDIO_MIME.get(src.suffix.lower(), "application/octet-stream")
        return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"
    folder = Path(output).resolve().parent if output is not None else Path.cwd()
    target = src.resolve()
    try:
        rel = os.path.relpath(target, folder)
    except ValueError:  # another drive on Windows: no relative path exists
        return target.as_uri()
    return quote(Path(rel).as_posix())


CSS = """
:root{--ink:#1d2430;--muted:#5d6675;--line:#e1e5ec;--bg:#f6f7f9;--card:#fff;--accent:#2f5fb3;
--sentence:#1f8a70;--clause:#3569c4;--mid_phrase:#d1492e;--unknown:#7a8599;
--problem:#b3321c;--warning:#a86a00;--info:#3f6fb5;--ok:#1f7a3f}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);line-height:1.6;font-size:16px;
font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","WenQuanYi Micro Hei",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:980px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.6rem;margin:0 0 .4rem;line-height:1.3}
h2{font-size:1.2rem;margin:0 0 .6rem;line-height:1.35}
h3{font-size:1.02rem;margin:0 0 .3rem}
section,header.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:18px 20px;margin:0 0 16px}
.file{margin:0;color:var(--muted);overflow-wrap:anywhere}
.meta{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:4px 20px;margin:.6rem 0 0;padding:0}
.meta div{display:flex;flex-direction:column}
.meta dt{font-size:.8rem;color:var(--muted)}
.meta dd{margin:0;font-weight:500;overflow-wrap:anywhere}
.headline{display:grid;grid-template-columns:1fr auto;gap:8px 24px;align-items:start}
.big{font-size:2.6rem;font-weight:700;line-height:1.1}
.big small{font-size:1rem;font-weight:500;color:var(--muted);margin-left:.3em}
.verdict{display:inline-block;border-radius:999px;padding:.1em .8em;font-weight:600;margin-left:.4em;font-size:1rem;vertical-align:middle}
.v-slow{background:#f3dcae;color:#7a5200}.v-on_target{background:#bfe3c6;color:#175f31}.v-fast{background:#f2bcb3;color:#8f2614}
.score{text-align:center;border-left:1px solid var(--line);padding-left:24px}
.score .num{font-size:2.4rem;font-weight:700;line-height:1.1}
.score .lbl{color:var(--muted);font-size:.85rem}
.score .lost{color:var(--problem);font-size:.85rem;margin-top:.3em;max-width:12em}
.score .lost .item{white-space:nowrap}
.sub{color:var(--muted);margin:.2rem 0 0}
.headline .chart{grid-column:1 / -1}
svg.chart{display:block;width:100%;height:auto;overflow:visible;font-size:13px}
svg.gauge.narrow{display:none}
svg.chart text{fill:var(--ink)}
svg .tick{fill:var(--muted);font-size:13px}
svg .tlabel{fill:#175f31;font-weight:600}
svg .zone{font-size:15px;fill:#3b4452}
svg .value{font-size:17px;font-weight:700}
svg .target{stroke:#175f31;stroke-width:2;stroke-dasharray:6 4}
svg .axis{stroke:#9aa3b2;stroke-width:1}
svg .grid{stroke:#e6e9ef;stroke-width:1}
svg .plotbg{fill:#fbfcfd}
svg .speech{fill:#e8f0fb}
svg .silence{fill:#eceef2}
svg .envelope{fill:#5a6b86;fill-opacity:.55;stroke:#44546d;stroke-width:.6}
svg .nuclei{stroke:#44546d;stroke-width:1.2;stroke-opacity:.55}
svg .plabel{font-size:13px;font-weight:600}
svg .small{font-size:12px}
svg .muted{fill:var(--muted)}
svg .paceline{fill:none;stroke:#3b4a63;stroke-width:2;stroke-linejoin:round}
svg .hit{fill:transparent}
svg .pause:hover .hit,svg .pause:focus .hit{fill:#1d2430;fill-opacity:.06}
svg .playhead{stroke:#1d2430;stroke-width:2}
svg.timeline,svg.pace{cursor:pointer}
[data-t]{cursor:pointer}
[data-t]:focus{outline:2px solid var(--accent);outline-offset:2px}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:.2rem 0 .4rem;padding:0;list-style:none;font-size:.9rem;color:var(--muted)}
.dot{display:inline-block;width:.75em;height:.75em;border-radius:3px;margin-right:.35em;vertical-align:-.05em}
.d-sentence{background:var(--sentence)}.d-clause{background:var(--clause)}.d-mid_phrase{background:var(--mid_phrase)}.d-unknown{background:var(--unknown)}
.d-missed{border:1.5px dashed var(--mid_phrase);background:#fff}
.d-speech{background:#e8f0fb;border:1px solid #c9d7ee}.d-silence{background:#eceef2;border:1px solid #d5d9e0}
.note{color:var(--muted);font-size:.9rem;margin:.4rem 0 0}
audio{width:100%;margin:.2rem 0 0}
.missing{color:var(--problem);font-weight:600;margin:.4rem 0 0}
.player{position:sticky;top:0;z-index:5;box-shadow:0 2px 8px rgba(20,30,50,.06)}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.82rem;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;width:1%;padding-right:18px}
tr[data-t]:hover{background:#f3f6fb}
.tablewrap{overflow-x:auto}
td.place{white-space:nowrap}
.chartwrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
.script{font-size:1.15rem;line-height:2.2;white-space:pre-wrap;margin:0;overflow-wrap:anywhere}
.pm{display:inline-block;font-size:.72rem;line-height:1.4;padding:0 .4em;margin:0 .2em;border-radius:999px;color:#fff;vertical-align:.15em;white-space:nowrap;font-weight:600}
.pz{display:inline-block;width:.55em;height:.8em;margin:0 .15em;vertical-align:-.05em;border-left:.16em solid currentColor;border-right:.16em solid currentColor;opacity:.75}
.pmx{white-space:nowrap;color:var(--muted);font-size:.92em}
.pm.missed{background:#fff;color:var(--mid_phrase);border:1.5px dashed var(--mid_phrase)}
.script .c{border-radius:3px;transition:background-color .15s}
.script .c:hover{background:#e8f0fb}
.script .c.now{background:#ffe08a}
.pm.p-sentence{background:var(--sentence)}.pm.p-clause{background:var(--clause)}.pm.p-mid_phrase{background:var(--mid_phrase)}.pm.p-unknown{background:var(--unknown)}
.transcript{font-size:1.08rem;line-height:2;margin:0;overflow-wrap:anywhere}
.transcript .seg{border-radius:3px;padding:0 .1em;transition:background-color .15s}
.transcript .seg:hover{background:#e8f0fb}
.transcript .seg.now{background:#ffe08a}
.ts{font-size:.75rem;color:var(--accent);font-variant-numeric:tabular-nums;margin:0 .35em 0 .6em;vertical-align:.1em}
.transcript .seg:first-child .ts{margin-left:0}
.k-vocal{color:var(--warning)}
td.term{font-weight:600;white-space:nowrap}
td.muted{color:var(--muted)}
td.when,th.when{white-space:nowrap;width:1%;font-variant-numeric:tabular-nums}
ol.findings{list-style:none;margin:0;padding:0}
ol.findings li{border:1px solid var(--line);border-left:5px solid var(--info);border-radius:8px;padding:10px 14px;margin:0 0 10px}
ol.findings li.sev-problem{border-left-color:var(--problem)}
ol.findings li.sev-warning{border-left-color:var(--warning)}
ol.findings li[data-t]:hover{background:#fafbfd}
.badge{display:inline-block;font-size:.78rem;font-weight:700;border-radius:4px;padding:0 .45em;margin-right:.5em;color:#fff;background:var(--info);vertical-align:.1em}
.badge.sev-problem{background:var(--problem)}.badge.sev-warning{background:var(--warning)}
.f-msg{margin:0}
.f-links{margin:.3rem 0 0;font-size:.9rem;display:flex;flex-wrap:wrap;gap:4px 16px}
.chip{display:inline-block;border:1px solid var(--line);border-radius:999px;padding:0 .6em;font-variant-numeric:tabular-nums;color:var(--accent);background:#f5f8fd}
a{color:var(--accent)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:12px}
.gcard{border:1px solid var(--line);border-radius:10px;padding:12px 14px;background:#fcfcfd}
.gcard:target{outline:3px solid #9db7e6}
.gcard .src{color:var(--muted);font-size:.85rem;margin:0 0 .4rem}
.gcard .target-note{background:#eef4ff;border-left:3px solid #3b6fd8;padding:4px 8px;margin:0 0 .4rem;font-size:.9rem}
.gcard dl{margin:0}.gcard dt{font-weight:600;font-size:.88rem;margin-top:.35rem}.gcard dd{margin:0}
ul.checks{list-style:none;margin:0;padding:0}
ul.checks li{padding:6px 0;border-bottom:1px solid var(--line)}
ul.checks li:last-child{border-bottom:0}
ul.checks label{display:flex;gap:.6em;align-items:flex-start;cursor:pointer}
ul.checks input{margin-top:.35em;width:1.05em;height:1.05em;flex:none}
.warn{background:#fff8e6;border-color:#f0d9a0}
.warn ul{margin:0;padding-left:1.2em}
.stats{display:flex;flex-wrap:wrap;gap:4px 22px;margin:.5rem 0 0;padding:0;list-style:none;font-size:.92rem}
.stats b{font-weight:600}
footer{color:var(--muted);font-size:.85rem;padding:0 4px}
@media (max-width:640px){main{padding:12px 10px 32px}section,header.card{padding:14px 12px}
.headline{grid-template-columns:1fr}.score{border-left:0;padding-left:0;text-align:left;display:flex;gap:.5em;align-items:baseline}
.score .num{font-size:1.6rem}.big{font-size:2.1rem}svg.timeline,svg.pace{min-width:680px}svg.gauge{min-width:0;font-size:15px;display:none}svg.gauge.narrow{display:block}}
@media print{body{background:#fff;font-size:12pt}main{max-width:none;padding:0}
section,header.card{border:0;border-bottom:1px solid #ccc;border-radius:0;padding:10px 0;break-inside:avoid}
.player,.hint{display:none}.player{position:static}ol.findings li,.gcard{break-inside:avoid}
a{color:inherit;text-decoration:none}svg .playhead{display:none}}
"""

JS = """
(function(){
var a=document.getElementById('player');
function seek(t){if(!a||!isFinite(t))return;try{a.currentTime=Math.max(0,t);}catch(e){return;}
var p=a.play();if(p&&p.catch){p.catch(function(){});}}
function timeAt(svg,ev){var r=svg.getBoundingClientRect();var vb=svg.viewBox.baseVal;if(!r.width||!vb)return NaN;
var x=(ev.clientX-r.left)/r.width*vb.width;var x0=+svg.getAttribute('data-x0'),x1=+svg.getAttribute('data-x1');
var t0=+svg.getAttribute('data-t0'),t1=+svg.getAttribute('data-t1');var f=Math.max(0,Math.min(1,(x-x0)/(x1-x0)));return t0+f*(t1-t0);}
document.addEventListener('click',function(ev){var tg=ev.target;if(!tg||!tg.closest)return;if(tg.closest('a,input,label,audio'))return;
var el=tg.closest('[data-t]');if(el){seek(parseFloat(el.getAttribute('data-t')));return;}
var svg=tg.closest('svg[data-t1]');if(svg){seek(timeAt(svg,ev));}});
document.addEventListener('keydown',function(ev){if(ev.key!=='Enter'&&ev.key!==' ')return;var tg=ev.target;
if(!tg||!tg.closest||tg.closest('a,input,audio'))return;var el=tg.closest('[data-t]');if(el){ev.preventDefault();seek(parseFloat(el.getAttribute('data-t')));}});
function update(){if(!a)return;var t=a.currentTime;var show=!a.paused||t>0;
var svgs=document.querySelectorAll('svg[data-t1]');for(var i=0;i<svgs.length;i++){var s=svgs[i];var l=s.querySelector('.playhead');if(!l)continue;
var x0=+s.getAttribute('data-x0'),x1=+s.getAttribute('data-x1'),t0=+s.getAttribute('data-t0'),t1=+s.getAttribute('data-t1');
var x=x0+Math.max(0,Math.min(1,(t-t0)/(t1-t0)))*(x1-x0);l.setAttribute('x1',x);l.setAttribute('x2',x);l.setAttribute('visibility',show?'visible':'hidden');}}
function follower(sel){var cs=document.querySelectorAll(sel),cst=[],cen=[],cur=null;
for(var k=0;k<cs.length;k++){cst.push(+cs[k].getAttribute('data-t'));cen.push(+cs[k].getAttribute('data-e'));}
return function(t){var lo=0,hi=cst.length-1,j=-1;while(lo<=hi){var m=(lo+hi)>>1;if(cst[m]<=t){j=m;lo=m+1;}else{hi=m-1;}}
var el=(j>=0&&t<cen[j]+0.05)?cs[j]:null;if(el!==cur){if(cur)cur.classList.remove('now');if(el)el.classList.add('now');cur=el;}};}
var marks=[follower('.script .c'),follower('.transcript .seg')];
function mark(t){for(var i=0;i<marks.length;i++){marks[i](t);}}
if(a){a.addEventListener('timeupdate',function(){mark(a.currentTime);});a.addEventListener('ended',function(){mark(-1);});}
if(a){a.addEventListener('timeupdate',update);a.addEventListener('seeked',update);}
var miss=document.getElementById('audio-missing');
function missing(){if(miss){miss.hidden=false;}document.documentElement.setAttribute('data-audio','missing');}
if(a&&miss){a.addEventListener('error',missing);if(a.error){missing();}}
document.documentElement.setAttribute('data-ready','1');
})();
"""


def script_marks(report: dict[str, Any]) -> dict[int, list[tuple[str, dict[str, Any]]]]:
    """Marks to show in the script, by the script index of the character they follow.

    Pauses with a ``char_index`` become ``("pause", pause)``; sentence ends and procedure steps
    passed without a pause (``alignment.missed_breaks`` / ``missed_steps``) become
    ``("missed", gap)``. Indices outside the script are ignored.
    """
    n = len(str(report.get("script") or ""))
    marks: dict[int, list[tuple[str, dict[str, Any]]]] = {}

    def ok(ci: object) -> bool:
        return isinstance(ci, int) and not isinstance(ci, bool) and 0 <= ci < n

    text = str(report.get("script") or "")
    for p in report.get("pauses") or []:
        if ok(p.get("char_index")):
            marks.setdefault(mark_position(text, p["char_index"]), []).append(("pause", p))
    al = report.get("alignment")
    if isinstance(al, dict):
        seen: set[int] = set()
        for key in ("missed_breaks", "missed_steps"):
            for gap in al.get(key) or []:
                ci = gap.get("char_index") if isinstance(gap, dict) else None
                if ci is not None and ok(ci) and ci not in seen:
                    seen.add(ci)
                    marks.setdefault(mark_position(text, ci), []).append(("missed", gap))
    return marks


def aligned_char_times(report: dict[str, Any], n: int) -> dict[int, tuple[float, float]]:
    """``{script index: (start_s, end_s)}`` from ``alignment.chars`` entries that carry an ``index``."""
    al = report.get("alignment")
    out: dict[int, tuple[float, float]] = {}
    if not isinstance(al, dict):
        return out
    for c in al.get("chars") or []:
        try:
            i, a, b = int(c["index"]), float(c["start_s"]), float(c["end_s"])
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= i < n:
            out[i] = (a, b)
    return out


def _seek_attrs(t: float | None) -> str:
    """Attributes that make an element play the recording from ``t`` (nothing when ``None``)."""
    return "" if t is None else f' data-t="{float(t):.3f}" tabindex="0" role="button"'


class _Page:
    """Builds the page section by section (an accumulator of HTML strings)."""

    def __init__(self, report: dict[str, Any], words: Words, audio_src: str) -> None:
        self.r = report
        self.w = words
        self.L = words.labels
        self.R = words.report
        self.audio_src = audio_src
        # Text that comes from the script is in Chinese whatever the report language: mark it.
        self.script_lang = ' lang="zh-CN"' if words.lang != "zh" else ""

    def header(self) -> str:
        r, w, L = self.r, self.w, self.L
        sp = r["speech"]
        ch = r["characters"]
        items = [
            (L["date"], _e(w.date(r.get("created", "")))),
            (L["duration"], _e(w.seconds(r["input"]["duration_s"]))),
            (L["speech_span"], _e(f"{w.span(sp['start_s'], sp['end_s'])} · {w.seconds(sp['span_s'])}")),
            (L["chars"], _e(f"{w.num(ch['count'])} · {w.source(ch['source'])}")),
        ]
        meta = "".join(f"<div><dt>{_e(k)}</dt><dd>{v}</dd></div>" for k, v in items)
        path = f'<p class="file">{_e(L["file"])}{_e(w.colon())}<span translate="no">{_e(r["input"]["path"])}</span></p>'
        if r["input"].get("script_path"):
            path += f'<p class="file">{_e(L["script_file"])}{_e(w.colon())}<span translate="no">{_e(r["input"]["script_path"])}</span></p>'
        return f'<header class="card"><h1>{_e(L["title"])}</h1>{path}<dl class="meta">{meta}</dl></header>'

    def headline(self) -> str:
        r, w, L = self.r, self.w, self.L
        rate, st = r["rate"], r["settings"]
        lo, hi = st["band_cpm"]
        verdict = rate["verdict"]
        gauge = svg.rate_gauge(rate["cpm"], (lo, hi), st["target_cpm"], verdict, w)
        # a phone shows the compact gauge instead (CSS): the wide one's text would be ~4 px there
        gauge += svg.rate_gauge(rate["cpm"], (lo, hi), st["target_cpm"], verdict, w, width=340)
        unit = L["cpm_unit"]
        sub = (
            f"{L['target']} {w.target(st['target_cpm'])} · {L['band']} {w.band(lo, hi)} · "
            f"{L['articulation']}{w.colon()}{w.cpm(rate['articulation_cpm'])}"
        )
        items = w.deductions(r)  # what the score lost, so that a trainee sees why it is not 100
        # each item on one line ("语速变化 −6" never splits between 语 and 速); the list may wrap between them
        joined = _e(self.R["list_sep"]).join(f'<span class="item">{_e(x)}</span>' for x in items)
        lost = f'<div class="lost" title="{_e(self.R["deductions_note"])}">{joined}</div>' if items else ""
        return (
            f'<section class="headline" aria-labelledby="h-rate"><div>'
            f'<h2 id="h-rate">{_e(L["rate"])}</h2>'
            f'<div class="big">{_e(w.num(shown_cpm(rate["cpm"])))}<small>{_e(unit)}</small>'
            f'<span class="verdict v-{_e(verdict)}">{_e(w.verdict(verdict))}</span></div>'
            f'<p class="sub">{_e(sub)}</p></div>'
            f'<div class="score"><div class="lbl">{_e(L["score"])}</div>'
            f'<div class="num">{_e(w.num(r["score"]))}</div><div class="lbl">/100</div>{lost}</div>'
            f"{gauge}</section>"
        )

    def warnings(self) -> str:
        ws = self.r.get("warnings") or []
        if not ws:
            return ""
        items = "".join(f"<li>{rich_text(x['message'], self.w)}</li>" for x in ws)
        return f'<section class="warn" aria-labelledby="h-warn"><h2 id="h-warn">{_e(self.L["warnings"])}</h2><ul>{items}</ul></section>'

    def player(self) -> str:
        linked = not self.audio_src.startswith("data:")
        # a linked recording that is not there (the report mailed or moved alone): say so, and where it looked
        missing = (
            f'<p class="missing" id="audio-missing" role="alert" hidden>'
            f'{_e(self.R["audio_missing"].format(path=unquote(self.audio_src)))}</p>'
            if linked
            else ""
        )
        return (
            f'<section class="player" aria-label="{_e(self.R["recording"])}">'
            f'<audio id="player" controls preload="metadata" src="{_e(self.audio_src)}">{_e(self.R["audio_fallback"])}</audio>'
            f'{missing}<p class="note hint">{_e(self.R["play_hint"])}</p></section>'
        )

    def _legend(self, with_areas: bool) -> str:
        items = []
        if with_areas:
            items.append(f'<li><span class="dot d-speech"></span>{_e(self.R["speech"])}</li>')
            items.append(f'<li><span class="dot d-silence"></span>{_e(self.R["silence"])}</li>')
        guessed = guessed_placements(self.r)  # placed from the sound alone: marked as guesses, as in the tables
        for key in ("sentence", "clause", "mid_phrase", "unknown"):
            items.append(f'<li><span class="dot d-{key}"></span>{_e(self.L["pauses"])} · {_e(self.w.placement(key, guessed))}</li>')
        al = self.r.get("alignment")
        if with_areas and isinstance(al, dict) and (al.get("missed_breaks") or al.get("missed_steps")):
            items.append(f'<li><span class="dot d-missed"></span>{_e(self.L["missed_break"])}</li>')
        return f'<ul class="legend">{"".join(items)}</ul>'

    def timeline(self) -> str:
        chart = svg.timeline(self.r, self.w)
        return (
            f'<section aria-labelledby="h-timeline"><h2 id="h-timeline">{_e(self.L["timeline"])}</h2>'
            f"{self._legend(True)}<div class=\"chartwrap\">{chart}</div><p class=\"note\">{_e(self.R['timeline_note'])}</p></section>"
        )

    def pace(self) -> str:
        r, w, L = self.r, self.w, self.L
        pace = r["pace"]
        if not several_windows(pace.get("series") or []):  # one window: no pace to chart (as the Markdown report)
            return ""
        chart = svg.pace_chart(r, w)
        f, s = pace["fastest"], pace["slowest"]
        stats = [
            (L["fastest"], f"{w.cpm(f['cpm'])} · {w.window(f)}", f["start_s"]),
            (L["slowest"], f"{w.cpm(s['cpm'])} · {w.window(s)}", s["start_s"]),
            (L["pace_cv"], self.R["cv_value"].format(v=w.cv(pace["cv"])), None),
        ]
        if drift_judged(speaking_s(r)):  # a slope per minute only where drift is judged
            stats.append((L["trend"], self.R["trend_value"].format(v=f"{pace['trend_cpm_per_min']:+,.0f}"), None))
        lis = "".join(
            f"<li{_seek_attrs(t)}><b>{_e(k)}</b>{_e(w.colon())}{_e(v)}</li>" for k, v, t in stats
        )
        note = self.R["pace_note"].format(window=w.num(pace["window_s"]))
        return (
            f'<section aria-labelledby="h-pace"><h2 id="h-pace">{_e(L["pace_chart"])}</h2><div class="chartwrap">{chart}</div>'
            f'<ul class="stats">{lis}</ul><p class="note">{_e(note)}</p></section>'
        )

    def pauses(self) -> str:
        r, w, L = self.r, self.w, self.L
        ps = r.get("pauses") or []
        total = sum(p["duration_s"] for p in ps)
        head = f"{L['pause_count']}{w.colon()}{w.num(len(ps))} · {L['pause_total']}{w.colon()}{w.seconds(total)}"
        method = w.pause_method(r.get("pause_method", ""))
        foot = f'<p class="note">{_e(L["placement_method"])}{_e(w.colon())}{_e(method)}</p>' if method else ""
        if not ps:
            return (
                f'<section aria-labelledby="h-pauses"><h2 id="h-pauses">{_e(L["pauses"])}</h2>'
                f'<p>{_e(L["no_pauses"])}</p></section>'
            )
        has_ctx = any(p.get("context") for p in ps)
        rows = []
        for i, p in enumerate(ps, 1):
            place = p.get("placement") or "unknown"
            ctx = f'<td{self.script_lang}>{rich_text(p.get("context") or "", self.w)}</td>' if has_ctx else ""
            rows.append(
                f'<tr data-t="{max(0.0, p["start_s"] - svg.PAUSE_LEAD_IN_S):.3f}" tabindex="0" role="button" title="{_e(L["play"])}">'
                f'<td class="num">{i}</td><td class="num">{_e(w.time(p["start_s"]))}</td>'
                f'<td class="num">{_e(w.pause(p["duration_s"]))}</td>'
                f'<td class="place"><span class="dot d-{_e(place)}"></span>{_e(w.placement(place, guessed_placements(r)))}</td>{ctx}</tr>'
            )
        ctx_h = f"<th>{_e(L['context'])}</th>" if has_ctx else ""
        table = (
            f'<div class="tablewrap"><table><thead><tr><th class="num">#</th><th class="num">{_e(L["start"])}</th>'
            f'<th class="num">{_e(L["length"])}</th><th>{_e(L["placement"])}</th>{ctx_h}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )
        return (
            f'<section aria-labelledby="h-pauses"><h2 id="h-pauses">{_e(L["pauses"])}</h2>'
            f'<p class="sub">{_e(head)}</p>{table}{foot}</section>'
        )

    def script(self) -> str:
        text = self.r.get("script")
        if not text:
            return ""
        w = self.w
        marks = script_marks(self.r)
        times = aligned_char_times(self.r, len(text))
        out = []
        for i, ch in enumerate(text):
            if i in times:
                a, b = times[i]
                out.append(f'<span class="c" data-t="{a:.3f}" data-e="{b:.3f}">{_e(ch)}</span>')
            else:
                out.append(_e(ch))
            for kind, item in marks.get(i, ()):
                if kind == "pause":
                    place = item.get("placement") or "unknown"
                    out.append(
                        f'<span class="pm p-{_e(place)}" data-t="{max(0.0, item["start_s"] - svg.PAUSE_LEAD_IN_S):.3f}" '
                        f'tabindex="0" role="button" lang="{_e(self.R["lang_tag"])}" '
                        f'title="{_e(w.time(item["start_s"]))} · {_e(w.pause_label(item["duration_s"], place))}">'
                        f"{_e(w.pause(item['duration_s']))}</span>"
                    )
                else:
                    t = float(item.get("time_s") or 0.0)
                    out.append(
                        f'<span class="pm missed" data-t="{max(0.0, t - svg.PAUSE_LEAD_IN_S):.3f}" tabindex="0" role="button" '
                        f'lang="{_e(self.R["lang_tag"])}" title="{_e(w.time(t))} · {_e(self.L["missed_break"])}">'
                        f"{_e(self.L['missed_break'])}</span>"
                    )
        note = self.R["script_marks"] if marks else self.R["script_plain"]
        return (
            f'<section aria-labelledby="h-script"><h2 id="h-script">{_e(self.L["script"])}</h2>'
            f'<p class="script"{self.script_lang}>{"".join(out).rstrip()}</p><p class="note">{_e(note)}</p></section>'
        )

    def transcript(self) -> str:
        """What the recogniser heard, one clickable span per segment (precise mode)."""
        tr = self.r.get("transcript")
        if not isinstance(tr, dict) or not (tr.get("text") or tr.get("segments")):
            return ""
        w = self.w
        segs = []
        for sg in tr.get("segments") or []:
            try:
                a, b = float(sg["start_s"]), float(sg["end_s"])
            except (KeyError, TypeError, ValueError):
                continue
            text = str(sg.get("text") or "").strip()
            if text:
                segs.append(
                    f'<span class="seg" data-t="{a:.3f}" data-e="{b:.3f}" tabindex="0" role="button">'
                    f'<span class="ts" lang="{_e(self.R["lang_tag"])}">{_e(w.time(a))}</span>{_e(text)}</span>'
                )
        body = "".join(segs) if segs else _e(str(tr.get("text") or "").strip())
        return (
            f'<section aria-labelledby="h-transcript"><h2 id="h-transcript">{_e(self.L["transcript"])}</h2>'
            f'<p class="transcript"{self.script_lang}>{body}</p><p class="note">{_e(self.R["transcript_note"])}</p></section>'
        )

    def fillers(self) -> str:
        """Filler words and er/um hesitations, each with its time (precise mode)."""
        fs = [f for f in self.r.get("fillers") or [] if isinstance(f, dict) and f.get("start_s") is not None]
        if not fs:
            return ""
        w, L = self.w, self.L
        counts: dict[str, int] = {}
        for f in fs:
            counts[f.get("kind", "")] = counts.get(f.get("kind", ""), 0) + 1
        head = " · ".join(f"{w.filler_kind(k)}{w.colon()}{w.num(n)}" for k, n in sorted(counts.items()))
        rows = []
        for i, f in enumerate(fs, 1):
            t = float(f["start_s"])
            kind = str(f.get("kind", ""))
            rows.append(
                f'<tr{_seek_attrs(max(0.0, t - svg.PAUSE_LEAD_IN_S))} title="{_e(L["play"])}">'
                f'<td class="num">{i}</td><td class="num">{_e(w.time(t))}</td>'
                f'<td{self.script_lang}>{_e(f.get("word", ""))}</td><td class="k-{_e(kind)}">{_e(w.filler_kind(kind))}</td></tr>'
            )
        table = (
            f'<div class="tablewrap"><table><thead><tr><th class="num">#</th><th class="num">{_e(L["start"])}</th>'
            f'<th>{_e(L["word"])}</th><th>{_e(L["kind"])}</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        )
        return (
            f'<section aria-labelledby="h-fillers"><h2 id="h-fillers">{_e(L["fillers"])}</h2>'
            f'<p class="sub">{_e(head)}</p>{table}</section>'
        )

    def jargon(self) -> str:
        """Policy terms with plainer wordings: when said (clickable), or that they are in the script."""
        js = [j for j in self.r.get("jargon") or [] if isinstance(j, dict) and j.get("term")]
        if not js:
            return ""
        w, L = self.w, self.L
        rows = []
        for j in js:
            t = j.get("start_s")
            t = None if t is None else float(t)
            attrs = _seek_attrs(None if t is None else max(0.0, t - svg.PAUSE_LEAD_IN_S))
            title = f' title="{_e(L["play"])}"' if t is not None else ""
            when = f'<td class="when{"" if t is not None else " muted"}">{_e(w.said_at(t))}</td>'
            rows.append(
                f"<tr{attrs}{title}><td class=\"term\"{self.script_lang}>{_e(j['term'])}</td>"
                f"<td{self.script_lang}>{_e(j.get('plain', ''))}</td>{when}</tr>"
            )
        table = (
            f'<div class="tablewrap"><table><thead><tr><th>{_e(L["term"])}</th><th>{_e(L["plain"])}</th>'
            f'<th class="when">{_e(L["said_at"])}</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        )
        return (
            f'<section aria-labelledby="h-jargon"><h2 id="h-jargon">{_e(L["jargon"])}</h2>'
            f'{table}<p class="note">{_e(self.R["jargon_note"])}</p></section>'
        )

    def findings(self) -> str:
        r, w, L = self.r, self.w, self.L
        fs = sorted(r.get("findings") or [], key=lambda f: SEVERITY_RANK.get(f.get("severity", "info"), 3))
        guide = r.get("guidance") or {}
        if not fs:
            body = f"<p>{_e(L['no_findings'])}</p>"
        else:
            lis = []
            for f in fs:
                sev = f.get("severity", "info")
                t = f.get("start_s")
                attrs = f' data-t="{float(t):.3f}" title="{_e(L["play"])}"' if t is not None else ""
                links = []
                if t is not None:
                    links.append(f'<span class="chip">▶ {_e(w.time(t))}</span>')
                g = guide.get(f.get("guidance", ""))
                if g:
                    links.append(f'<a href="#g-{_e(f["guidance"])}">{_e(L["guidance"])}{_e(w.colon())}{_e(g["title"])}</a>')
                lis.append(
                    f'<li class="sev-{_e(sev)}"{attrs}><p class="f-msg"><span class="badge sev-{_e(sev)}">{_e(w.severity(sev))}</span>'
                    f'{rich_text(f["message"], self.w)}</p><p class="f-links">{"".join(links)}</p></li>'
                )
            body = f'<ol class="findings">{"".join(lis)}</ol>'
        return f'<section aria-labelledby="h-findings"><h2 id="h-findings">{_e(L["findings"])}</h2>{body}</section>'

    def guidance(self) -> str:
        guide = self.r.get("guidance") or {}
        if not guide:
            return ""
        L = self.L
        cards = []
        note = self.w.target_note(self.r["settings"])  # a trainer's target next to the material's figure
        for gid, g in guide.items():
            local = f'<p class="target-note">{_e(note)}</p>' if note and gid == "pace" else ""
            cards.append(
                f'<article class="gcard" id="g-{_e(gid)}"><h3>{_e(g["title"])}</h3>'
                f'<p class="src">{_e(L["source"])}{_e(self.w.colon())}{_e(g["source"])}</p>{local}'
                f'<dl><dt>{_e(L["advice"])}</dt><dd>{_e(g["advice"])}</dd>'
                f'<dt>{_e(L["tip"])}</dt><dd>{_e(g["tip"])}</dd></dl></article>'
            )
        return (
            f'<section aria-labelledby="h-guidance"><h2 id="h-guidance">{_e(L["guidance"])}</h2>'
            f'<div class="cards">{"".join(cards)}</div></section>'
        )

    def self_check(self) -> str:
        items = self.r.get("self_check") or []
        if not items:
            return ""
        L = self.L
        lis = []
        for i, g in enumerate(items):
            lis.append(
                f'<li><label><input type="checkbox" id="sc-{i}"><span><b>{_e(g["title"])}</b>{_e(self.w.colon())}{_e(g["advice"])}'
                f'<br><span class="note">{_e(L["tip"])}{_e(self.w.colon())}{_e(g["tip"])} · {_e(g["source"])}</span></span></label></li>'
            )
        return (
            f'<section aria-labelledby="h-self"><h2 id="h-self">{_e(L["self_check"])}</h2>'
            f'<ul class="checks">{"".join(lis)}</ul></section>'
        )

    def footer(self) -> str:
        st = self.r["settings"]
        w = self.w
        lo, hi = st["band_cpm"]
        settings = self.R["settings_value"].format(
            target=w.limit(st["target_cpm"]), lo=w.limit(lo), hi=w.limit(hi), min_pause=w.num(st["min_pause_s"], 2)
        ) + self.R["list_sep"] + self.R["settings_pause_limit"].format(max_pause=w.limit(st["max_pause_s"], 1))
        gen = self.R["generated_by"].format(generator=self.r.get("generator", "speechcoach"))
        return f"<footer><p>{_e(self.R['settings'])}{_e(w.colon())}{_e(settings)}</p><p>{_e(gen)}</p></footer>"


def render_html(report: dict[str, Any], *, audio_src: str | None = None) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    report : dict
        A report from :func:`speechcoach.render.report.to_dict` (or read back from its JSON).
    audio_src : str, optional
        ``src`` of the audio player: a ``data:`` URI (:func:`speechcoach.render.media.embedded_recording`,
        or :func:`audio_source` with ``embed``) or a link (:func:`audio_source`); defaults to
        a link to the recording's path relative to the working folder.

    Returns
    -------
    str
        The HTML document.
    """
    words = Words(report.get("lang", "zh"))
    if audio_src is None:
        audio_src = audio_source(report["input"]["path"])
    page = _Page(report, words, audio_src)
    name = Path(str(report["input"]["path"])).name
    body = "".join(
        [
            page.header(),
            page.headline(),
            page.warnings(),
            page.player(),
            page.timeline(),
            page.pace(),
            page.pauses(),
            page.script(),
            page.transcript(),
            page.fillers(),
            page.jargon(),
            page.findings(),
            page.guidance(),
            page.self_check(),
            page.footer(),
        ]
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(words.report["lang_tag"])}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="{_e(report.get("generator", "speechcoach"))}">'
        f'<meta name="speechcoach-schema" content="{_e(report.get("schema", ""))}">'
        f"<title>{_e(words.labels['title'])} · {_e(name)}</title>"
        f"<style>{CSS}</style></head>\n<body><main>{body}</main>\n<script>{JS}</script></body></html>\n"
    )
