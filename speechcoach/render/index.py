"""The batch index page: one self-contained HTML file (no CDN, no external files).

It shows the cohort's distribution of speaking rates against the moderate band (an inline
SVG histogram; each rate placed by the whole number the reports show, ``shown_cpm``, and
coloured by its verdict; bars start at the band's edges), per-trainee progress (first vs latest attempt) and a sortable, filterable
table linking every recording's report. All strings come from ``locales/*.toml`` (section
``[batch]``), so the page is Chinese or English like the reports.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, Sequence
from urllib.parse import quote

from ..locales import strings
from ..analysis.metrics import shown_cpm, shown_limit
from ..analysis.metrics import verdict as rate_verdict
from .words import Words

BIN_CPM = 10.0
"""Histogram bin width in characters/min."""

_CSS = """
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin-top:1.8rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.meta{color:#57606a;font-size:.9rem}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .9rem;min-width:8rem}.card b{display:block;font-size:1.4rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #eaeef2;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}th.sortable{cursor:pointer;user-select:none}th.sortable:after{content:" \\2195";color:#8c959f}
th[aria-sort=ascending]:after{content:" \\2191"}th[aria-sort=descending]:after{content:" \\2193"}
td.num{text-align:right;font-variant-numeric:tabular-nums}.slow{color:#9a6700}.fast{color:#cf222e}.on_target{color:#1a7f37}
.err{color:#cf222e}.pass{color:#1a7f37;font-weight:600;white-space:nowrap}.fail{color:#cf222e;font-weight:600;white-space:nowrap}
.controls{display:flex;gap:.6rem;margin:.6rem 0;flex-wrap:wrap}.controls input,.controls select{font:inherit;padding:.25rem .4rem}
.stopped{border:1px solid #d4a72c;background:#fff8c5;border-radius:6px;padding:.5rem .9rem}.up{color:#1a7f37}.down{color:#cf222e}.note{color:#57606a;font-size:.85rem}svg text{font-family:inherit}
.nowrap{white-space:nowrap}.wide{overflow-x:auto;max-width:100%}.wide table{min-width:36rem}
@media (max-width:40rem){body{margin:1rem auto;padding:0 .6rem}.card{min-width:6.5rem;padding:.4rem .6rem}}
"""

_JS = """
(function(){
var table=document.getElementById('recs');if(!table)return;
var tbody=table.tBodies[0];var rows=Array.prototype.slice.call(tbody.rows);
var q=document.getElementById('q'),v=document.getElementById('verdict'),t=document.getElementById('trainee'),shown=document.getElementById('shown');
function apply(){var s=q.value.toLowerCase(),vv=v.value,tt=t.value,n=0;
rows.forEach(function(r){var ok=(!s||r.textContent.toLowerCase().indexOf(s)>=0)&&(!vv||r.dataset.verdict===vv)&&(!tt||r.dataset.trainee===tt);
r.hidden=!ok;if(ok)n++;});shown.textContent=n;}
[q,v,t].forEach(function(e){e.addEventListener('input',apply);e.addEventListener('change',apply);});
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){th.classList.add('sortable');th.addEventListener('click',function(){
var asc=th.getAttribute('aria-sort')!=='ascending';Array.prototype.forEach.call(table.tHead.rows[0].cells,function(o){o.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');var num=th.dataset.type==='num';
rows.sort(function(a,b){var x=a.cells[i].dataset.v!==undefined?a.cells[i].dataset.v:a.cells[i].textContent,y=b.cells[i].dataset.v!==undefined?b.cells[i].dataset.v:b.cells[i].textContent;
if(num){x=x===''?Infinity:parseFloat(x);y=y===''?Infinity:parseFloat(y);return asc?x-y:y-x;}return asc?x.localeCompare(y):y.localeCompare(x);});
rows.forEach(function(r){tbody.appendChild(r);});});});
apply();})();
"""


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _num(x: Any, nd: int = 0) -> str:
    if x is None or x == "":
        return ""
    return f"{float(x):.{nd}f}"


def _cpm(x: Any) -> str:
    """A rate as every report shows it (:func:`speechcoach.analysis.metrics.shown_cpm`), or empty."""
    return "" if x is None or x == "" else str(shown_cpm(x))


def _href(rel: str) -> str:
    return "/".join(quote(part) for part in rel.split("/"))


def _bars_in_band(lo: float, hi: float) -> int:
    """How many bars of :data:`BIN_CPM` cover the band ``lo``–``hi`` (cpm); at least one."""
    return max(1, math.ceil((hi - lo) / BIN_CPM - 1e-9))


def _bar_of(shown: int, verdict: str, lo: float, hi: float) -> int:
    """The bar a shown rate falls in: bars are :data:`BIN_CPM` wide and start at the band's edges.

    Index 0 is the band's first bar (``lo`` up to ``lo + 10``); the band's last bar takes its
    top edge (a 100–140 band's last bar holds 130–140); bars below the band count down from
    -1 (90–99), bars above it are numbered after the band's last bar (141–150, 151–160...).
    The verdict decides the side, so a bar never mixes verdicts.
    """
    n_in = _bars_in_band(lo, hi)
    if verdict == "slow":
        return min(-1, math.floor((shown - lo) / BIN_CPM))
    if verdict == "fast":
        return n_in - 1 + max(1, math.ceil((shown - hi) / BIN_CPM))
    return min(n_in - 1, max(0, math.floor((shown - lo) / BIN_CPM)))


def _bar_span(i: int, lo: float, hi: float) -> tuple[float, float, str]:
    """Where bar ``i`` of :func:`_bar_of` is drawn (cpm) and the shown rates it holds (text)."""
    n_in = _bars_in_band(lo, hi)
    if i < 0:  # below the band: [a, b)
        a, b = lo + i * BIN_CPM, lo + (i + 1) * BIN_CPM
        first, last = math.ceil(a), math.ceil(b) - 1
    elif i < n_in:  # in the band: [a, b), the last one [a, hi]
        a, b = lo + i * BIN_CPM, min(hi, lo + (i + 1) * BIN_CPM)
        first, last = math.ceil(a), (math.floor(hi) if i == n_in - 1 else math.ceil(b) - 1)
    else:  # above the band: (a, b]
        k = i - n_in
        a, b = hi + k * BIN_CPM, hi + (k + 1) * BIN_CPM
        first, last = math.floor(a) + 1, math.floor(b)
    return a, b, f"{first}–{last}"


def histogram(
    values: Sequence[float],
    band: Sequence[float],
    target: float,
    *,
    labels: dict[str, str],
    verdicts: Sequence[str] | None = None,
    width: int = 680,
    height: int = 240,
) -> str:
    """An inline SVG histogram of speaking rates with the band shaded and the target marked.

    Every rate is placed by the number the reports show (:func:`speechcoach.analysis.metrics.shown_cpm`)
    and coloured by its verdict: the bars start at the band's edges (see :func:`_bar_of`), so a
    bar holds one verdict only and its colour is that verdict's (140.4 cpm, shown 140 and on
    target in a 100–140 band, is in the green 130–140 bar).

    Parameters
    ----------
    values : sequence of float
        Rates in characters/min, as stored.
    band : (lo, hi)
    target : float
    labels : dict
        Localised ``[batch]`` strings (axis titles, legend).
    verdicts : sequence of str, optional
        Each rate's verdict (``slow``/``on_target``/``fast``), as its report gives it; judged
        from the band (:func:`speechcoach.analysis.metrics.verdict`) where not given.
    """
    lo_b, hi_b = float(band[0]), float(band[1])
    if verdicts is None:
        verdicts = [rate_verdict(v, (lo_b, hi_b)) for v in values]
    bars = _bar_counts(values, verdicts, lo_b, hi_b)
    i0 = min([*bars, -3])
    i1 = max([*bars, _bars_in_band(lo_b, hi_b) + 2])
    ml, mr, mt, mb = 40, 12, 34, 42
    pw, ph = width - ml - mr, height - mt - mb
    x0, x1 = _bar_span(i0, lo_b, hi_b)[0], _bar_span(i1, lo_b, hi_b)[1]
    scale = _Scale(x0=x0, x1=x1, ymax=max([*bars.values(), 1]), ml=ml, mt=mt, pw=pw, ph=ph)
    sx = scale.sx
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px;height:auto" role="img" aria-label="{_e(labels["distribution"])}">',
        f'<rect x="{sx(lo_b):.1f}" y="{mt}" width="{sx(hi_b) - sx(lo_b):.1f}" height="{ph}" fill="#dafbe1"/>',
        *_bar_rects(bars, scale, lo_b, hi_b),
        f'<line x1="{sx(target):.1f}" x2="{sx(target):.1f}" y1="17" y2="{mt + ph}" stroke="#0969da" stroke-width="2" stroke-dasharray="5,3"/>',
        f'<text x="{sx(target):.1f}" y="13" font-size="11" text-anchor="middle" fill="#0969da">{_e(labels["target"])} {shown_limit(target)}</text>',
        f'<line x1="{ml}" x2="{ml + pw}" y1="{mt + ph}" y2="{mt + ph}" stroke="#57606a"/>',
        *_ticks(i0, i1, scale, lo_b, hi_b),
        *_titles_and_legend(scale, labels, height, lo_b, hi_b),
        "</svg>",
    ]
    return "".join(parts)


@dataclass(frozen=True)
class _Scale:
    """The histogram's plot: rates ``x0``–``x1`` (cpm) and counts 0–``ymax`` in a ``pw`` × ``ph`` box at (``ml``, ``mt``)."""

    x0: float
    x1: float
    ymax: int
    ml: int
    mt: int
    pw: int
    ph: int

    def sx(self, v: float) -> float:
        """The x of rate ``v`` (cpm)."""
        return self.ml + (v - self.x0) / (self.x1 - self.x0) * self.pw

    def sy(self, c: float) -> float:
        """The y of count ``c``."""
        return self.mt + self.ph - c / self.ymax * self.ph


def _bar_counts(values: Sequence[float], verdicts: Sequence[str], lo: float, hi: float) -> dict[int, int]:
    """How many rates fall in each bar of :func:`_bar_of` (by the rate shown), by bar index."""
    bars: dict[int, int] = {}
    for v, verdict in zip(values, verdicts):
        i = _bar_of(shown_cpm(v), verdict, lo, hi)
        bars[i] = bars.get(i, 0) + 1
    return bars


def _bar_rects(bars: dict[int, int], scale: _Scale, lo: float, hi: float) -> list[str]:
    """Each bar coloured by its verdict, with the shown rates it holds on hover and its count above it."""
    n_in = _bars_in_band(lo, hi)
    sx, sy, mt, ph = scale.sx, scale.sy, scale.mt, scale.ph
    parts = []
    for i in sorted(bars):
        c = bars[i]
        a, b, held = _bar_span(i, lo, hi)
        colour = "#bf8700" if i < 0 else "#2da44e" if i < n_in else "#cf222e"
        parts.append(
            f'<rect x="{sx(a) + 1:.1f}" y="{sy(c):.1f}" width="{max(sx(b) - sx(a) - 2, 1):.1f}" height="{mt + ph - sy(c):.1f}" fill="{colour}">'
            f"<title>{held}: {c}</title></rect>"
        )
        parts.append(f'<text x="{(sx(a) + sx(b)) / 2:.1f}" y="{sy(c) - 3:.1f}" font-size="11" text-anchor="middle">{c}</text>')
    return parts


TICK_STEPS_CPM = (10, 20, 50, 100, 200, 500)
"""The histogram's tick spacings (cpm), tried in this order (:func:`_tick_step`)."""

TICK_MIN_PX = 44
"""The usual least distance between two regular ticks of the histogram (px)."""

TICK_TIGHT_PX = 34
"""The least distance between two regular ticks (px) when that spacing puts the band's edges on
the grid (the labels, at most 5 characters of 11 px, still do not touch)."""


def _tick_step(px_per_cpm: float, lo: float, hi: float) -> float:
    """The spacing of the histogram's regular ticks (cpm).

    The smallest of :data:`TICK_STEPS_CPM` that leaves :data:`TICK_MIN_PX` between ticks,
    unless a spacing that puts both band edges on the grid (100–140: every 10 or 20) is at most
    2.5 times as wide and leaves at least :data:`TICK_TIGHT_PX`: then that one (the widest such
    spacing under :data:`TICK_MIN_PX`, else the narrowest over it), so the band's edges fall
    among the regular ticks and the axis reads evenly.
    """
    wide = next((st for st in TICK_STEPS_CPM if st * px_per_cpm >= TICK_MIN_PX), TICK_STEPS_CPM[-1])
    on_edges = [st for st in TICK_STEPS_CPM if lo % st == 0 and hi % st == 0 and TICK_TIGHT_PX <= st * px_per_cpm and st <= 2.5 * wide]
    roomy = [st for st in on_edges if st * px_per_cpm >= TICK_MIN_PX]
    return float(roomy[0] if roomy else on_edges[-1] if on_edges else wide)


def _ticks(i0: int, i1: int, scale: _Scale, lo: float, hi: float) -> list[str]:
    """Ticks at regular rates (:func:`_tick_step`: every 10, 20, 50… cpm) across the plot, and
    at the band's edges.

    The band's edges always have one, and no regular tick is within 24 px of them (the labels
    would run together); ``i0``, ``i1``: the first and last bars drawn (:func:`_bar_of`).
    """
    sx, mt, ph = scale.sx, scale.mt, scale.ph
    x0, x1 = _bar_span(i0, lo, hi)[0], scale.x1
    step = _tick_step(scale.pw / (x1 - x0), lo, hi)
    regular = [k * step for k in range(math.ceil(x0 / step - 1e-9), math.floor(x1 / step + 1e-9) + 1)]
    ticks = sorted({*(t for t in regular if min(abs(sx(t) - sx(lo)), abs(sx(t) - sx(hi))) >= 24), lo, hi})
    parts = []
    for tick in ticks:
        parts.append(f'<line x1="{sx(tick):.1f}" x2="{sx(tick):.1f}" y1="{mt + ph}" y2="{mt + ph + 4}" stroke="#57606a"/>')
        parts.append(f'<text x="{sx(tick):.1f}" y="{mt + ph + 16}" font-size="11" text-anchor="middle">{shown_limit(tick)}</text>')
    return parts


def _titles_and_legend(scale: _Scale, labels: dict[str, str], height: int, lo: float, hi: float) -> list[str]:
    """The axis titles and the band's legend."""
    ml, mt, pw, ph = scale.ml, scale.mt, scale.pw, scale.ph
    return [
        f'<text x="{ml + pw / 2:.1f}" y="{height - 6}" font-size="12" text-anchor="middle">{_e(labels["rate_axis"])}</text>',
        f'<text x="12" y="{mt + ph / 2:.1f}" font-size="12" text-anchor="middle" transform="rotate(-90 12 {mt + ph / 2:.1f})">{_e(labels["count_axis"])}</text>',
        f'<rect x="{ml + pw - 150}" y="4" width="10" height="10" fill="#dafbe1" stroke="#2da44e"/>',
        f'<text x="{ml + pw - 136}" y="13" font-size="11" fill="#1a7f37">{_e(labels["band"])} {shown_limit(lo)}–{shown_limit(hi)}</text>',
    ]


def _interrupted_note(summary: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """A notice that the summary is partial, when the run that wrote it was interrupted."""
    if not summary.get("interrupted"):
        return []
    missing = int(summary.get("missing") or 0)
    if missing:
        text = labels["interrupted_missing"].format(missing=missing, total=summary["counts"]["recordings"] + missing)
    else:
        text = labels["interrupted"]
    return [f'<p class="stopped" role="status">{_e(text)}</p>']


def render_index(summary: dict[str, Any], *, lang: str | None = None) -> str:
    """The batch ``index.html`` from a ``speechcoach.batch/1`` summary dictionary."""
    lang = lang or summary.get("lang", "zh")
    S = strings(lang)
    ok = [r for r in summary["recordings"] if not r.get("error")]
    h = [
        *_head(summary, S, lang),
        *_cards(summary, ok, S["batch"]),
        *_distribution(summary, ok, S),
        *_progress(summary, S),
        *_recordings(summary, S),
        f"<script>{_JS}</script></body></html>\n",
    ]
    return "\n".join(h)


def _head(summary: dict[str, Any], S: dict[str, Any], lang: str) -> list[str]:
    """The document's head and title, the meta line (date, generator, target, band, pause limit), any interrupted notice."""
    L = S["batch"]
    st = summary["settings"]
    lo, hi = st["band_cpm"]
    sep = S["report"]["list_sep"]
    return [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(L['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(L['title'])}</h1>",
        f'<p class="meta">{_e(L["generated"])}{_e(S["report"]["colon"])}{_e(Words(lang).date(str(summary.get("created") or "")))} · {_e(summary.get("generator"))} · '
        f'{_e(L["target"])} {shown_limit(st["target_cpm"])} {_e(L["cpm_unit"])}{_e(sep)}{_e(L["band"])} {shown_limit(lo)}–{shown_limit(hi)}'
        + (f'{_e(sep)}{_e(L["max_pause"])} {shown_limit(st["max_pause_s"], 1)} {_e(L["seconds_unit"])}' if st.get("max_pause_s") is not None else "")
        + "</p>",
        *_interrupted_note(summary, L),
    ]


def _cards(summary: dict[str, Any], ok: list[dict[str, Any]], L: dict[str, str]) -> list[str]:
    """The cohort in figures: recordings, analysed, failed, median rate, in band and passed ``check``.

    ``ok`` are the recordings analysed without error.
    """
    rates = sorted(float(r["cpm"]) for r in ok)
    median = (rates[len(rates) // 2] if len(rates) % 2 else (rates[len(rates) // 2 - 1] + rates[len(rates) // 2]) / 2) if rates else None
    lo, hi = summary["settings"]["band_cpm"]
    in_band = sum(lo <= shown_cpm(v) <= hi for v in rates)  # the band judged on the shown rate, like the verdict
    c = summary["counts"]
    return [
        '<div class="cards">',
        f'<div class="card">{_e(L["recordings"])}<b>{c["recordings"]}</b></div>',
        f'<div class="card">{_e(L["analysed"])}<b>{c["analysed"]}</b></div>',
        f'<div class="card">{_e(L["failed"])}<b class="{"err" if c["failed"] else ""}">{c["failed"]}</b></div>',
        f'<div class="card">{_e(L["median_rate"])}<b>{_cpm(median)}</b></div>',
        f'<div class="card">{_e(L["in_band"])}<b>{in_band}/{len(rates)}</b></div>',
        f'<div class="card">{_e(L["passed_check"])}<b>{c.get("passed_check", 0)}/{len(rates)}</b></div>',
        "</div>",
    ]


def _distribution(summary: dict[str, Any], ok: list[dict[str, Any]], S: dict[str, Any]) -> list[str]:
    """The rates' histogram with the count per verdict, or a note that there are none.

    ``ok`` are the recordings analysed without error.
    """
    L = S["batch"]
    colon = S["report"]["colon"]
    st = summary["settings"]
    lo, hi = st["band_cpm"]
    c = summary["counts"]
    out = [f"<h2>{_e(L['distribution'])}</h2>"]
    if not ok:
        return [*out, f"<p>{_e(L['no_data'])}</p>"]
    verdicts = [r.get("verdict") or rate_verdict(float(r["cpm"]), (lo, hi)) for r in ok]
    return [
        *out,
        histogram([float(r["cpm"]) for r in ok], (lo, hi), st["target_cpm"], labels=L, verdicts=verdicts),
        f'<p class="note">{_e(L["slow"])}{_e(colon)}{c["slow"]} · {_e(L["on_target"])}{_e(colon)}{c["on_target"]} · {_e(L["fast"])}{_e(colon)}{c["fast"]}</p>',
    ]


def _progress(summary: dict[str, Any], S: dict[str, Any]) -> list[str]:
    """Each trainee's first and latest attempt (rate, verdict, score), the change between them and the attempts in band.

    The attempts count every recording and says how many were analysed and how many failed when
    any failed, as "in band" counts out of the analysed ones only; the colours of the rate
    change (closer to the target or further from it) are explained under the table.
    """
    L, V = S["batch"], S["verdict"]
    colon = S["report"]["colon"]
    target = float(summary["settings"]["target_cpm"])
    closer, further = L["change_closer"].format(target=shown_limit(target)), L["change_further"]
    head = {k: f"<th>{_e(L[k])}</th>" for k in ("trainee", "attempts", "first", "latest", "change_cpm", "change_score", "in_band")}
    head["in_band"] = f'<th title="{_e(L["in_band_of"])}">{_e(L["in_band"])}</th>'
    out = [
        f"<h2>{_e(L['progress'])}</h2>",
        f'<p class="note">{_e(L["progress_note"])}</p>',
        '<div class="wide"><table><thead><tr>' + "".join(head.values()) + "</tr></thead><tbody>",
    ]
    for t in summary.get("trainees", []):
        attempts = _attempts_cell(t, L)
        if "first" not in t:
            out.append(f"<tr><td>{_e(t['trainee'])}</td>{attempts}<td colspan=5 class=err>{_e(L['no_data'])}</td></tr>")
            continue
        f, l = t["first"], t["latest"]
        change = shown_cpm(l["cpm"]) - shown_cpm(f["cpm"])
        gap_first, gap_latest = abs(shown_cpm(f["cpm"]) - target), abs(shown_cpm(l["cpm"]) - target)
        better, why = ("up", closer) if gap_latest < gap_first else ("down", further) if gap_latest > gap_first else ("", "")
        out.append(
            f"<tr><td>{_e(t['trainee'])}</td>{attempts}"
            f"<td>{_cpm(f['cpm'])} <span class={_e(f['verdict'])}>{_e(V.get(f['verdict'], f['verdict']))}</span> · {f['score']}<br><span class=note>{_e(_base(f['file']))}</span></td>"
            f"<td>{_cpm(l['cpm'])} <span class={_e(l['verdict'])}>{_e(V.get(l['verdict'], l['verdict']))}</span> · {l['score']}<br><span class=note>{_e(_base(l['file']))}</span></td>"
            f"<td class='num {better}'" + (f' title="{_e(why)}"' if why else "") + f">{change:+d}</td><td class=num>{t['delta_score']:+d}</td>"
            f'<td class=num title="{_e(L["in_band_of"])}">{t["in_band"]}/{t["analysed"]}</td></tr>'
        )
    out.append("</tbody></table></div>")
    out.append(
        f'<p class="note">{_e(L["change_cpm"])}{_e(colon)}<span class=up>■</span> {_e(closer)} · <span class=down>■</span> {_e(further)}</p>'
    )
    return out


def _attempts_cell(t: dict[str, Any], L: dict[str, str]) -> str:
    """A trainee's recordings: the count, and how many were analysed and how many failed when any failed."""
    failed = int(t.get("failed") or 0)
    detail = f'<br><span class="note nowrap">{_e(L["attempts_detail"].format(analysed=t["analysed"], failed=failed))}</span>' if failed else ""
    return f"<td class=num>{t['attempts']}{detail}</td>"


_COLUMNS = (
    ("trainee", "text"),
    ("file", "text"),
    ("duration", "num"),
    ("chars", "num"),
    ("cpm", "num"),
    ("verdict", "text"),
    ("pauses", "num"),
    ("longest_pause", "num"),
    ("mid_phrase", "num"),
    ("pace_cv", "num"),
    ("pitch_range", "num"),
    ("trailing", "num"),
    ("score", "num"),
    ("check", "text"),
    ("error", "text"),
)
"""The recordings table's columns: the ``[batch]`` label of each and how the page's script sorts it."""


def _recordings(summary: dict[str, Any], S: dict[str, Any]) -> list[str]:
    """Every recording: the filter controls and a sortable table, one row each (:func:`_recording_row`)."""
    L, V = S["batch"], S["verdict"]
    colon = S["report"]["colon"]
    rows = summary["recordings"]
    trainees = sorted({r["trainee"] for r in rows if r.get("trainee")})
    return [
        f"<h2>{_e(L['all_recordings'])}</h2>",
        '<div class="controls">'
        f'<input id="q" type="search" placeholder="{_e(L["filter"])}" aria-label="{_e(L["filter"])}">'
        f'<select id="trainee" aria-label="{_e(L["trainee"])}"><option value="">{_e(L["all_trainees"])}</option>'
        + "".join(f'<option value="{_e(t)}">{_e(t)}</option>' for t in trainees)
        + "</select>"
        f'<select id="verdict" aria-label="{_e(L["verdict"])}"><option value="">{_e(L["all_verdicts"])}</option>'
        + "".join(f'<option value="{k}">{_e(V[k])}</option>' for k in ("slow", "on_target", "fast"))
        + f'<option value="error">{_e(L["error"])}</option></select>'
        f'<span class="note">{_e(L["shown"])}{_e(colon)}<span id="shown">{len(rows)}</span>/{len(rows)}</span></div>',
        '<div class="wide"><table id="recs"><thead><tr>' + "".join(f'<th data-type="{t}">{_e(L[k])}</th>' for k, t in _COLUMNS) + "</tr></thead><tbody>",
        *(_recording_row(r, L, V) for r in rows),
        "</tbody></table></div>",
    ]


def _recording_row(r: dict[str, Any], L: dict[str, str], V: dict[str, str]) -> str:
    """One row of the recordings table: a summary row's figures, its ``check`` verdict with the reasons, or its error."""
    err = r.get("error") or ""
    verdict = "error" if err else r.get("verdict") or ""
    link = r.get("report_html") or r.get("report_json") or ""
    name = _e(_base(r["file"]))
    file_cell = f'<a href="{_e(_href(link))}" title="{_e(r["file"])}">{name}</a>' if link else f'<span title="{_e(r["file"])}">{name}</span>'
    chk = r.get("check") or ""
    chk_label = {"pass": L["pass"], "fail": L["fail"], "error": L["error"]}.get(chk, chk)
    src = "" if r.get("char_source") in (None, "script") else f' title="{_e(L["estimated"])}"'
    # the error's stable code, and its English wording on hover
    err_attrs = f' data-code="{_e(r.get("error_code"))}" title="{_e(r.get("error_en") or err)}"' if err else ""
    return (
        f'<tr data-verdict="{_e(verdict)}" data-trainee="{_e(r.get("trainee"))}">'
        f"<td>{_e(r.get('trainee'))}</td><td>{file_cell}</td>"
        f'<td class=num data-v="{_e(r.get("duration_s"))}">{_num(r.get("duration_s"), 1)}</td>'
        f'<td class=num data-v="{_e(r.get("characters"))}"{src}>{_e(r.get("characters"))}{"~" if src else ""}</td>'
        f'<td class=num data-v="{_e(r.get("cpm"))}">{_cpm(r.get("cpm"))}</td>'
        f'<td class="{_e(verdict)}">{_e(V.get(verdict, "") if verdict != "error" else "")}</td>'
        f'<td class=num data-v="{_e(r.get("pauses"))}">{_e(r.get("pauses"))}</td>'
        f'<td class=num data-v="{_e(r.get("longest_pause_s"))}">{_num(r.get("longest_pause_s"), 1)}</td>'
        f'<td class=num data-v="{_e(r.get("mid_phrase_pauses"))}">{_e(r.get("mid_phrase_pauses"))}</td>'
        f'<td class=num data-v="{_e(r.get("pace_cv"))}">{_num(r.get("pace_cv"), 2)}</td>'
        f'<td class=num data-v="{_e(r.get("pitch_range_st"))}">{_num(r.get("pitch_range_st"), 1)}</td>'
        + _trailing_cell(r, L)
        + f'<td class=num data-v="{_e(r.get("score"))}">{_e(r.get("score"))}</td>'
        f'<td><span class="{_e(chk)}">{_e(chk_label)}</span>'
        + "".join(f"<br><span class=note>{_e(x)}</span>" for x in r.get("check_reasons") or [])  # why, not only on hover
        + "</td>"
        f'<td class="err"{err_attrs}>{_e(err)}</td></tr>'
    )


def _trailing_cell(r: dict[str, Any], L: dict[str, str]) -> str:
    """Sentence ends trailing off out of those judged (``1/6``), sorted by the count; empty without them."""
    n, total = r.get("trailing_off"), r.get("sentence_ends")
    if n is None or not total:
        return '<td class=num data-v=""></td>'
    return f'<td class=num data-v="{_e(n)}" title="{_e(L["trailing_note"])}">{_e(n)}/{_e(total)}</td>'


def _base(path: str) -> str:
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]
