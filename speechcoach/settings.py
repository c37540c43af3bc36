"""Settings: one frozen dataclass, read from a rubric TOML file, overridden by command-line flags.

A rubric file looks like this (every key optional)::

    [rate]
    target_cpm = 120
    band_cpm = [100, 140]

    [pauses]
    min_pause_s = 0.25
    max_pause_s = 3.0          # a longer silence is flagged
    max_mid_phrase = 2         # more mid-phrase pauses than this fail `check`
    max_run_chars = 25         # longest stretch of characters without a pause

    [pace]
    window_s = 8.0
    hop_s = 2.0
    max_cv = 0.25

    [report]
    lang = "zh"                # report language: "zh" or "en" (flag --lang)

    [batch]
    trainee = "parent"         # "parent" folder name, or "stem-prefix" (NAME_… in the file name)
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ParameterError, RubricError


@dataclass(frozen=True)
class Settings:
    """Everything that can be tuned by a trainer. Times in seconds, rates in characters/min."""

    target_cpm: float = 120.0
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

    def __post_init__(self) -> None:
        if not 0 < self.band_lo_cpm < self.band_hi_cpm:
            raise ParameterError(f"band must be LO,HI with 0 < LO < HI, got {self.band_lo_cpm:g},{self.band_hi_cpm:g}")
        if not self.band_lo_cpm <= self.target_cpm <= self.band_hi_cpm:
            raise ParameterError(
                f"target {self.target_cpm:g} lies outside the band {self.band_lo_cpm:g}–{self.band_hi_cpm:g}"
            )
        if not 0.05 <= self.min_pause_s <= 5.0:
            raise ParameterError(f"min_pause_s must be between 0.05 and 5 s, got {self.min_pause_s!r}")
        if not self.window_s > 0 or not self.hop_s > 0:
            raise ParameterError(f"pace window and hop must be positive, got {self.window_s!r}, {self.hop_s!r}")
        if self.lang not in ("zh", "en"):
            raise ParameterError(f"lang must be 'zh' or 'en', got {self.lang!r}")
        if self.trainee not in ("parent", "stem-prefix"):
            raise ParameterError(f"trainee must be 'parent' or 'stem-prefix', got {self.trainee!r}")

    @property
    def band(self) -> tuple[float, float]:
        return (self.band_lo_cpm, self.band_hi_cpm)

    def with_overrides(self, **overrides: Any) -> "Settings":
        """A copy with the given fields replaced; ``None`` values are ignored (flag not given)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **given) if given else self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_TOML_KEYS: dict[tuple[str, str], str] = {
    ("rate", "target_cpm"): "target_cpm",
    ("pauses", "min_pause_s"): "min_pause_s",
    ("pauses", "max_pause_s"): "max_pause_s",
    ("pauses", "max_mid_phrase"): "max_mid_phrase",
    ("pauses", "max_run_chars"): "max_run_chars",
    ("pace", "window_s"): "window_s",
    ("pace", "hop_s"): "hop_s",
    ("pace", "max_cv"): "max_cv",
    ("report", "lang"): "lang",
    ("batch", "trainee"): "trainee",
}


def load_rubric(path: str | Path, base: Settings | None = None) -> Settings:
    """Read a rubric TOML file into :class:`Settings`.

    Raises
    ------
    RubricError
        Missing file, invalid TOML, an unknown key or a value of the wrong type.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(p, "rubric file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(p, f"cannot read rubric ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(p, f"invalid TOML ({exc})") from None
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(Settings)}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise RubricError(p, f"unknown key {section!r} (expected tables such as [rate], [pauses], [pace])")
        for key, value in table.items():
            if (section, key) == ("rate", "band_cpm"):
                if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)):
                    raise RubricError(p, f"[rate] band_cpm must be [lo, hi], got {value!r}")
                values["band_lo_cpm"], values["band_hi_cpm"] = float(value[0]), float(value[1])
                continue
            name = _TOML_KEYS.get((section, key))
            if name is None:
                raise RubricError(p, f"unknown key [{section}] {key}")
            want = types[name]
            if want in ("float", float) and _is_number(value):
                value = float(value)
            elif want in ("int", int) and isinstance(value, int) and not isinstance(value, bool):
                pass
            elif want in ("str", str) and isinstance(value, str):
                pass
            else:
                raise RubricError(p, f"[{section}] {key} has the wrong type: {value!r}")
            values[name] = value
    try:
        return replace(base or Settings(), **values)
    except ParameterError as exc:
        raise RubricError(p, str(exc)) from None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
