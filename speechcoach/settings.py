"""Settings: one frozen dataclass, read from a rubric TOML file, overridden by command-line flags.

A rubric file looks like this (every key optional; these are all the keys there are, with
their defaults and the values accepted)::

    [rate]
    target_cpm = 120           # 30-600 characters/min, inside band_cpm   (flag --target)
    band_cpm = [100, 140]      # the moderate band LO, HI: 30 <= LO < HI <= 600   (flag --band)
    count = "auto"             # "auto", "asr" or "acoustic": the speech recogniser   (flag --count)

    [pauses]
    min_pause_s = 0.25         # shortest silence counted as a pause: 0.05-5 s   (flag --min-pause)
    max_pause_s = 3.0          # a longer silence is flagged: min_pause_s-60 s
    max_mid_phrase = 2         # more mid-phrase pauses than this fail `check`: 0-100000
    max_run_chars = 25         # longest stretch of characters without a pause: 1-100000

    [pace]
    window_s = 8.0             # sliding window of the pace series: 1-120 s
    hop_s = 2.0                # step between windows: 0.1 s up to window_s
    max_cv = 0.25              # largest coefficient of variation of the pace: 0.01-2

    [report]
    lang = "zh"                # report language: "zh" or "en"   (flag --lang)
    guidance = "my-guidance"   # a folder of edited guidance files, relative to the rubric   (flag --guidance)

    [batch]
    trainee = "parent"         # "parent" folder name, or "stem-prefix" (NAME_… in the file name)

    [check]
    allow_problems = []        # finding ids whose problem-level finding does not fail `check`:
                               # any of PROBLEM_FINDINGS (e.g. ["fillers", "no_pauses"])

The rubric may be saved with a UTF-8 byte-order mark. Every number must be finite; a value outside its range is refused with a
:class:`~speechcoach.errors.ParameterError` naming the key (as the rubric writes it, with the
file, or as the flag) and quoting the value.
"""

from __future__ import annotations

import difflib
import math
import os
from dataclasses import asdict, dataclass, field, fields, replace
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ParameterError, RubricError
from .tomlfile import TomlProblem, describe_value, loads, read

MATERIAL_TARGET_CPM = 120.0
"""The training material's moderate pace (section 四: about 120 characters a minute): the
default target, and the figure the shipped ``pace`` guidance item quotes. A report judged against
another target says so next to that item (:meth:`speechcoach.render.words.Words.target_note`)."""
RATE_RANGE_CPM = (30.0, 600.0)
"""Accepted target and band rates (characters/min): the tool measures about 60-400 with margin."""
MIN_PAUSE_RANGE_S = (0.05, 5.0)
MAX_PAUSE_LIMIT_S = 60.0
COUNT_LIMIT = 100_000
"""Largest ``max_mid_phrase`` / ``max_run_chars`` (far above any recording: "no limit")."""
WINDOW_RANGE_S = (1.0, 120.0)
MIN_HOP_S = 0.1
CV_RANGE = (0.01, 2.0)
PROBLEM_FINDINGS = ("rate_fast", "rate_slow", "no_pauses", "mid_phrase", "fillers")
"""The findings that can be problems (severity ``"problem"``, :mod:`speechcoach.analysis.findings`):
``check`` fails a recording with any of them, unless the rubric's ``[check] allow_problems``
lists it. The rate and mid-phrase ones also break their own rules (the band,
``max_mid_phrase``), which listing them does not relax."""
COUNT_MODES = ("auto", "asr", "acoustic")
"""``count``: whether the speech recogniser runs (:func:`speechcoach.analysis.pipeline.analyze_audio`):
``auto`` when there is no script to count (the count of free talk; falls back to the sound when
it or its model is missing), ``asr`` always (with a script too: transcript, fillers, passages left
out or added; an error without it), ``acoustic`` never (syllable nuclei only)."""

COUNT_ENV = "SPEECHCOACH_COUNT"
"""An environment variable naming the default ``count`` (one of :data:`COUNT_MODES`) where neither
a rubric nor ``--count`` names one: a machine that should never spend time on the recogniser
(the test suite, which runs it only where it tests it) sets ``acoustic``."""


def default_count() -> str:
    """The ``count`` of a :class:`Settings` that names none: ``$SPEECHCOACH_COUNT``, else ``auto``."""
    return os.environ.get(COUNT_ENV, "").strip() or "auto"


@dataclass(frozen=True)
class Settings:
    """Everything that can be tuned by a trainer. Times in seconds, rates in characters/min.

    The accepted range of each field is listed in the module docstring; construction (and
    :meth:`with_overrides`, :func:`load_rubric`) raises
    :class:`~speechcoach.errors.ParameterError` for anything else.
    """

    target_cpm: float = MATERIAL_TARGET_CPM
    band_lo_cpm: float = 100.0
    band_hi_cpm: float = 140.0
    min_pause_s: float = 0.25
    max_pause_s: float = 3.0
    max_mid_phrase: int = 2
    max_run_chars: int = 25
    window_s: float = 8.0
    hop_s: float = 2.0
    max_cv: float = 0.25
    lang: str = "zh"
    trainee: str = "parent"
    guidance: str | None = None
    """A trainer's guidance folder (absolute path), or ``None`` for the shipped guidance; see
    :mod:`speechcoach.guidance`. The folder is checked by :func:`speechcoach.guidance.validate`."""
    count: str = field(default_factory=default_count)
    """One of :data:`COUNT_MODES` (rubric ``[rate] count``, flag ``--count``; default
    :func:`default_count`)."""
    allow_problems: tuple[str, ...] = ()
    """Findings of :data:`PROBLEM_FINDINGS` whose problem level does not fail ``check`` (rubric
    ``[check] allow_problems``); a list is kept as a tuple, in the order given, without repeats."""

    def __post_init__(self) -> None:
        if isinstance(self.allow_problems, (list, tuple)):
            object.__setattr__(self, "allow_problems", tuple(dict.fromkeys(self.allow_problems)))
        if not (isinstance(self.allow_problems, tuple) and all(isinstance(x, str) for x in self.allow_problems)):
            _refuse("allow_problems", f"must be a list of finding names such as [\"fillers\"], got {_show(self.allow_problems)}")
        unknown = [x for x in self.allow_problems if x not in PROBLEM_FINDINGS]
        if unknown:
            near = difflib.get_close_matches(unknown[0], PROBLEM_FINDINGS, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else f" (one of {', '.join(PROBLEM_FINDINGS)})"
            _refuse("allow_problems", f"{unknown[0]!r} is not a finding that can be a problem{hint}")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("float", float):
                if not (_is_number(value) and math.isfinite(value)):
                    key = "band_cpm" if f.name.startswith("band_") else f.name
                    _refuse(key, f"must be a finite number, got {_show(value)}")
            elif f.type in ("int", int) and not (isinstance(value, int) and not isinstance(value, bool)):
                _refuse(f.name, f"must be a whole number, got {_show(value)}")
        lo_rate, hi_rate = RATE_RANGE_CPM
        if not lo_rate <= self.band_lo_cpm < self.band_hi_cpm <= hi_rate:
            _refuse(
                "band_cpm",
                f"must be LO,HI with {lo_rate:g} <= LO < HI <= {hi_rate:g} characters/min, "
                f"got {_show(self.band_lo_cpm)},{_show(self.band_hi_cpm)}",
            )
        if not lo_rate <= self.target_cpm <= hi_rate:
            _refuse("target_cpm", f"must be between {lo_rate:g} and {hi_rate:g} characters/min, got {_show(self.target_cpm)}")
        if not self.band_lo_cpm <= self.target_cpm <= self.band_hi_cpm:
            _refuse(
                "target_cpm",
                f"{_show(self.target_cpm)} lies outside the band {_show(self.band_lo_cpm)}–{_show(self.band_hi_cpm)}",
            )
        _within("min_pause_s", self.min_pause_s, *MIN_PAUSE_RANGE_S, "s")
        _within("max_pause_s", self.max_pause_s, self.min_pause_s, MAX_PAUSE_LIMIT_S, "s", low_name="min_pause_s")
        _within("max_mid_phrase", self.max_mid_phrase, 0, COUNT_LIMIT, "")
        _within("max_run_chars", self.max_run_chars, 1, COUNT_LIMIT, "")
        _within("window_s", self.window_s, *WINDOW_RANGE_S, "s")
        _within("hop_s", self.hop_s, MIN_HOP_S, self.window_s, "s", high_name="window_s")
        _within("max_cv", self.max_cv, *CV_RANGE, "")
        if self.lang not in ("zh", "en"):
            _refuse("lang", f"must be 'zh' or 'en', got {self.lang!r}")
        if self.count not in COUNT_MODES:
            _refuse("count", f"must be one of {', '.join(repr(m) for m in COUNT_MODES)}, got {_show(self.count)}")
        if self.trainee not in ("parent", "stem-prefix"):
            _refuse("trainee", f"must be 'parent' or 'stem-prefix', got {self.trainee!r}")
        if self.guidance is not None and not (isinstance(self.guidance, str) and self.guidance.strip()):
            _refuse("guidance", f"must be a folder name, got {_show(self.guidance)}")

    @property
    def band(self) -> tuple[float, float]:
        return (self.band_lo_cpm, self.band_hi_cpm)

    def with_overrides(self, **overrides: Any) -> "Settings":
        """A copy with the given fields replaced; ``None`` values are ignored (flag not given).

        Raises
        ------
        ParameterError
            A value out of range; a setting that has a command-line flag is named by the flag
            (``--target must be …``).
        """
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        try:
            return replace(self, **given)
        except ParameterError as exc:
            flagged = {"band_cpm" if k.startswith("band_") else k for k in given}
            if exc.key == "target_cpm" and "target_cpm" not in flagged and "band_cpm" in flagged:
                lo, hi = given.get("band_lo_cpm", self.band_lo_cpm), given.get("band_hi_cpm", self.band_hi_cpm)
                problem = _band_misses_target(f"{_show(lo)},{_show(hi)}", self.target_cpm, "give --target too")
                raise ParameterError(f"--band {problem}", key="band_cpm", problem=problem) from None
            if exc.key in flagged and exc.key in FLAGS and exc.problem is not None:
                raise ParameterError(f"{FLAGS[exc.key]} {exc.problem}", key=exc.key, problem=exc.problem) from None
            raise

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_TOML_KEYS: dict[tuple[str, str], str] = {
    ("rate", "target_cpm"): "target_cpm",
    ("rate", "count"): "count",
    ("pauses", "min_pause_s"): "min_pause_s",
    ("pauses", "max_pause_s"): "max_pause_s",
    ("pauses", "max_mid_phrase"): "max_mid_phrase",
    ("pauses", "max_run_chars"): "max_run_chars",
    ("pace", "window_s"): "window_s",
    ("pace", "hop_s"): "hop_s",
    ("pace", "max_cv"): "max_cv",
    ("report", "lang"): "lang",
    ("report", "guidance"): "guidance",
    ("batch", "trainee"): "trainee",
    ("check", "allow_problems"): "allow_problems",
}

_RUBRIC_NAMES: dict[str, str] = {name: f"[{section}] {key}" for (section, key), name in _TOML_KEYS.items()} | {
    "band_cpm": "[rate] band_cpm"
}
"""Each setting as a rubric file writes it, for messages."""


FLAGS: dict[str, str] = {
    "target_cpm": "--target",
    "band_cpm": "--band",
    "min_pause_s": "--min-pause",
    "lang": "--lang",
    "guidance": "--guidance",
    "count": "--count",
}
"""The command-line flag of each setting that has one (the band's two fields are ``band_cpm``)."""


_BAND_SEPARATORS = str.maketrans({"，": ",", "、": ",", "-": ",", "–": ",", "—": ",", "－": ",", "~": ",", "～": ",", "：": ","})


def parse_band(text: str) -> tuple[float, float]:
    """The band of the ``--band`` flag, ``"LO,HI"`` (also ``LO-HI``, ``LO–HI``, ``LO~HI`` and the
    full-width comma of a Chinese keyboard, ``100，140``), as two numbers; their range is checked
    by :class:`Settings`.

    Raises
    ------
    ParameterError
        ``text`` is not two numbers.
    """
    try:
        lo, hi = (float(x) for x in text.strip().strip("[]［］()（）").translate(_BAND_SEPARATORS).split(","))
    except ValueError:
        raise ParameterError(f"--band expects LO,HI such as 100,140, got {text!r}") from None
    return lo, hi


def _band_misses_target(band: str, target: float, fix: str) -> str:
    """The problem of a band, given without a target, that leaves out the target in force:
    ``band`` as the user wrote it, ``fix`` what to do (``"give --target too"``)."""
    return f"{band} does not contain the target {_show(target)} ({fix})"


def _refuse(key: str, problem: str) -> None:
    raise ParameterError(f"{key} {problem}", key=key, problem=problem)


def _within(
    key: str, value: float, lo: float, hi: float, unit: str, *, low_name: str | None = None, high_name: str | None = None
) -> None:
    """Refuse ``value`` outside ``[lo, hi]``; a bound that is another setting is named."""
    if lo <= value <= hi:
        return
    u = f" {unit}" if unit else ""
    lo_text = f"{low_name} ({_show(lo)}{u})" if low_name else f"{_show(lo)}{u}"
    hi_text = f"{high_name} ({_show(hi)}{u})" if high_name else f"{_show(hi)}{u}"
    _refuse(key, f"must be between {lo_text} and {hi_text}, got {_show(value)}")


def _show(v: Any) -> str:
    """A value as the user would have written it: ``120``, ``0.25``, ``inf``, ``1e+300``."""
    if isinstance(v, float):
        short = f"{v:g}"
        return short if not math.isfinite(v) or float(short) == v else repr(v)
    return repr(v) if isinstance(v, str) else str(v)


def load_rubric(path: str | Path, base: Settings | None = None, *, flags: Mapping[str, Any] | None = None) -> Settings:
    """Read a rubric TOML file into :class:`Settings`.

    ``flags`` are the command-line values that will win over the rubric (``None``: not given).
    They are not applied here (the caller does, with :meth:`Settings.with_overrides`, so that a
    bad flag is named as a flag), but a rubric that is only incomplete without them is accepted:
    a band without a target, with ``--target`` inside that band.

    Raises
    ------
    RubricError
        Missing file, invalid TOML, an unknown key, a value of the wrong type, or a value out of
        range (named as the rubric writes it, ``[pace] hop_s must be …``).
    """
    p = Path(path)
    try:
        data = loads(read(p))
    except FileNotFoundError:
        raise RubricError(p, "rubric file not found") from None
    except IsADirectoryError:
        raise RubricError(p, "is a folder, not a rubric file") from None
    except OSError as exc:
        raise RubricError(p, f"cannot read rubric ({exc.strerror or exc})") from None
    except TomlProblem as exc:
        raise RubricError(p, str(exc)) from None
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(Settings)}
    for section, table in data.items():
        if not isinstance(table, dict):
            home = next((sec for sec, key in _rubric_keys() if key == section), None)
            if home is not None:
                raise RubricError(p, f"{section} must be inside its table: write it under [{home}]")
            raise RubricError(p, f"unknown key {section} outside any table (expected tables {_tables()})")
        if section not in SECTIONS:
            near = difflib.get_close_matches(section, SECTIONS, n=1, cutoff=0.6)
            hint = f"; did you mean [{near[0]}]?" if near else ""
            raise RubricError(p, f"unknown table [{section}] (expected one of {_tables()}{hint})")
        for key, value in table.items():
            if (section, key) == ("rate", "band_cpm"):
                if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)):
                    raise RubricError(p, f"[rate] band_cpm must be two numbers [LO, HI] such as [100, 140], got {describe_value(value)}")
                values["band_lo_cpm"], values["band_hi_cpm"] = float(value[0]), float(value[1])
                continue
            name = _TOML_KEYS.get((section, key))
            if name is None:
                raise RubricError(p, f"unknown key [{section}] {key} ({_key_hint(section, key)})")
            want = types[name]
            if name == "guidance":
                values[name] = _guidance_folder(p, value)
                continue
            if name == "allow_problems":
                if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    raise RubricError(p, f"[check] allow_problems must be a list of finding names such as [\"fillers\"], got {describe_value(value)}")
                values[name] = tuple(value)
                continue
            if want in ("float", float) and _is_number(value):
                value = float(value)
            elif want in ("int", int) and isinstance(value, int) and not isinstance(value, bool):
                pass
            elif want in ("str", str) and isinstance(value, str):
                pass
            else:
                raise RubricError(p, f"[{section}] {key} {_wrong_type(want, value)}")
            values[name] = value
    try:
        return replace(base or Settings(), **values)
    except ParameterError as exc:
        completed = _completed_by_flags(base or Settings(), values, flags or {})
        if completed is not None:
            return completed
        if exc.key == "target_cpm" and "target_cpm" not in values and "band_lo_cpm" in values:
            band = f"[{_show(values['band_lo_cpm'])}, {_show(values['band_hi_cpm'])}]"
            problem = _band_misses_target(band, (base or Settings()).target_cpm, "set [rate] target_cpm too")
            raise RubricError(p, f"[rate] band_cpm {problem}") from None
        name = _RUBRIC_NAMES.get(exc.key or "")
        raise RubricError(p, f"{name} {exc.problem}" if name and exc.problem else str(exc)) from None



def _completed_by_flags(base: Settings, values: dict[str, Any], flags: Mapping[str, Any]) -> Settings | None:
    """The rubric's values with the given flags on top, if those make valid settings, else ``None``."""
    given = {k: v for k, v in flags.items() if v is not None}
    if not given:
        return None
    try:
        return replace(base, **(values | given))
    except ParameterError:
        return None


SECTIONS = ("rate", "pauses", "pace", "report", "batch", "check")
"""The tables of a rubric file, in the order the documentation lists them."""


def _rubric_keys() -> list[tuple[str, str]]:
    """Every (table, key) a rubric may hold."""
    return [("rate", "band_cpm"), *_TOML_KEYS]


def _tables() -> str:
    return ", ".join(f"[{t}]" for t in SECTIONS)


def _key_hint(section: str, key: str) -> str:
    """Why ``[section] key`` is unknown: it belongs in another table, or a near miss, or the keys."""
    home = next((sec for sec, k in _rubric_keys() if k == key), None)
    if home is not None:
        return f"it belongs in [{home}]"
    keys = [k for sec, k in _rubric_keys() if sec == section]
    near = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    return f"did you mean {near[0]}?" if near else f"[{section}] keys are {', '.join(keys)}"


def _wrong_type(want: Any, value: Any) -> str:
    """``must be a number, got the text "120" (remove the quotes)`` and the like."""
    if want in ("float", float):
        kind = "a number"
    elif want in ("int", int):
        kind = "a whole number"
    else:
        kind = "text in quotes"
    problem = f"must be {kind}, got {describe_value(value)}"
    if isinstance(value, str) and kind != "text in quotes":
        try:
            float(value)
        except ValueError:
            return problem
        return f"{problem} (remove the quotes)"
    return problem


def _guidance_folder(rubric: Path, value: Any) -> str:
    """``[report] guidance``: a folder, relative to the rubric file's folder, that exists."""
    if not isinstance(value, str) or not value.strip():
        raise RubricError(rubric, f"[report] guidance must be a folder name in quotes, got {describe_value(value)}")
    folder = Path(value).expanduser()
    if not folder.is_absolute():
        folder = rubric.parent / folder
    folder = folder.resolve()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "not found"
        raise RubricError(rubric, f'[report] guidance: folder "{value}" {what} (looked for {folder})')
    return str(folder)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
