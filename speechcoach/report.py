"""The JSON report (schema ``speechcoach.report/1``), built from an :class:`Analysis`.

Every renderer (text, Markdown, HTML) works from this dictionary, so a report read back from
JSON renders exactly like a fresh one. The schema is documented in ``docs/report-schema.json``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from . import SCHEMA, __version__
from .guidance import catalogue, self_check
from .locales import strings, template
from .metrics import RATE_DECIMALS
from .pipeline import Analysis
from .placement import mark_script


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def message(finding_id: str, params: dict[str, Any], lang: str, section: str = "findings") -> str:
    """A finding's (or warning's) message in ``lang``; a count ``n`` of one picks the singular
    wording (``KEY_one``) where the language has one."""
    return template(strings(lang)[section], finding_id, params.get("n")).format(**params)


def to_dict(an: Analysis, *, lang: str | None = None, created: str | None = None) -> dict[str, Any]:
    """The report as plain JSON-able data.

    Parameters
    ----------
    an : Analysis
    lang : {"zh", "en"}, optional
        Language of messages; defaults to the analysis settings' language.
    created : str, optional
        ISO timestamp to stamp (defaults to now, local time).
    """
    lang = lang or an.settings.lang
    s = an.settings
    seg = an.segmentation
    guide = catalogue(lang, s.guidance)
    findings = []
    for f in an.findings:
        findings.append(
            {
                "id": f.id,
                "severity": f.severity,
                "message": message(f.id, f.params, lang),
                "guidance": f.guidance,
                "evidence": _jsonable(f.evidence),
                "start_s": f.start_s,
            }
        )
    used = []
    for f in an.findings:
        if f.guidance not in used:
            used.append(f.guidance)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "generator": f"speechcoach {__version__}",
        "created": created or _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "lang": lang,
        "input": {
            "path": an.audio.path,
            "duration_s": _r(an.audio.duration_s),
            "sample_rate_hz": an.audio.source_sr,
            "channels": an.audio.channels,
        },
        "settings": {
            "target_cpm": s.target_cpm,
            "band_cpm": [s.band_lo_cpm, s.band_hi_cpm],
            "min_pause_s": s.min_pause_s,
            "max_pause_s": s.max_pause_s,
            "max_mid_phrase": s.max_mid_phrase,
            "max_run_chars": s.max_run_chars,
            "max_cv": s.max_cv,
        },
        "speech": {
            "start_s": _r(seg.start_s),
            "end_s": _r(seg.end_s),
            "span_s": _r(seg.span_s),
            "phonation_s": _r(seg.phonation_s),
            "runs": [[_r(a), _r(b)] for a, b in seg.runs],
            "noise_floor_db": _r(seg.floor_db, 1),
            "speech_level_db": _r(seg.peak_db, 1),
        },
        "characters": {
            "count": int(an.char_count),
            "source": an.char_source,
            "nuclei": int(len(an.nuclei)),
        },
        "rate": {
            "cpm": _r(an.rate.cpm, RATE_DECIMALS),
            "articulation_cpm": _r(an.rate.articulation_cpm, RATE_DECIMALS),
            "verdict": an.rate.verdict,
        },
        "pauses": [
            {
                "start_s": _r(p.start_s),
                "end_s": _r(p.end_s),
                "duration_s": _r(p.duration_s),
                "placement": p.placement,
                "char_index": p.char_index,
                "context": p.context,
            }
            for p in an.pauses
        ],
        "pause_method": an.pause_method,
        "pace": {
            "window_s": _r(an.pace.window_s, 2),
            "speaking_s": _r(an.pace.speaking_s, 2),
            "series": [_window(w) for w in an.pace.series],
            "cv": _r(an.pace.cv),
            "trend_cpm_per_min": _r(an.pace.trend_cpm_per_min, 1),
            "first_third_cpm": _r(an.pace.first_third_cpm, RATE_DECIMALS),
            "last_third_cpm": _r(an.pace.last_third_cpm, RATE_DECIMALS),
            "fastest": _window(an.pace.fastest),
            "slowest": _window(an.pace.slowest),
        },
        "breath_groups": {
            "chars": [int(c) for c in an.run_chars],
            "longest": int(np.max(an.run_chars)) if len(an.run_chars) else 0,
        },
        "findings": findings,
        "guidance": {
            gid: {"title": guide[gid].title, "source": guide[gid].source, "advice": guide[gid].advice, "tip": guide[gid].tip}
            for gid in used
        },
        "self_check": [
            {"id": g.id, "title": g.title, "source": g.source, "advice": g.advice, "tip": g.tip}
            for g in self_check(lang, s.guidance)
            if g.id not in used  # an item a finding points to was checked here
        ],
        "warnings": [
            {"id": w.id, "message": message(w.id, w.params, lang, "warnings")} for w in an.warnings
        ],
        "score": int(an.score),
        "nuclei_s": [_r(t) for t in an.nuclei],
        "envelope": {"hop_s": an.envelope_hop_s, "db": [round(float(v), 1) for v in an.envelope_db]},
    }
    if an.script is not None:
        report["script"] = an.script
    if an.alignment is not None:
        report["alignment"] = _jsonable(an.alignment)
        missed = sorted({g["char_index"] for g in report["alignment"]["missed_breaks"] + report["alignment"]["missed_steps"]})
        report["script_marked"] = mark_script(
            an.script or "",
            [(p.char_index, p.duration_s, p.placement) for p in an.pauses],
            missed,
            strings(lang)["labels"]["missed_break"],
        )
    _precise_keys(report, an)
    return report


def _precise_keys(report: dict[str, Any], an: Analysis) -> None:
    """``transcript``, ``fillers`` and ``jargon`` (precise mode), and the recogniser's count check."""
    transcript = getattr(an, "transcript", None)
    check = getattr(an, "char_check", None)
    if check is not None:
        report["characters"]["asr"] = {
            "count": int(check.asr),
            "fused": int(check.fused),
            "runs_overruled": [
                {"start_s": _r(r.start_s), "end_s": _r(r.end_s), "asr": r.asr, "acoustic": r.acoustic, "flag": r.flag}
                for r in check.flagged
            ],
        }
    if transcript is not None:
        report["transcript"] = transcript.to_dict()
        report["fillers"] = [f.to_dict() for f in getattr(an, "fillers", ())]
        passages = getattr(an, "passages", ())
        if an.script is not None:
            report["transcript"]["passages"] = [
                {"kind": p.kind, "text": p.text, "char_index": p.script_index, "start_s": None if p.start_s is None else _r(p.start_s)}
                for p in passages
            ]
    report["jargon"] = [j.to_dict() for j in getattr(an, "jargon", ())]


def _window(w: Any) -> dict[str, float]:
    return {"start_s": _r(w.start_s, 2), "end_s": _r(w.end_s, 2), "cpm": _r(w.cpm, RATE_DECIMALS)}


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return round(float(x), 3)
    if hasattr(x, "to_dict"):
        return _jsonable(x.to_dict())
    return x
