"""Reading the TOML files a trainer edits (the rubric, the guidance files).

Editors on Windows save UTF-8 with a byte-order mark, and Chinese input methods type full-width
punctuation (，＝“”：) where TOML needs ASCII; both are common and both make ``tomllib`` fail with
a message that names neither. :func:`read` accepts the mark and :func:`loads` explains invalid
TOML in one line: ``line 13: invalid TOML (Expected '=' after a key …, column 10); full-width ＝
must be ASCII =``. Callers put the file's name in front (:class:`~speechcoach.errors.InputError`).
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


def full_width_hint(line: str) -> str:
    """``full-width ， must be ASCII ,`` for the full-width punctuation of ``line`` outside its
    quoted strings (inside them it is text), ``use = between a key and its value`` for
    ``key: value``, or ``""``.

    ``lang："en"`` gives ``full-width ： must be ASCII = (TOML joins a key and its value with
    =)``: the colon's ASCII form would fail too.
    """
    bare = _STRING.sub("", line)
    found = list(dict.fromkeys(ch for ch in bare if ch in FULL_WIDTH))
    parts = []
    marks = [ch for ch in found if ch != "\u3000"]
    if marks:
        why = " (TOML joins a key and its value with =)" if "：" in marks else ""
        parts.append(f"full-width {' '.join(marks)} must be ASCII {' '.join(FULL_WIDTH[ch] for ch in marks)}{why}")
    if "\u3000" in found:
        parts.append("a full-width space must be an ASCII space")
    if "：" not in marks and _KEY_COLON.search(bare):
        parts.append("use = between a key and its value, not :")
    return "; ".join(parts)
