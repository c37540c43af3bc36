"""Judging a report against the rubric: the pass/fail gate behind ``speechcoach check``.

A recording passes when all five rules hold (limits from :class:`~speechcoach.settings.Settings`,
which the rubric TOML can set and which every report carries in its ``settings`` block):

1. the speaking rate, as the reports show it (a whole number, :func:`~speechcoach.analysis.metrics.shown_cpm`),
   lies inside the moderate band (``band_cpm``, ends included);
2. no pause is longer than ``max_pause_s``, judged on its length as shown (seconds to one
   decimal, half up, :func:`~speechcoach.analysis.metrics.shown_s`);
3. there are at most ``max_mid_phrase`` pauses in the middle of a phrase, counting only pauses
   placed in the text: placed from the sound alone (the report's ``pause_method`` is
   ``"acoustic"``), a mid-phrase pause is a guess and fails nothing, and the summary says the
   rule was not judged (with the number of possible mid-phrase pauses);
4. the pace coefficient of variation, as shown (two decimals, half up,
   :func:`~speechcoach.analysis.metrics.shown_cv`), is at most ``max_cv``; a recording whose pace has a
   single window (:func:`~speechcoach.analysis.metrics.several_windows`) is too short to judge it, and the
   summary says so instead of showing a variation of 0.00;
5. no finding of the report is a problem (severity ``"problem"``, the report's ✗: 28 s without
   a pause, far too many fillers) unless the rubric's ``[check] allow_problems`` lists it; a
   problem whose own rule above already failed (the rate far outside the band, too many
   mid-phrase pauses) is not counted twice. The reason is the finding's message.

A recording whose script cannot be what was said (the report's ``script_mismatch`` warning: the
script's characters and the syllables heard differ more than 2.5-fold) is an error, not a
failure: its rate measures the script, not the speaker.

The judgement works from the report dictionary alone (schema ``speechcoach.report/1``), so a
report read back from JSON is judged exactly like a fresh one. :func:`junit_xml` turns a list of
judgements into a JUnit XML document for CI systems.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from ..locales import fmt_time, strings
from ..analysis.metrics import cv_above, is_long_pause, several_windows, shown_cpm, shown_cv, shown_limit, shown_s, verdict
from ..analysis.placement import judged_mid_phrase

RULES = ("rate", "long_pause", "mid_phrase", "pace_cv", "problems")
"""The rules, in the order their failures are reported."""
RULE_OF_FINDING = {"rate_fast": "rate", "rate_slow": "rate", "mid_phrase": "mid_phrase", "long_pauses": "long_pause", "pace_uneven": "pace_cv"}
"""The rule that already judges what a finding says: a problem finding whose rule failed adds no reason of its own."""
ESTIMATED_RULES = ("rate", "pace_cv")
"""The rules whose numbers rest on the character count: without a script (the report's
``characters.source`` is ``"estimate"`` or ``"asr"``) they are judged on the count estimated from
the sound or made by the speech recogniser, and their reasons say so (``(no script: estimated)``,
``(no script: recognised)``), as the summary does. The pause rules
measure silences, which need no count (a mid-phrase pause guessed from the sound fails nothing)."""


@dataclass(frozen=True)
class Judgement:
    """The verdict on one recording.

    Attributes
    ----------
    file : str
        The recording as the user named it.
    passed : bool
        All rules hold. Always ``False`` when :attr:`error` is set.
    summary : str
        One line of the key numbers (rate, pauses, pace), localised.
    reasons : tuple of str
        One localised sentence per broken rule, in :data:`RULES` order.
    failed_rules : tuple of str
        The ids (from :data:`RULES`) of the broken rules.
    error : str or None
        Why the recording could not be analysed (then nothing was judged), localised like the
        summary when the problem has a code.
    time_s : float
        Seconds spent analysing it (for the JUnit ``time`` attribute).
    reason_sep : str
        What joins the reasons on one line, in their language (``；`` in Chinese, ``; `` in English).
    """

    file: str
    passed: bool
    summary: str = ""
    reasons: tuple[str, ...] = ()
    failed_rules: tuple[str, ...] = ()
    error: str | None = None
    time_s: float = 0.0
    numbers: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    reason_sep: str = "; "

    @property
    def status(self) -> str:
        """``"PASS"``, ``"FAIL"`` or ``"ERROR"`` (not localised: scripts grep for these)."""
        if self.error is not None:
            return "ERROR"
        return "PASS" if self.passed else "FAIL"

    def line(self) -> str:
        """The one-line result, e.g. ``FAIL talk.wav: rate 213 cpm above band 100–140; …``."""
        if self.error is not None:
            return f"ERROR {self.file}: {self.error}"
        if self.passed:
            return f"PASS {self.file}: {self.summary}"
        return f"FAIL {self.file}: {self.reason_sep.join(self.reasons)}"


def judge(report: dict[str, Any], *, file: str | None = None, lang: str | None = None, time_s: float = 0.0) -> Judgement:
    """Judge one report against the limits it was analysed with.

    Parameters
    ----------
    report : dict
        A ``speechcoach.report/1`` dictionary (from :func:`speechcoach.render.report.to_dict`).
    file : str, optional
        Name to show; defaults to the report's ``input.path``.
    lang : {"zh", "en"}, optional
        Language of the summary and reasons; defaults to the report's.
    time_s : float, optional
        Analysis time to record.

    Returns
    -------
    Judgement
    """
    name = file if file is not None else str(report.get("input", {}).get("path", ""))
    mismatch = next((w for w in report.get("warnings", []) if w.get("id") == "script_mismatch"), None)
    if mismatch is not None:  # the wrong script (or a fraction of it): its rate judges nothing
        return error_judgement(name, mismatch["message"], time_s=time_s, code="script_mismatch")
    lang = lang or report.get("lang", "zh")
    T = strings(lang)["check"]
    st = report["settings"]
    lo, hi = (float(v) for v in st["band_cpm"])
    cpm = float(report["rate"]["cpm"])
    shown = shown_cpm(cpm)  # the rate as the reports show it (a whole number)
    pauses = report.get("pauses", [])
    longest = max(pauses, key=lambda p: p["duration_s"], default=None)
    long_ = [p for p in pauses if is_long_pause(p["duration_s"], st["max_pause_s"])]  # on the length shown
    guessed = report.get("pause_method") == "acoustic"  # placed from the sound alone: a mid-phrase pause is a guess
    n_guess = sum(p.get("placement") == "mid_phrase" for p in pauses)
    n_mid = judged_mid_phrase((p.get("placement") for p in pauses), report.get("pause_method", ""))
    cv = float(report["pace"]["cv"])
    series = report["pace"].get("series")
    pace_judged = series is None or several_windows(series)  # one window: too short to have a spread

    reasons: list[str] = []
    failed: list[str] = []
    side = verdict(cpm, (lo, hi))  # judged on the rate shown
    if side != "on_target":
        key = "rate_above" if side == "fast" else "rate_below"
        reasons.append(T[key].format(cpm=shown, lo=shown_limit(lo), hi=shown_limit(hi)))  # edges as given
        failed.append("rate")
    if long_:
        worst = max(long_, key=lambda p: p["duration_s"])
        reasons.append(
            T["long_pause"].format(
                n=len(long_), limit=shown_limit(st["max_pause_s"], 1), longest=shown_s(worst["duration_s"]), at=fmt_time(worst["start_s"], lang)
            )
        )
        failed.append("long_pause")
    if n_mid > st["max_mid_phrase"]:
        reasons.append(T["mid_phrase"].format(n=n_mid, limit=int(st["max_mid_phrase"])))
        failed.append("mid_phrase")
    if pace_judged and cv_above(cv, st["max_cv"]):  # on the cv shown
        reasons.append(T["pace_cv"].format(cv=shown_cv(cv), limit=shown_limit(st["max_cv"], 2)))
        failed.append("pace_cv")
    allowed = set(st.get("allow_problems") or ())
    for f in report.get("findings", []):  # the report's ✗ findings fail too, unless the rubric lets them pass
        if f.get("severity") != "problem" or f.get("id") in allowed or RULE_OF_FINDING.get(f.get("id", "")) in failed:
            continue
        reasons.append(" ".join(str(f.get("message", f.get("id", ""))).split()).rstrip("。."))
        if "problems" not in failed:
            failed.append("problems")

    pause_words = (
        T["pauses_some"].format(n=len(pauses), longest=shown_s(longest["duration_s"])) if longest else T["pauses_none"]
    )
    summary = T["summary"].format(
        cpm=shown,
        pauses=pause_words,
        mid=T["mid_not_judged"].format(n=n_guess) if guessed else T["mid_count"].format(n=n_mid),
        pace=T["pace_value"].format(cv=shown_cv(cv)) if pace_judged else T["pace_not_judged"],
    )
    # without a script, the rate and the pace rest on the count from the sound or the recogniser's
    suffix = {"estimate": T["estimated"], "asr": T["recognised"]}.get(report.get("characters", {}).get("source", ""))
    if suffix is not None:
        summary += suffix
        reasons = [r + suffix if rule in ESTIMATED_RULES else r for r, rule in zip(reasons, failed)]
    return Judgement(
        file=name,
        passed=not failed,
        summary=summary,
        reasons=tuple(reasons),
        failed_rules=tuple(failed),
        time_s=time_s,
        numbers={"cpm": cpm, "pauses": len(pauses), "mid_phrase": n_mid, "cv": cv},
        reason_sep=T["reason_sep"],
    )


def error_judgement(file: str, error: str, *, time_s: float = 0.0, code: str | None = None) -> Judgement:
    """The judgement for a recording that could not be analysed (``code``: the problem's stable code)."""
    return Judgement(file=file, passed=False, error=" ".join(error.split()), time_s=time_s, error_code=code)


def junit_xml(judgements: list[Judgement], *, suite: str = "speechcoach.check") -> bytes:
    """A JUnit XML document: one ``testcase`` per recording.

    A broken rule becomes a ``<failure>`` (message: the reasons on one line), a recording
    that could not be analysed an ``<error>``. The summary line goes to ``<system-out>``.

    Returns
    -------
    bytes
        UTF-8 XML with declaration.
    """
    failures = sum(1 for j in judgements if j.status == "FAIL")
    errors = sum(1 for j in judgements if j.status == "ERROR")
    total_time = sum(j.time_s for j in judgements)
    root = ET.Element("testsuites", name=suite, tests=str(len(judgements)), failures=str(failures), errors=str(errors), time=f"{total_time:.3f}")
    ts = ET.SubElement(
        root, "testsuite", name=suite, tests=str(len(judgements)), failures=str(failures), errors=str(errors), skipped="0", time=f"{total_time:.3f}"
    )
    for j in judgements:
        tc = ET.SubElement(ts, "testcase", classname=suite, name=j.file, time=f"{j.time_s:.3f}")
        if j.status == "ERROR":
            el = ET.SubElement(tc, "error", message=j.error or "", type="AnalysisError")
            el.text = j.error
        elif j.status == "FAIL":
            msg = j.reason_sep.join(j.reasons)
            el = ET.SubElement(tc, "failure", message=msg, type=",".join(j.failed_rules))
            el.text = "\n".join(j.reasons)
        if j.summary:
            ET.SubElement(tc, "system-out").text = j.summary
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
