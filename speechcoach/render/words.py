"""Language-aware wording shared by the HTML and Markdown renderers and the label export.

Every user-facing string comes from ``locales/*.toml``; this module only formats numbers, times
and dates into those strings, so no renderer has to know which language it is writing.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from ..locales import fmt_span, fmt_time, strings
from ..analysis.metrics import shown_cpm, shown_cv, shown_limit, shown_s
from ..settings import MATERIAL_TARGET_CPM


MARK_RE = re.compile(r"⏸(?:(✗)|(\d+(?:\.\d+)?)s)?")
"""A pause mark in a context or message: ``⏸0.4s`` (group 2: seconds), ``⏸✗`` (group 1), bare ``⏸``."""


_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
"""Characters that act instead of showing: the C0 and C1 controls but tab and newline (escape
sequences, carriage return, NUL, the 8-bit CSI), and the invisible format characters that
reorder or hide text (zero-width spaces and joiners, bidirectional overrides and isolates, line
and paragraph separators, the byte-order mark)."""


def visible(text: object) -> str:
    r"""``text`` without :data:`_INVISIBLE` characters, so that a script, transcript or file
    name can move nothing on a terminal (no escape sequence, no carriage return) and hide
    nothing in a report; tabs and newlines stay.

    >>> visible("a\x1b[31mb\x00\rc\u202ed")
    'a[31mbcd'
    """
    return _INVISIBLE.sub("", str(text))


def inert(value: Any) -> Any:
    """``value`` (a report, or any part of it) with :func:`visible` applied to every string in it,
    keys included; numbers and the rest unchanged."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {inert(k): inert(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(inert(v) for v in value)
    return value


def guessed_placements(report: dict[str, Any]) -> bool:
    """Whether the report's pause placements were judged from the sound alone (its
    ``pause_method`` is ``"acoustic"``: no script to place them in), and so are guesses."""
    return report.get("pause_method") == "acoustic"


class Words:
    """Strings and number formats for one report language.

    Parameters
    ----------
    lang : {"zh", "en"}
        The report's language.

    Attributes
    ----------
    lang : str
        The language code.
    labels : dict of str
        The ``[labels]`` section of the locale.
    report : dict of str
        The ``[report]`` section of the locale (HTML/Markdown-specific strings).
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.all: dict[str, dict[str, Any]] = strings(lang)
        self.labels: dict[str, str] = self.all["labels"]
        self.report: dict[str, str] = self.all["report"]

    # -- numbers -------------------------------------------------------------------------
    def num(self, value: float, digits: int = 0) -> str:
        """``value`` with ``digits`` decimals and thousands grouping (same in zh and en)."""
        return f"{float(value):,.{digits}f}"

    def seconds(self, value: float, digits: int = 1) -> str:
        """A duration, e.g. ``0.8 秒`` / ``0.8 s``."""
        return self.report["seconds_value"].format(v=self.num(value, digits))

    def pause(self, value: float) -> str:
        """A pause length as every report shows it and the long-pause limit judges it
        (:func:`speechcoach.analysis.metrics.shown_s`), e.g. ``3.1 秒`` / ``3.1 s``."""
        return self.seconds(shown_s(value), 1)

    def cv(self, value: float) -> str:
        """The pace variation as every report shows it and its limit judges it
        (:func:`speechcoach.analysis.metrics.shown_cv`), e.g. ``0.36``."""
        return self.num(shown_cv(value), 2)

    def cpm(self, value: float) -> str:
        """A rate, e.g. ``120 字/分钟`` / ``120 chars/min``, as every report shows it
        (:func:`speechcoach.analysis.metrics.shown_cpm`: the reported value rounded half up)."""
        return self.report["cpm_value"].format(v=self.num(shown_cpm(value), 0))

    def band(self, lo: float, hi: float) -> str:
        """The moderate band, e.g. ``100–140 字/分钟``, its edges as given (``139.5`` stays
        ``139.5``, :func:`speechcoach.analysis.metrics.shown_limit`)."""
        return self.report["band_value"].format(lo=self.limit(lo), hi=self.limit(hi))

    def limit(self, value: float, decimals: int = 0) -> str:
        """A limit from the settings as given, never rounded: ``140``, ``139.5``, ``3.0``
        (:func:`speechcoach.analysis.metrics.shown_limit`)."""
        return shown_limit(value, decimals)

    def target(self, value: float) -> str:
        """The target rate as given, e.g. ``120 字/分钟`` / ``119.5 chars/min``."""
        return self.report["cpm_value"].format(v=self.limit(value))

    def target_note(self, settings: dict[str, Any]) -> str | None:
        """What the ``pace`` guidance item's reader needs when the report's target is not the
        training material's (:data:`speechcoach.settings.MATERIAL_TARGET_CPM`): the target and
        band it was judged against, and that the material's figure is for reference; ``None``
        when the target is the material's. ``settings`` is a report's ``settings`` block."""
        target = float(settings["target_cpm"])
        if target == MATERIAL_TARGET_CPM:
            return None
        lo, hi = settings["band_cpm"]
        return self.report["target_note"].format(
            target=self.limit(target), band=self.band(lo, hi), material=self.limit(MATERIAL_TARGET_CPM)
        )

    def time(self, seconds: float) -> str:
        """A position in the recording, ``m:ss.s``."""
        return fmt_time(seconds, self.lang)

    def at(self, seconds: float) -> str:
        """A position in words, e.g. ``0:08.3 处`` / ``at 0:08.3``."""
        return self.report["at_time"].format(t=self.time(seconds))

    def span(self, start_s: float, end_s: float) -> str:
        """A stretch of the recording, ``0:10.5–0:18.5``."""
        return fmt_span(start_s, end_s, self.lang)

    def window(self, w: dict[str, Any]) -> str:
        """A pace window by its span (the chart draws it at its middle)."""
        return self.span(w["start_s"], w["end_s"])

    def date(self, iso: str) -> str:
        """An ISO timestamp in the language's date format (unparseable input is returned as is)."""
        try:
            d = _dt.datetime.fromisoformat(iso)
        except (TypeError, ValueError):
            return str(iso)
        months = self.report.get("months", "").split()
        month = months[d.month - 1] if len(months) == 12 else str(d.month)
        return self.report["date_format"].format(y=d.year, m=d.month, d=d.day, month=month, H=d.hour, M=d.minute)

    def pause_marks(self, text: object) -> str:
        """``text`` with each pause mark's length in the language, ``⏸0.4s`` → ``⏸0.4 秒`` / ``⏸0.4 s``."""

        def sub(m: re.Match[str]) -> str:
            return f"⏸{self.seconds(float(m.group(2)), 1)}" if m.group(2) else m.group(0)

        return MARK_RE.sub(sub, str(text))

    # -- vocabulary ----------------------------------------------------------------------
    def placement(self, key: str, guessed: bool = False) -> str:
        """The name of a pause placement (``sentence``, ``clause``, ``mid_phrase``, ``unknown``).

        ``guessed``: the placement was judged from the sound alone (:func:`guessed_placements`),
        so a known one is marked as a guess, ``mid-phrase?`` / ``短语中间（推测）``, as the
        findings call such pauses possible hesitations; ``unknown`` stays as it is.
        """
        name = self.all["placement"].get(key, self.all["placement"]["unknown"])
        if guessed and key in self.all["placement"] and key != "unknown":
            return self.report["placement_guessed"].format(place=name)
        return name

    def severity(self, key: str) -> str:
        """The name of a finding's severity."""
        return self.all["severity"].get(key, key)

    def verdict(self, key: str) -> str:
        """The rate verdict in words."""
        return self.all["verdict"].get(key, key)

    def source(self, key: str) -> str:
        """How the characters were counted (script, estimate, …)."""
        return self.labels.get(f"source_{key}", key)

    def pause_method(self, key: str) -> str:
        """How pause placements were decided."""
        return self.all.get("pause_method", {}).get(key, "")

    def pause_label(self, duration_s: float, placement: str, guessed: bool = False) -> str:
        """A pause's one-line label, e.g. ``停顿 0.8 秒（句末）``; the placement is omitted when
        unknown, marked as a guess when ``guessed`` inside the same brackets
        (``停顿 0.3 秒（推测：短语中间）``, ``pause 0.3 s (mid-phrase?)``)."""
        d = self.pause(duration_s)
        if placement and placement != "unknown":
            if guessed and placement in self.all["placement"]:  # "停顿 0.3 秒（推测：短语中间）": no brackets in brackets
                return self.report["pause_label_guessed"].format(d=d, place=self.placement(placement))
            return self.report["pause_label_placed"].format(d=d, place=self.placement(placement))
        return self.report["pause_label"].format(d=d)

    def filler_kind(self, kind: str) -> str:
        """A filler's kind in words (``lexical``: a filler word, ``vocal``: an er/um hesitation)."""
        return self.labels.get(f"filler_{kind}", kind)

    def said_at(self, start_s: float | None) -> str:
        """When a policy term was said (``m:ss.s``), or that it is in the script (``start_s`` None)."""
        return self.labels["in_script"] if start_s is None else self.time(start_s)

    def deductions(self, report: dict[str, Any]) -> list[str]:
        """The points the score lost, one item per rule that cost any (``语速 −4`` / ``rate −4``),
        in the order rate, pauses, pace; none when the score is 100 (or the report, read back
        from an older JSON, has no ``score_deductions``)."""
        lost = report.get("score_deductions") or {}
        return [
            self.report[f"deduction_{key}"].format(n=self.num(int(lost[key])))
            for key in ("rate", "pauses", "pace")
            if int(lost.get(key) or 0) > 0
        ]

    def score(self, report: dict[str, Any]) -> str:
        """The score with what it lost beside it: ``96/100（语速 −4）`` / ``96/100 (rate −4)``;
        just ``100/100`` when nothing was lost."""
        items = self.deductions(report)
        lost = self.report["deductions_value"].format(items=self.report["list_sep"].join(items)) if items else ""
        return self.report["score_value"].format(v=self.num(report["score"])) + lost

    def colon(self) -> str:
        """The label/value separator of the language (``：`` in zh, ``: `` in en)."""
        return self.report["colon"]

    def paren(self, text: str) -> str:
        """A remark in brackets after a value: ``（按讲稿计数）`` in zh, `` (script)`` (a space before) in en."""
        return self.report["paren"].format(v=text)
