"""The guidance catalogue: data files that trainers can edit, and their loader.

``catalogue.toml`` holds one table per guidance item (see its header for the fields).
Findings refer to items by id; reports show the item's title, advice and tip in the report's
language, with the section of the training material it comes from.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class GuidanceItem:
    """One item of the guidance, in one language."""

    id: str
    source: str
    checked: str  # "audio" or "self"
    title: str
    advice: str
    tip: str


@cache
def _raw() -> dict[str, dict[str, str]]:
    text = resources.files(__name__).joinpath("catalogue.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def catalogue(lang: str = "zh") -> dict[str, GuidanceItem]:
    """All guidance items in ``lang`` ("zh" or "en"), by id, in catalogue order."""
    items = {}
    for key, t in _raw().items():
        items[key] = GuidanceItem(
            id=key,
            source=t["source"] if lang == "zh" else t["source_en"],
            checked=t["checked"],
            title=t[f"title_{lang}"],
            advice=t[f"advice_{lang}"],
            tip=t[f"tip_{lang}"],
        )
    return items


def self_check(lang: str = "zh") -> list[GuidanceItem]:
    """The items audio cannot check, for the report's self-check list."""
    return [item for item in catalogue(lang).values() if item.checked == "self"]
