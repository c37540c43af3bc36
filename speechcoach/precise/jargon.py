"""Policy jargon: terms the public may not understand, and plainer ways to say them.

The catalogue is data (``guidance/jargon.toml``) that trainers edit. :func:`find` looks for
each term (and its aliases) in the script and in the recogniser's transcript; findings point
to the guidance item ``plain_words``. A term heard in the recording carries the time it was
said; a term found only in the script carries ``start_s = None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Sequence

import numpy as np


@dataclass(frozen=True)
class Term:
    """One catalogue entry: the term, a plainer phrasing, other spellings."""

    term: str
    plain: str
    aliases: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        """The term and its aliases, longest first."""
        return tuple(sorted({self.term, *self.aliases}, key=len, reverse=True))


@dataclass(frozen=True)
class JargonUse:
    """A catalogue term used in the script or the recording.

    Attributes
    ----------
    term : str
        The catalogue term (even when an alias was used).
    plain : str
        The plainer phrasing.
    start_s : float or None
        When it was first said; None when it is only in the script.
    said : str
        The spelling found.
    in_script : bool
        Whether the script uses it.
    """

    term: str
    plain: str
    start_s: float | None
    said: str
    in_script: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The report's entry."""
        return {
            "term": self.term,
            "plain": self.plain,
            "start_s": None if self.start_s is None else round(self.start_s, 3),
            "in_script": self.in_script,
        }


@cache
def catalogue(folder: str | None = None) -> tuple[Term, ...]:
    """The terms of ``jargon.toml``: a trainer's guidance ``folder``'s (``None``: the shipped one).

    Raises
    ------
    speechcoach.guidance.GuidanceError
        The file is broken (checked entry by entry when first read).
    """
    from ..guidance import jargon_entries

    return tuple(Term(e.term, e.plain, e.aliases) for e in jargon_entries(folder))


def _find_first(text: str, spellings: Sequence[str], taken: np.ndarray) -> tuple[int, str] | None:
    """First position where one of ``spellings`` occurs in ``text`` on characters not yet taken."""
    best: tuple[int, str] | None = None
    for sp in spellings:
        i = text.find(sp)
        while i != -1 and taken[i : i + len(sp)].any():
            i = text.find(sp, i + 1)
        if i != -1 and (best is None or i < best[0]):
            best = (i, sp)
    return best


def find(
    *,
    script: str | None = None,
    words: Sequence[Any] = (),
    terms: Sequence[Term] | None = None,
    folder: str | None = None,
) -> tuple[JargonUse, ...]:
    """Catalogue terms used in the script and/or heard in the recording.

    Parameters
    ----------
    script : str, optional, keyword-only
    words : sequence of Word, keyword-only
        The recogniser's timed words (:class:`speechcoach.precise.transcript.Word`), in order.
    terms : sequence of Term, optional, keyword-only
        Defaults to :func:`catalogue`. Longer terms win over shorter ones inside them
        (个人账户累计储存额 is not also reported as 储存额).
    folder : str, optional, keyword-only
        The trainer's guidance folder whose ``jargon.toml`` :func:`catalogue` reads.

    Returns
    -------
    tuple of JargonUse
        One per term, heard ones in time order first, then script-only ones in script order.
    """
    terms = tuple(terms if terms is not None else catalogue(folder))
    order = sorted(terms, key=lambda t: -len(t.spellings[0]))
    heard_text = "".join(w.text for w in words)
    starts: list[int] = []
    for w in words:
        n = max(len(w.text), 1)
        starts.extend(np.linspace(w.start_s, w.end_s, n + 1)[:-1][: len(w.text)])
    taken_h = np.zeros(len(heard_text), dtype=bool)
    taken_s = np.zeros(len(script or ""), dtype=bool)
    heard: list[tuple[float, JargonUse]] = []
    scripted: list[tuple[int, JargonUse]] = []
    for t in order:
        hit_h = _find_first(heard_text, t.spellings, taken_h) if heard_text else None
        hit_s = _find_first(script, t.spellings, taken_s) if script else None
        if hit_h is not None:
            i, sp = hit_h
            taken_h[i : i + len(sp)] = True
        if hit_s is not None:
            j, sp_s = hit_s
            taken_s[j : j + len(sp_s)] = True
        if hit_h is not None:
            heard.append((float(starts[i]), JargonUse(t.term, t.plain, float(starts[i]), sp, hit_s is not None)))
        elif hit_s is not None:
            scripted.append((j, JargonUse(t.term, t.plain, None, sp_s, True)))
    heard.sort(key=lambda h: h[0])
    scripted.sort(key=lambda s: s[0])
    return tuple(u for _, u in heard) + tuple(u for _, u in scripted)
