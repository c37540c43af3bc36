"""Report strings in Chinese and English, kept as editable data files (``zh.toml``, ``en.toml``)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

LANGS = ("zh", "en")


@cache
def strings(lang: str) -> dict[str, dict[str, str]]:
    """All report strings for ``lang``, by section (``labels``, ``findings``, …)."""
    text = resources.files(__name__).joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def fmt_time(seconds: float, lang: str = "zh") -> str:
    """A time position as ``m:ss.s`` (the same in both languages)."""
    m, s = divmod(max(seconds, 0.0), 60.0)
    return f"{int(m)}:{s:04.1f}"
