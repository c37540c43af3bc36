"""Report strings in Chinese and English, kept as editable data files (``zh.toml``, ``en.toml``).

:func:`strings` loads one language's tables, :func:`template` picks a message (the singular
``KEY_one`` wording when a count is 1), :func:`fmt_time` and :func:`fmt_span` write a moment or
a stretch of the recording (``0:12.5``, ``0:10.5–0:18.5``), and :func:`error_text` words an
error from the ``[errors]`` templates by its ``code`` and ``params``.
"""

from __future__ import annotations

import math

import tomllib
from functools import cache
from importlib import resources
from typing import Any, Mapping

LANGS = ("zh", "en")


@cache
def strings(lang: str) -> dict[str, dict[str, str]]:
    """All report strings for ``lang``, by section (``labels``, ``findings``, …)."""
    text = resources.files(__name__).joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def template(table: Mapping[str, str], key: str, n: Any = None) -> str:
    """The message template ``key`` of a locale section, in its singular form when ``n`` is 1.

    A count's noun and verb agree with it through a second key: ``long_runs`` is worded for
    several (``"{n} stretches run on …"``) and ``long_runs_one`` for one (``"One stretch runs
    on …"``). A language without plurals (Chinese) has no ``_one`` keys and always gets ``key``.

    Parameters
    ----------
    table : mapping of str
        A section of :func:`strings` (``findings``, ``warnings``, ``check``…).
    key : str
        The message's key.
    n : int, optional
        The count the message is about; None when it has none.

    Returns
    -------
    str
        The template, to be filled with ``str.format``.
    """
    if n is not None and not isinstance(n, bool) and n == 1:
        one = table.get(f"{key}_one")
        if one is not None:
            return one
    return table[key]


def fmt_time(seconds: float, lang: str = "zh") -> str:
    """A time position as ``m:ss.s`` (the same in both languages)."""
    tenths = math.floor(max(seconds, 0.0) * 10 + 0.5)  # rounded first (half up): 59.96 s is 1:00.0, not 0:60.0
    m, t = divmod(tenths, 600)
    return f"{m}:{t // 10:02d}.{t % 10}"


def fmt_span(start_s: float, end_s: float, lang: str = "zh") -> str:
    """A stretch of the recording as ``m:ss.s–m:ss.s`` (a pace window, the speech span)."""
    return f"{fmt_time(start_s, lang)}–{fmt_time(end_s, lang)}"


def error_text(
    err_or_code: Any,
    params: Mapping[str, Any] | None = None,
    lang: str = "zh",
    *,
    fallback: str | None = None,
    path: str | None = None,
) -> str:
    """A problem with an input in the report language, from the ``[errors]`` table of the locale.

    Parameters
    ----------
    err_or_code : InputError or str or None
        An error carrying ``code``, ``params`` and the English ``problem``
        (:class:`speechcoach.errors.InputError`), or just a code.
    params : mapping, optional
        Values for the template (numbers as numbers); default the error's own ``params``.
    lang : {"zh", "en"}
        The language to write in.
    fallback : str, keyword-only, optional
        English text used when the code is absent or unknown, or its template cannot be filled
        from ``params``; default the error's ``problem`` (else ``str(err)``, else the code).
    path : str, keyword-only, optional
        A file to name before the problem, ``PATH: problem`` / ``PATH：problem``.

    Returns
    -------
    str
        One line.
    """
    if err_or_code is None or isinstance(err_or_code, str):
        code = err_or_code
        own: Mapping[str, Any] = {}
        default = code or ""
    else:
        code = getattr(err_or_code, "code", None)
        own = getattr(err_or_code, "params", None) or {}
        default = getattr(err_or_code, "problem", None) or str(err_or_code)
    text = fallback if fallback is not None else default
    table = strings(lang).get("errors", {}) if lang in LANGS else {}
    template = table.get(code) if code else None
    if template is not None:
        try:
            text = template.format(**(own if params is None else params))
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            pass  # the values do not fit the template: keep the English text
    text = " ".join(str(text).split())
    if path is None:
        return text
    colon = strings(lang)["report"]["colon"] if lang in LANGS else ": "
    return f"{path}{colon}{text}"
