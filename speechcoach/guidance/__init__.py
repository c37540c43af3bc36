"""The guidance: data files that trainers can edit, their loader and their validation.

Three files, shipped in this package:

* ``catalogue.toml`` holds one table per guidance item (see its header for the fields).
  Findings refer to items by id (:data:`REQUIRED`); reports show the item's title, advice and
  tip in the report's language, with the section of the training material it comes from.
* ``jargon.toml`` — policy terms with plainer wordings (:mod:`speechcoach.precise.jargon`).
* ``fillers.toml`` — filler words and their limit (:mod:`speechcoach.precise.fillers`).

A trainer's folder (``--guidance DIR``, rubric ``[report] guidance``) may hold any of the three;
a file it does not hold comes from the package. Every loader takes that folder (``None``: the
shipped files) and caches by it. A file is checked completely when it is first read, both
languages at once, and :func:`validate` reads all three, so that the command line refuses a
broken file before any analysis. Problems raise :class:`GuidanceError`, whose one-line message
names the file: ``…/catalogue.toml: [pace] is missing title_zh``.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..tomlfile import TomlProblem, describe_value, loads, read

SHIPPED = Path(__file__).resolve().parent
"""The folder of the shipped files."""

FILES = ("catalogue.toml", "jargon.toml", "fillers.toml")

REQUIRED = ("pace", "pauses", "short_sentences", "plain_words", "fillers", "script_coverage")
"""The items findings point to (:mod:`speechcoach.analysis.findings`); a catalogue must keep them."""

SUPPLIED = ("intonation", "audible_ends")
"""Items findings point to (the voice's, :mod:`speechcoach.analysis.voice`) that came after
trainers first exported their catalogues: a trainer's catalogue may lack them, and then the
shipped wording is used (:func:`catalogue`), so that an older edited catalogue keeps working."""

LANGS = ("zh", "en")
TEXT_FIELDS = ("source", "source_en", "title_zh", "title_en", "advice_zh", "advice_en", "tip_zh", "tip_en")
"""The text every item needs, in both languages (``source`` is the Chinese one)."""
ITEM_FIELDS = ("source", "source_en", "checked", *TEXT_FIELDS[2:])
CHECKED = ("audio", "self")

JARGON_FIELDS = ("term", "plain", "aliases")
FILLER_KEYS = ("max_per_minute", "always", "contextual")
MAX_FILLERS_PER_MINUTE = 600.0
"""Largest accepted ``max_per_minute`` (10 a second: no limit in practice)."""


class GuidanceError(InputError):
    """A guidance file (or folder) cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class GuidanceItem:
    """One item of the guidance, in one language."""

    id: str
    source: str
    checked: str  # "audio" or "self"
    title: str
    advice: str
    tip: str


@dataclass(frozen=True)
class JargonEntry:
    """One ``[[term]]`` of ``jargon.toml``."""

    term: str
    plain: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class FillerLists:
    """The contents of ``fillers.toml``."""

    always: tuple[str, ...]
    contextual: tuple[str, ...]
    max_per_minute: float


# --------------------------------------------------------------------------- files and folders


def folder_key(folder: str | Path | None) -> str | None:
    """The cache key of a guidance folder: its absolute path, or ``None`` for the shipped files."""
    return None if folder is None else str(Path(folder).expanduser().resolve())


def check_folder(folder: str | Path) -> Path:
    """``folder`` as a usable guidance folder.

    Raises
    ------
    GuidanceError
        Not found, not a folder, holding none of :data:`FILES`, or holding a file whose name is
        a near miss of one of them (``catalog.toml``: it would be ignored without a word).
    """
    d = Path(folder).expanduser()
    if not d.exists():
        raise GuidanceError(d, "guidance folder not found")
    if not d.is_dir():
        raise GuidanceError(d, f"is a file, not a guidance folder (a folder holding {', '.join(FILES)})")
    for p in sorted(d.glob("*.toml")):
        if p.name not in FILES:
            near = difflib.get_close_matches(p.name, FILES, n=1, cutoff=0.8)
            if near:
                raise GuidanceError(p, f"is not a guidance file name: rename it {near[0]} (the files are {', '.join(FILES)})")
    if not any((d / name).is_file() for name in FILES):
        raise GuidanceError(d, f"holds none of the guidance files {', '.join(FILES)} (speechcoach guidance export DIR writes them)")
    return d


def path_of(name: str, folder: str | Path | None = None) -> Path:
    """Where ``name`` (one of :data:`FILES`) is read from: the folder's copy, else the shipped one."""
    if folder is not None:
        own = Path(folder).expanduser() / name
        if own.exists():
            return own
    return SHIPPED / name


def _load(name: str, folder: str | None) -> tuple[Path, dict[str, Any], str]:
    """The file ``name`` parsed: its path, its tables and its text (for line numbers)."""
    if folder is not None:
        check_folder(folder)
    p = path_of(name, folder)
    try:
        text = read(p)
        return p, loads(text), text
    except TomlProblem as exc:
        raise GuidanceError(p, str(exc)) from None
    except FileNotFoundError:
        raise GuidanceError(p, "guidance file not found") from None
    except OSError as exc:
        raise GuidanceError(p, f"cannot read guidance file ({exc.strerror or exc})") from None


def validate(folder: str | Path | None = None) -> None:
    """Read and check all three guidance files (both languages); raise :class:`GuidanceError`
    at the first problem. Cached: later loads of the same folder cost nothing."""
    key = folder_key(folder)
    _catalogue_raw(key)
    jargon_entries(key)
    filler_lists(key)


def digest(folder: str | Path | None = None) -> str:
    """SHA-256 of the three files in force (for a batch to notice edited guidance)."""
    h = hashlib.sha256()
    for name in FILES:
        h.update(name.encode() + b"\0" + path_of(name, folder_key(folder)).read_bytes() + b"\0")
    return h.hexdigest()


def export(folder: str | Path, *, force: bool = False, names: Sequence[str] = ()) -> tuple[list[Path], list[Path], list[Path]]:
    """Copy the shipped files into ``folder`` (created if missing) for a trainer to edit.

    A file already in ``folder`` is kept (it may hold a trainer's edits) unless ``force``: so a
    trainer who deleted the files left unchanged can export again to get one back.

    Parameters
    ----------
    folder : path-like
    force : bool
        Replace the files already there.
    names : sequence of str
        Export only these (``jargon.toml`` or ``jargon``); all three when empty.

    Returns
    -------
    (written, replaced, kept) : three lists of Path
        The files copied where there were none, those copied over a file already there
        (``force``), and those left as they were because they were already there.

    Raises
    ------
    GuidanceError
        A name is not one of :data:`FILES`.
    OutputError
        The folder cannot be written.
    """
    from ..errors import OutputError
    from ..fileio import write_atomic

    d = Path(folder).expanduser()
    if d.exists() and not d.is_dir():
        raise OutputError(d, "is a file: give a folder to export the guidance into")
    wanted: list[str] = []
    for name in names:
        full = name if name.endswith(".toml") else f"{name}.toml"
        if full not in FILES:
            raise GuidanceError(name, f"is not a guidance file: give {', '.join(FILES)} (or none for all three)")
        if full not in wanted:
            wanted.append(full)
    written: list[Path] = []
    replaced: list[Path] = []
    kept: list[Path] = []
    for name in [n for n in FILES if n in wanted] if wanted else FILES:
        there = (d / name).exists()
        if there and not force:
            kept.append(d / name)
        else:
            (replaced if there else written).append(write_atomic(d / name, (SHIPPED / name).read_bytes()))
    return written, replaced, kept


def describe(folder: str | Path | None = None) -> list[str]:
    """One line per file in force: its size in items and where it is read from (after :func:`validate`)."""
    key = folder_key(folder)
    sizes = {
        "catalogue.toml": f"{len(_catalogue_raw(key))} items",
        "jargon.toml": f"{len(jargon_entries(key))} terms",
        "fillers.toml": f"{len(filler_lists(key).always) + len(filler_lists(key).contextual)} filler words",
    }
    lines = []
    for name in FILES:
        p = path_of(name, key)
        origin = "shipped" if p.parent == SHIPPED else "yours"
        lines.append(f"{name}: ok, {sizes[name]} ({origin}: {p})")
    return lines


# --------------------------------------------------------------------------- messages


def _unknown(name: str, known: tuple[str, ...]) -> str:
    near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"did you mean {near[0]}?" if near else f"known: {', '.join(known)}"


def _header_lines(text: str, pattern: str) -> list[int]:
    """Line numbers (1-based) of the lines matching ``pattern`` (table headers)."""
    rx = re.compile(pattern)
    return [i for i, line in enumerate(text.splitlines(), 1) if rx.match(line)]


def _text_value(where: str, key: str, value: Any) -> str:
    """``value`` when it is non-empty text; else ``ValueError`` saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError(f"{where} {key} must be text in quotes, got {describe_value(value)}")
    if not value.strip():
        raise ValueError(f"{where} {key} is empty")
    return value


# --------------------------------------------------------------------------- catalogue.toml


@cache
def _catalogue_raw(folder: str | None) -> dict[str, dict[str, str]]:
    p, data, text = _load("catalogue.toml", folder)
    try:
        return _check_catalogue(data, text)
    except ValueError as exc:
        raise GuidanceError(p, str(exc)) from None


def _check_catalogue(data: dict[str, Any], text: str) -> dict[str, dict[str, str]]:
    """The catalogue's items, every one complete; ``ValueError`` with the first problem."""
    if not data:
        raise ValueError(f"has no items (it needs at least [{'], ['.join(REQUIRED)}])")
    items: dict[str, dict[str, str]] = {}
    for item_id, table in data.items():
        if not isinstance(table, dict):
            lines = _header_lines(text, rf"\s*{re.escape(item_id)}\s*=")
            at = f"line {lines[0]}: " if lines else ""
            raise ValueError(f"{at}{item_id} = … is outside any item: every line belongs under an [item] header such as [pace]")
        where = f"[{item_id}]"
        unknown = [k for k in table if k not in ITEM_FIELDS]
        missing = [k for k in ITEM_FIELDS if k not in table]
        if missing:
            typo = next((u for u in unknown if difflib.get_close_matches(u, missing, n=1, cutoff=0.6)), None)
            also = f" ({typo} is not a field: misspelt?)" if typo else ""
            raise ValueError(f"{where} is missing {missing[0]}{also}")
        if unknown:
            raise ValueError(f"{where} has an unknown field {unknown[0]} ({_unknown(unknown[0], ITEM_FIELDS)})")
        for key in TEXT_FIELDS:
            _text_value(where, key, table[key])
        if table["checked"] not in CHECKED:
            raise ValueError(f'{where} checked must be "audio" or "self", got {describe_value(table["checked"]).removeprefix("the text ")}')
        items[item_id] = dict(table)
    absent = [i for i in REQUIRED if i not in items]
    if absent:
        new = [i for i in items if i not in REQUIRED and i not in _shipped_ids()]
        renamed = f" (was it renamed [{new[0]}]?)" if new else ""
        raise ValueError(f"item [{absent[0]}] is missing: findings point to it, so its id must stay{renamed}")
    return items


@cache
def _shipped_ids() -> tuple[str, ...]:
    return tuple(_catalogue_raw(None))


@cache
def catalogue(lang: str = "zh", folder: str | None = None) -> dict[str, GuidanceItem]:
    """All guidance items in ``lang`` ("zh" or "en"), by id, in catalogue order.

    Parameters
    ----------
    lang : {"zh", "en"}
    folder : str, optional
        A trainer's guidance folder (:attr:`speechcoach.settings.Settings.guidance`).

    Raises
    ------
    GuidanceError
        The catalogue in force is broken.
    """
    suffix = "zh" if lang == "zh" else "en"
    raw = dict(_catalogue_raw(folder_key(folder)))
    for key in SUPPLIED:  # an older trainer's catalogue: the shipped wording of the items it predates
        if key not in raw:
            raw[key] = _catalogue_raw(None)[key]
    return {
        key: GuidanceItem(
            id=key,
            source=t["source"] if lang == "zh" else t["source_en"],
            checked=t["checked"],
            title=t[f"title_{suffix}"],
            advice=t[f"advice_{suffix}"],
            tip=t[f"tip_{suffix}"],
        )
        for key, t in raw.items()
    }


def self_check(lang: str = "zh", folder: str | None = None) -> list[GuidanceItem]:
    """The items audio cannot check, for the report's self-check list."""
    return [item for item in catalogue(lang, folder).values() if item.checked == "self"]


# --------------------------------------------------------------------------- jargon.toml


@cache
def jargon_entries(folder: str | None = None) -> tuple[JargonEntry, ...]:
    """The terms of ``jargon.toml`` in force, checked.

    Raises
    ------
    GuidanceError
        ``jargon.toml: term 3 (line 21) has an empty term`` and the like.
    """
    p, data, text = _load("jargon.toml", folder_key(folder))
    try:
        return _check_jargon(data, text)
    except ValueError as exc:
        raise GuidanceError(p, str(exc)) from None


def _check_jargon(data: dict[str, Any], text: str) -> tuple[JargonEntry, ...]:
    for key in data:
        if key != "term":
            raise ValueError(f"unknown entry {key!r}: each term is a [[term]] table ({_unknown(key, ('term',))})")
    tables = data.get("term", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ValueError("term must be a list of [[term]] tables (write [[term]] above each entry)")
    lines = _header_lines(text, r"\s*\[\[\s*term\s*\]\]")
    out: list[JargonEntry] = []
    seen: dict[str, int] = {}
    for n, t in enumerate(tables, 1):
        where = f"term {n}" + (f" (line {lines[n - 1]})" if len(lines) == len(tables) else "")
        for key in t:
            if key not in JARGON_FIELDS:
                raise ValueError(f"{where} has an unknown field {key} ({_unknown(key, JARGON_FIELDS)})")
        for key in ("term", "plain"):
            if key not in t:
                raise ValueError(f"{where} is missing {key}")
            if not isinstance(t[key], str):
                raise ValueError(f"{where} {key} must be text in quotes, got {describe_value(t[key])}")
            if not t[key].strip():
                raise ValueError(f"{where} has an empty {key}")
        aliases = t.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ValueError(f'{where} aliases must be a list of texts such as ["异地备案"], got {describe_value(aliases)}')
        if any(not a.strip() for a in aliases):
            raise ValueError(f"{where} has an empty alias")
        term, plain = t["term"].strip(), t["plain"].strip()
        for spelling in dict.fromkeys((term, *(a.strip() for a in aliases))):
            if spelling in seen:
                raise ValueError(f"{where} repeats {spelling}, already term {seen[spelling]}: each spelling may belong to one term")
            seen[spelling] = n
        out.append(JargonEntry(term, plain, tuple(a.strip() for a in aliases)))
    return tuple(out)


# --------------------------------------------------------------------------- fillers.toml


@cache
def filler_lists(folder: str | None = None) -> FillerLists:
    """The contents of ``fillers.toml`` in force, checked.

    Raises
    ------
    GuidanceError
        ``fillers.toml: max_per_minute must be a number …`` and the like.
    """
    p, data, _ = _load("fillers.toml", folder_key(folder))
    try:
        return _check_fillers(data)
    except ValueError as exc:
        raise GuidanceError(p, str(exc)) from None


def _check_fillers(data: dict[str, Any]) -> FillerLists:
    for key in data:
        if key not in FILLER_KEYS:
            raise ValueError(f"unknown key {key} ({_unknown(key, FILLER_KEYS)})")
    for key in FILLER_KEYS:
        if key not in data:
            raise ValueError(f"{key} is missing")
    limit = data["max_per_minute"]
    if not (isinstance(limit, (int, float)) and not isinstance(limit, bool)):
        raise ValueError(f"max_per_minute must be a number, got {describe_value(limit)}")
    if not (math.isfinite(limit) and 0 < limit <= MAX_FILLERS_PER_MINUTE):
        raise ValueError(f"max_per_minute must be more than 0 and at most {MAX_FILLERS_PER_MINUTE:g}, got {limit}")
    lists = {}
    for key in ("always", "contextual"):
        words = data[key]
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError(f'{key} must be a list of words in quotes such as ["就是", "然后"], got {describe_value(words)}')
        if any(not w.strip() for w in words):
            raise ValueError(f"{key} has an empty word (\"\")")
        lists[key] = tuple(w.strip() for w in words)
    both = [w for w in lists["always"] if w in lists["contextual"]]
    if both:
        raise ValueError(f"{both[0]} is in both always and contextual: keep it in one")
    return FillerLists(lists["always"], lists["contextual"], float(limit))
