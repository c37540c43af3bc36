"""Counting what a script makes the speaker say.

In Mandarin one character is one syllable, so the spoken length of a script is the number of
syllables a reader produces: every CJK ideograph, digits as they are read aloud
(``2024年`` → 二〇二四年 = 5, ``500元`` → 五百元 = 3, ``12333`` → 一二三三三 = 5, ``3.5`` → 三点五,
``40%`` → 百分之四十),
and Latin letters one per letter (``APP`` = 3). Punctuation, spaces, emoji and symbols count
nothing.

:func:`spoken_units` returns each spoken unit with its position in the script, which the pause
placement uses; :func:`count_spoken` is its length.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DIGITS = "〇一二三四五六七八九"
_SMALL_UNITS = ["", "十", "百", "千"]
_BIG_UNITS = ["", "万", "亿", "万亿"]

SENTENCE_END = frozenset("。？！?!…")
CLAUSE_BREAK = frozenset("，、；：,;:")

_MEASURE_WORDS = frozenset("元块角毛人个次名位户家项件份张条台辆所倍岁年月日天周小时分秒米里斤克吨亩平方万亿千百")
"""Units and measure words after which a long digit string is an amount, read as a number
(``15000人``, ``10000元``); without one it is a code (a hotline, a postcode), read digit by digit."""

_NUMBER = re.compile(r"(?P<int>\d+)(?:\.(?P<frac>\d+))?(?P<pct>%|％)?")


@dataclass(frozen=True)
class Unit:
    """One spoken syllable of a script.

    Attributes
    ----------
    text : str
        The syllable as a character (a digit is given as the Chinese numeral read).
    index : int
        Position in the script of the source character this syllable comes from.
    """

    text: str
    index: int


def is_cjk(ch: str) -> bool:
    """Whether ``ch`` is a CJK ideograph (including ``〇``)."""
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0x20000 <= o <= 0x2EBEF
        or 0xF900 <= o <= 0xFAFF
        or o == 0x3007
    )


def read_cardinal(n: int) -> str:
    """Chinese reading of a non-negative integer (``105`` → ``一百零五``, ``15`` → ``十五``)."""
    if n == 0:
        return "零"
    groups: list[int] = []
    while n:
        groups.append(n % 10_000)
        n //= 10_000
    out = ""
    zero_pending = False
    for gi in range(len(groups) - 1, -1, -1):
        g = groups[gi]
        if g == 0:
            zero_pending = bool(out)
            continue
        if out and (zero_pending or g < 1000):
            out += "零"
        out += _read_group(g) + _BIG_UNITS[gi]
        zero_pending = False
    if out.startswith("一十"):
        out = out[1:]
    return out


def _read_group(g: int) -> str:
    digits = [int(c) for c in f"{g:04d}"]
    out = ""
    zero = False
    started = False
    for pos, d in enumerate(digits):
        unit = _SMALL_UNITS[3 - pos]
        if d == 0:
            zero = started
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + unit
        started = True
    return out


def read_number(token: str, *, next_char: str = "") -> str:
    """How a digit string is read aloud in context.

    Four-digit years (``2024年``), numbers with a leading zero, codes of five digits or more
    with no unit after them (the hotline ``12333``, a postcode) and anything over 8 digits are
    read digit by digit; other numbers as cardinals (``15000人`` 一万五千人).
    """
    code = len(token) >= 5 and next_char not in _MEASURE_WORDS
    if (len(token) == 4 and next_char == "年") or (len(token) > 1 and token[0] == "0") or code or len(token) > 8:
        return "".join(_DIGITS[int(c)] for c in token)
    return read_cardinal(int(token))


def spoken_units(text: str) -> list[Unit]:
    """The syllables a reader says for ``text``, each with its source position.

    Parameters
    ----------
    text : str
        A script (any punctuation; full-width digits and letters are accepted).

    Returns
    -------
    list of Unit
    """
    norm = unicodedata.normalize("NFKC", text)
    if len(norm) != len(text):  # NFKC changed lengths (rare ligatures): fall back per character
        norm = "".join(unicodedata.normalize("NFKC", c)[:1] or c for c in text)
    units: list[Unit] = []
    i = 0
    n = len(norm)
    while i < n:
        ch = norm[i]
        if ch.isdigit() and ch.isascii():
            m = _NUMBER.match(norm, i)
            assert m is not None
            end = m.end()
            nxt = norm[end] if end < n else ""
            reading = ""
            if m.group("pct"):
                reading += "百分之"
            reading += read_number(m.group("int"), next_char=nxt)
            if m.group("frac"):
                reading += "点" + "".join(_DIGITS[int(c)] for c in m.group("frac"))
            units.extend(Unit(r, i) for r in reading)
            # a range like 60-80 or 60~80 is read with 到
            if end + 1 < n and norm[end] in "-~～—–" and norm[end + 1].isdigit():
                units.append(Unit("到", end))
                end += 1
            i = end
            continue
        if is_cjk(ch):
            units.append(Unit(ch, i))
        elif ch.isascii() and ch.isalpha():
            units.append(Unit(ch.upper(), i))
        i += 1
    return units


def count_spoken(text: str) -> int:
    """Number of syllables spoken for ``text`` (see the module docstring)."""
    return len(spoken_units(text))


def break_after(text: str, index: int) -> str:
    """The kind of break that follows position ``index`` of ``text``.

    Looks at the punctuation between this character and the next spoken one.

    Returns
    -------
    str
        ``"sentence"`` (。？！…), ``"clause"`` (，、；：) or ``"none"``.
    """
    kind = "none"
    for ch in text[index + 1 :]:
        if ch in SENTENCE_END:
            return "sentence"
        if ch in CLAUSE_BREAK:
            kind = "clause"
        elif ch == "\n":
            kind = "sentence" if kind == "none" else kind
        elif is_cjk(ch) or ch.isalnum():
            break
    return kind
