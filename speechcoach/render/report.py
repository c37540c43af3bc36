"""The JSON report (schema ``speechcoach.report/1``), built from an :class:`Analysis`.

Every renderer (text, Markdown, HTML) works from this dictionary, so a report read back from
JSON renders exactly like a fresh one. The schema is documented in ``docs/report-schema.json``.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import SCHEMA, __version__
from ..guidance import catalogue, self_check
from ..locales import strings, template
from ..analysis.metrics import RATE_DECIMALS
from ..analysis.pipeline import Analysis
from ..analysis.placement import mark_script

if TYPE_CHECKING:
    from ..audio import Audio
    from ..analysis.findings import Finding
    from ..guidance import GuidanceItem
    from ..analysis.metrics import Pace, Rate
    from ..analysis.placement import Pause
    from ..analysis.segmentation import Segmentation
    from ..settings import Settings


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def message(finding_id: str, params: dict[str, Any], lang: str, section: str = "findings") -> str:
    """A finding's (or warning's) message in ``lang``; a count ``n`` of one picks the singular
    wording (``KEY_one``) where the language has one."""
    return template(strings(lang)[section], finding_id, params.get("n")).format(**params)


def to_dict(an: Analysis, *, lang: str | None = None, created: str | None = None, script_path: str | None = None) -> dict[str, Any]:
    """The report as plain JSON-able data.

    Parameters
    ----------
    an : Analysis
    lang : {"zh", "en"}, optional
        Language of messages; defaults to the analysis settings' language.
    created : str, optional
        ISO timestamp to stamp (defaults to now, local time).
    script_path : str, optional
        The script file the script was read from (``--script`` or ``NAME.txt`` beside the
        recording), stated as ``input.script_path``; ``None`` for no file (no script, or
        the practice page's pasted text or chosen scenario).
    """
    lang = lang or an.settings.lang
    s = an.settings
    guide = catalogue(lang, s.guidance)
    used = _guidance_used(an.findings)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "generator": f"speechcoach {__version__}",
        "created": created or _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "lang": lang,
        "input": _input(an.audio, script_path),
        "settings": _settings(s),
        "speech": _speech(an.segmentation),
        "characters": {"count": int(an.char_count), "source": an.char_source, "nuclei": int(len(an.nuclei))},
        "rate": _rate(an.rate),
        "pauses": [_pause(p) for p in an.pauses],
        "pause_method": an.pause_method,
        "pace": _pace(an.pace),
        "breath_groups": _breath_groups(an.run_chars),
        "findings": [_finding(f, lang) for f in an.findings],
        "guidance": _guidance(guide, used),
        "self_check": _self_check(lang, s.guidance, used),
        "warnings": [{"id": w.id, "message": message(w.id, w.params, lang, "warnings")} for w in an.warnings],
        "score": int(an.score),
        "score_deductions": an.deductions.to_dict(),
        "nuclei_s": [_r(t) for t in an.nuclei],
        "envelope": {"hop_s": an.envelope_hop_s, "db": [round(float(v), 1) for v in an.envelope_db]},
    }
    report.update(_script_keys(an, lang))
    _precise_keys(report, an)
    return report


# The sections of the report, in its order.


def _input(audio: Audio, script_path: str | None = None) -> dict[str, Any]:
    """``input``: the recording's path, length (s), sample rate and channels as read, the
    channel analysed alone (1-based) where the channels cancelled out when averaged, and the
    script file read with it, if any."""
    out: dict[str, Any] = {
        "path": audio.path,
        "duration_s": _r(audio.duration_s),
        "sample_rate_hz": audio.source_sr,
        "channels": audio.channels,
        **({"channel_used": audio.channel_used + 1} if audio.channel_used is not None else {}),
    }
    if script_path is not None:
        out["script_path"] = script_path
    return out


def _settings(s: Settings) -> dict[str, Any]:
    """``settings``: the target, band and limits the recording was judged by, how characters
    were to be counted without a script (``count``: auto, asr or acoustic), and the problem
    findings ``check`` lets pass (``allow_problems``)."""
    return {
        "target_cpm": s.target_cpm,
        "band_cpm": [s.band_lo_cpm, s.band_hi_cpm],
        "min_pause_s": s.min_pause_s,
        "max_pause_s": s.max_pause_s,
        "max_mid_phrase": s.max_mid_phrase,
        "max_run_chars": s.max_run_chars,
        "max_cv": s.max_cv,
        "count": s.count,
        "allow_problems": list(s.allow_problems),
    }


def _speech(seg: Segmentation) -> dict[str, Any]:
    """``speech``: the speech span and runs (s) and the noise floor and speech level (dB)."""
    return {
        "start_s": _r(seg.start_s),
        "end_s": _r(seg.end_s),
        "span_s": _r(seg.span_s),
        "phonation_s": _r(seg.phonation_s),
        "runs": [[_r(a), _r(b)] for a, b in seg.runs],
        "noise_floor_db": _r(seg.floor_db, 1),
        "speech_level_db": _r(seg.peak_db, 1),
    }


def _rate(rate: Rate) -> dict[str, Any]:
    """``rate``: the speaking and articulation rates (cpm, to :data:`RATE_DECIMALS`) and the verdict."""
    return {
        "cpm": _r(rate.cpm, RATE_DECIMALS),
        "articulation_cpm": _r(rate.articulation_cpm, RATE_DECIMALS),
        "verdict": rate.verdict,
    }


def _pause(p: Pause) -> dict[str, Any]:
    """One entry of ``pauses``: its times (s), placement and place in the script."""
    return {
        "start_s": _r(p.start_s),
        "end_s": _r(p.end_s),
        "duration_s": _r(p.duration_s),
        "placement": p.placement,
        "char_index": p.char_index,
        "context": p.context,
    }


def _pace(pace: Pace) -> dict[str, Any]:
    """``pace``: the windowed rate series (cpm), its cv and trend, the thirds, fastest and slowest windows."""
    return {
        "window_s": _r(pace.window_s, 2),
        "speaking_s": _r(pace.speaking_s, 2),
        "series": [_window(w) for w in pace.series],
        "cv": _r(pace.cv),
        "trend_cpm_per_min": _r(pace.trend_cpm_per_min, 1),
        "first_third_cpm": _r(pace.first_third_cpm, RATE_DECIMALS),
        "last_third_cpm": _r(pace.last_third_cpm, RATE_DECIMALS),
        "middle_third_cpm": _r(pace.middle_third_cpm, RATE_DECIMALS),
        "fastest": _window(pace.fastest),
        "slowest": _window(pace.slowest),
    }


def _breath_groups(run_chars: np.ndarray) -> dict[str, Any]:
    """``breath_groups``: the characters of each speech run and the longest run's."""
    return {
        "chars": [int(c) for c in run_chars],
        "longest": int(np.max(run_chars)) if len(run_chars) else 0,
    }


def _finding(f: Finding, lang: str) -> dict[str, Any]:
    """One entry of ``findings``: the finding with its message in ``lang``."""
    return {
        "id": f.id,
        "severity": f.severity,
        "message": message(f.id, f.params, lang),
        "guidance": f.guidance,
        "evidence": _jsonable(f.evidence),
        "start_s": f.start_s,
    }


def _guidance_used(findings: tuple[Finding, ...]) -> list[str]:
    """The guidance items the findings point to, each once, in the order of their first finding."""
    used: list[str] = []
    for f in findings:
        if f.guidance not in used:
            used.append(f.guidance)
    return used


def _guidance(guide: dict[str, GuidanceItem], used: list[str]) -> dict[str, dict[str, str]]:
    """``guidance``: title, source, advice and tip of each item a finding points to."""
    return {
        gid: {"title": guide[gid].title, "source": guide[gid].source, "advice": guide[gid].advice, "tip": guide[gid].tip}
        for gid in used
    }


def _self_check(lang: str, folder: str | None, used: list[str]) -> list[dict[str, str]]:
    """``self_check``: the items the trainee checks alone, less those a finding already points to."""
    return [
        {"id": g.id, "title": g.title, "source": g.source, "advice": g.advice, "tip": g.tip}
        for g in self_check(lang, folder)
        if g.id not in used  # an item a finding points to was checked here
    ]


def _script_keys(an: Analysis, lang: str) -> dict[str, Any]:
    """``script``, ``alignment`` and ``script_marked`` (the script with its pauses and missed breaks), when there are."""
    keys: dict[str, Any] = {}
    if an.script is not None:
        keys["script"] = an.script
    if an.alignment is not None:
        alignment = keys["alignment"] = _jsonable(an.alignment)
        missed = sorted({g["char_index"] for g in alignment["missed_breaks"] + alignment["missed_steps"]})
        keys["script_marked"] = mark_script(
            an.script or "",
            [(p.char_index, p.duration_s, p.placement) for p in an.pauses],
            missed,
            strings(lang)["labels"]["missed_break"],
        )
    return keys


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
                {"kind": p.kind, "text": p.text, "char_index": p.script_index, "start_s": None if p.start_s is None else _r(p.start_s),
                 "end_s": None if getattr(p, "end_s", None) is None else _r(p.end_s)}
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
