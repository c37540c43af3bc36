"""Reading the TOML files a trainer edits (the rubric, the guidance files).

Editors on Windows save UTF-8 with a byte-order mark, and Chinese input methods type full-width
punctuation (，＝“”：) where TOML needs ASCII; both are common and both make ``tomllib`` fail with
a message that names neither. :func:`read` accepts the mark and :func:`loads` explains invalid
TOML in one line: ``line 13: invalid TOML (Expected '=' after a key …, column 10); full-width ＝
must be ASCII =``. Callers put the file's name in front (:class:`~speechcoach.errors.InputError`).
:func:`describe_value` shows a value of the wrong kind in their messages (``got the text "120"``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

FULL_WIDTH: dict[str, str] = {
    "，": ",",
    "＝": "=",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "：": "=",  # a key and its value: TOML joins them with =, never a colon
    "［": "[",
    "］": "]",
    "【": "[",
    "】": "]",
    "「": '"',
    "」": '"',
    "｛": "{",
    "｝": "}",
    "＃": "#",
    "\u3000": " ",
}
"""Full-width characters typed where TOML wants their ASCII forms (``：`` where it wants ``=``)."""

DIGITS = {chr(0xFF10 + i): str(i) for i in range(10)}
"""Full-width digits (``１２０``), typed by Chinese input methods in full-width mode: TOML's
numbers are ASCII (inside quoted strings they are text)."""
_DIGIT_RUN = re.compile("[\uff10-\uff19][\uff10-\uff19．]*")
_TABLE_LIKE = re.compile(r"^\s*「[^」]*」\s*(?:#.*)?$")
"""``「rate」`` alone on its line: a table header in the wrong brackets, not a string."""
_CORNER = re.compile(r"「([^」]*)」")
_FULL_QUOTED = re.compile(r"「[^」]*」|“[^”]*”|‘[^’]*’")
_NUMBER_OR_EMPTY = re.compile(r"^[\s+\-]*(?:[0-9０-９][0-9０-９._．]*)?\s*$")

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')
_KEY_COLON = re.compile(r"(?:^|[{,])\s*[\w.\-]+\s*:(?!\d)")
"""``key: value`` (YAML's or JSON's way), once the quoted strings are taken out of the line."""
_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


class TomlProblem(ValueError):
    """A file is not readable TOML; the message is one line without the file's name."""


def read(path: str | Path) -> str:
    """The text of ``path``: UTF-8, a leading byte-order mark dropped.

    Raises
    ------
    FileNotFoundError, OSError
        As :meth:`pathlib.Path.read_bytes` (the caller names them).
    TomlProblem
        Not UTF-8 (saved as UTF-16 or in a legacy code page such as GBK).
    """
    data = Path(path).read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TomlProblem("saved as UTF-16 (Notepad's 'Unicode'): save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TomlProblem(f"line {line}: not UTF-8 text (saved as GBK or ANSI?): save it as UTF-8") from None


def loads(text: str) -> dict[str, Any]:
    """Parse TOML text (a leading byte-order mark is ignored).

    Raises
    ------
    TomlProblem
        Invalid TOML: ``line N: invalid TOML (tomllib's reason, column C)``, and a hint when that
        line has full-width punctuation outside quoted strings.
    """
    text = text.removeprefix("\ufeff")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        where = _WHERE.search(reason)
        if where is None:
            if reason.endswith("(at end of document)"):  # an array, table or string never closed
                reason = reason.removesuffix("(at end of document)").strip()
                raise TomlProblem(f"invalid TOML at the end of the file ({reason}: a bracket or quote is not closed)") from None
            raise TomlProblem(f"invalid TOML ({reason})") from None
        lineno, col = int(where.group(1)), int(where.group(2))
        reason = reason[: where.start()]
        lines = text.splitlines()
        hint = full_width_hint(lines[lineno - 1] if 0 < lineno <= len(lines) else "")
        raise TomlProblem(f"line {lineno}: invalid TOML ({reason}, column {col})" + (f"; {hint}" if hint else "")) from None


def describe_value(value: Any) -> str:
    """A TOML value as the file wrote it, for messages: ``the text "120"``, ``empty text``,
    ``true``, ``a table``, ``the list [100, "140"]``, ``4.5``."""
    if isinstance(value, str):
        return f'the text "{value}"' if value.strip() else "empty text"
    if isinstance(value, list):
        return f"the list {_written(value)}"
    return _written(value)


def _written(value: Any) -> str:
    """``value`` in TOML's notation (a table inside a list: ``a table``)."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(_written(v) for v in value) + "]"
    return str(value)


def full_width_hint(line: str) -> str:
    """``full-width ， must be ASCII ,`` for the full-width punctuation of ``line`` outside its
    quoted strings (inside them it is text), ``use = between a key and its value`` for
    ``key: value``, or ``""``.

    ``lang："en"`` gives ``full-width ： must be ASCII = (TOML joins a key and its value with
    =)``: the colon's ASCII form would fail too. Corner brackets 「 」 are quotes around a value
    (``lang = 「en」``) but brackets on a table line (``「rate」``) or around a list
    (``band_cpm = 「100, 140」``); ``；`` is a comma inside a list and a line break between two
    keys; full-width digits (``１２０``) must be ASCII ones.
    """
    bare = _STRING.sub("", line)
    found = list(dict.fromkeys(ch for ch in bare if ch in FULL_WIDTH or ch == "；"))
    ascii_ = dict(FULL_WIDTH)
    if _TABLE_LIKE.match(bare) or any(_listlike(m.group(1)) for m in _CORNER.finditer(bare)):
        ascii_["「"], ascii_["」"] = "[", "]"  # a table header, or a list of values: brackets, not quotes
    else:  # a string in full-width quotes: what is inside them is text
        bare = _FULL_QUOTED.sub(lambda m: m.group()[0] + m.group()[-1], bare)
        found = list(dict.fromkeys(ch for ch in bare if ch in FULL_WIDTH or ch == "；"))
    if "；" in found and _in_brackets(bare, bare.index("；")):
        ascii_["；"] = ","  # between the items of a list
    parts = []
    marks = [ch for ch in found if ch in ascii_ and ch != "\u3000"]
    if marks:
        why = " (TOML joins a key and its value with =)" if "：" in marks else ""
        parts.append(f"full-width {' '.join(marks)} must be ASCII {' '.join(ascii_[ch] for ch in marks)}{why}")
    if "；" in found and "；" not in ascii_:
        parts.append("full-width ； must be a new line (one key = value per line)")
    digits = _DIGIT_RUN.search(bare)
    if digits:
        run = digits.group().rstrip("．")
        parts.append(f"full-width digits {run} must be ASCII {''.join(DIGITS.get(ch, '.') for ch in run)}")
    if "\u3000" in found:
        parts.append("a full-width space must be an ASCII space")
    if "：" not in marks and _KEY_COLON.search(bare):
        parts.append("use = between a key and its value, not :")
    return "; ".join(parts)


def _listlike(inside: str) -> bool:
    """Whether the text between 「 」 (quoted strings already taken out) looks like a list:
    several numbers or strings separated by commas (``100, 140``, ``"嗯"，"啊"``)."""
    items = re.split("[,，、；;]", inside)
    return len(items) > 1 and all(_NUMBER_OR_EMPTY.match(item) for item in items)


def _in_brackets(text: str, at: int) -> bool:
    """Whether position ``at`` of ``text`` is inside an unclosed ``[`` (ASCII or full-width)."""
    depth = 0
    for ch in text[:at]:
        if ch in "[［【「":
            depth += 1
        elif ch in "]］】」" and depth:
            depth -= 1
    return depth > 0
