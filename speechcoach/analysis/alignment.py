"""Placing every spoken character of a script in time.

The recording is already cut into speech runs separated by pauses (:mod:`segmentation`) and
syllable nuclei have been found (:mod:`syllables`). Aligning the script is done in two steps.

1. **Which characters go in which run.** Each pause is given a *boundary* ``b`` in the script
   (the pause falls after the ``b``-th spoken unit, ``0 ≤ b ≤ n``), boundaries non-decreasing.
   A dynamic programme over (pause × candidate boundary) chooses them to minimise

   * for each run, ``(chars − expected)² / 2σ²``: the expected count is the run's share of the
     script, from its share of nuclei and of speaking time (the nuclei-per-character ratio is
     calibrated by the script itself, so 1 or 2 nuclei per syllable both work), with
     ``σ = REL_SD · expected + ABS_SD`` (a few skipped or added words only cost a little);
   * for each pause, a cost for the punctuation it falls at: nothing at a sentence end, a
     little at a clause break, more inside a phrase. So pauses snap to punctuation when the
     counts allow it, and stay inside a phrase when they do not. The pause's length is
     evidence too: inside a phrase a short pause (< 0.5 s) costs little, a long one (≥ 0.6 s)
     more; a long one at a clause break costs a little more than at a sentence end. Cheap
     short mid-phrase pauses matter most: when every pause inside a phrase is expensive, the
     speaker's own short unpunctuated pauses pull whole stretches of the alignment one
     sentence early (sentences of similar length are nearly interchangeable to the counts).

   Candidates for each pause lie in a band around its expected cumulative position, so the
   programme costs ``O(pauses × band²)``, vectorised per pause (a few ms for 10 minutes).
2. **Where each character lies inside its run.** The run is mapped to syllable progress with
   the nuclei as knots (each nucleus owns the stretch between the midpoints to its
   neighbours); character edges are spread evenly in progress and blended with an even
   spread in time (robust when nuclei are missed or doubled).

Everything here is a pure function of arrays and the script text.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..characters import CLAUSE_BREAK, SENTENCE_END, Unit, spoken_units
from ..precise.transcript import Word

NONE, CLAUSE, SENTENCE = 0, 1, 2
"""Codes of the break between two spoken units (see :func:`boundary_kinds`)."""

NUCLEI_WEIGHT = 0.9
"""Share of the expected character count taken from nuclei (the rest from speaking time)."""

REL_SD = 0.2
ABS_SD = 1.2
"""Spread of a run's character count around its expectation: ``σ = REL_SD · e + ABS_SD``."""

EMPTY_RUN_COST = 2.0
"""Extra cost, times ``min(1, expected)``, for a run given no characters at all (something
unscripted was said, or a noise was taken for speech)."""

BREAK_COST = (1.5, 0.5, 0.0)
"""Cost of a pause falling inside a phrase, at a clause break, at a sentence end."""

SHORT_PAUSE_S = 0.5
LONG_PAUSE_S = 0.6
"""Pause length is evidence about where a pause falls (see :data:`MID_PHRASE_COST`)."""

MID_PHRASE_COST = (0.7, 1.5, 2.2)
"""Cost of a pause inside a phrase when it is short (under :data:`SHORT_PAUSE_S`), of middle
length, or long (:data:`LONG_PAUSE_S` or more); replaces ``BREAK_COST[NONE]`` when pause
lengths are given. Short pauses happen inside phrases all the time (a breath, a stop
consonant, a speaker's own unpunctuated pause): made expensive, they pull the whole alignment
a sentence off to land on punctuation. A long pause inside a phrase is rarer but still
possible (so the counts can still insist on it). Short stays above the clause cost: a pause
at a nearby comma must still win over one inside the phrase (the samples' pauses at commas)."""

SKIP_SENTENCE_COST = 0.5
"""Cost of a sentence end inside the script that no pause falls at. Most sentence ends get a
pause; without this cost, several pauses in a row slip by one sentence each (every one still
at a sentence end) where the speakers' syllables are counted a little high or low for a
stretch, leaving one sentence end without its pause at each end of the slip."""

LONG_PAUSE_CLAUSE_COST = 0.4
"""Extra cost for a clause break (rather than a sentence end) taking a long pause."""

NUCLEI_SHARE_IN_RUN = 0.6
"""Blend of nucleus-based and even-in-time placement of characters inside a run."""

ANCHOR_MIN_BLOCK = 3
"""Where precise mode ran, a stretch of the script the recogniser heard character for character,
at least this many characters long, pins those characters to the recogniser's times (shorter
agreements are as often chance: the recogniser writes homophones and common characters recur)."""

ANCHOR_SLACK = 1
"""A pause's boundary may lie this many characters outside the bracket its anchors set: the
recogniser's word times can fall a syllable off at a pause."""

BAND_MIN = 12
BAND_SQRT = 3.0
"""Half-width of a pause's candidate band: ``BAND_MIN + BAND_SQRT·√min(E, n − E)`` characters."""


@dataclass(frozen=True)
class Alignment:
    """A script placed in time.

    Attributes
    ----------
    method : str
        How it was obtained: ``"runs+nuclei"``, or ``"runs+nuclei+asr"`` where the recogniser's
        word times anchored the script.
    script : str
        The script text.
    chars : tuple of str
        Each spoken unit (a digit is given as the numeral read), shape (n,).
    index : np.ndarray, shape (n,), int
        Position in the script of each unit's source character.
    start_s, end_s : np.ndarray, shape (n,)
        Approximate time span of each unit.
    kinds : np.ndarray, shape (n + 1,), int
        Break after unit ``i - 1`` / before unit ``i`` (:data:`NONE`, :data:`CLAUSE`,
        :data:`SENTENCE`); ``kinds[0]`` is NONE, ``kinds[n]`` SENTENCE (end of script).
    pause_at : np.ndarray, shape (p,), int
        For each pause, the boundary it falls at: the pause follows unit ``pause_at[j] - 1``.
    run_chars : np.ndarray, shape (p + 1,), int
        Spoken units in each speech run.
    missed_breaks, missed_steps : tuple of int
        Boundaries where a sentence ends, or a step of a procedure begins, and no pause came
        (filled in by :mod:`speechcoach.analysis.placement`).
    """

    method: str
    script: str
    chars: tuple[str, ...]
    index: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    kinds: np.ndarray
    pause_at: np.ndarray
    run_chars: np.ndarray
    missed_breaks: tuple[int, ...] = ()
    missed_steps: tuple[int, ...] = ()

    @property
    def n(self) -> int:
        return len(self.chars)

    def split_pos(self, b: int) -> int:
        """Script position where boundary ``b`` cuts the text (start of the next unit's source)."""
        return int(self.index[b]) if b < self.n else len(self.script)

    def char_index(self, b: int) -> int | None:
        """Script index of the last unit before boundary ``b`` (None before the first)."""
        return int(self.index[b - 1]) if b > 0 else None

    def sentences(self) -> list[tuple[int, int]]:
        """Unit ranges ``[first, last]`` (inclusive) of each sentence."""
        ends = np.flatnonzero(self.kinds[1:] == SENTENCE) + 1  # boundaries ending a sentence
        out = []
        first = 0
        for b in ends:
            if b > first:
                out.append((first, int(b) - 1))
                first = int(b)
        if first < self.n:
            out.append((first, self.n - 1))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The report's ``alignment`` object (times rounded to ms)."""
        sents = []
        for a, b in self.sentences():
            lo = int(self.index[a])
            hi = self.split_pos(b + 1)
            sents.append(
                {
                    "text": self.script[lo:hi].strip(),
                    "start_s": round(float(self.start_s[a]), 3),
                    "end_s": round(float(self.end_s[b]), 3),
                    "first_char": int(self.index[a]),
                    "last_char": int(self.index[b]),
                }
            )
        def gaps(bs: tuple[int, ...]) -> list[dict[str, Any]]:
            return [{"char_index": int(self.index[b - 1]), "time_s": round(float(self.end_s[b - 1]), 3)} for b in bs]

        return {
            "method": self.method,
            "missed_breaks": gaps(self.missed_breaks),
            "missed_steps": gaps(self.missed_steps),
            "sentences": sents,
            "chars": [
                {"char": c, "index": int(i), "start_s": round(float(s), 3), "end_s": round(float(e), 3)}
                for c, i, s, e in zip(self.chars, self.index, self.start_s, self.end_s)
            ],
        }


def boundary_kinds(text: str, units: list[Unit]) -> np.ndarray:
    """The break at every boundary between spoken units.

    Parameters
    ----------
    text : str
        The script.
    units : list of Unit
        ``spoken_units(text)``.

    Returns
    -------
    np.ndarray, shape (n + 1,), int
        ``kinds[b]`` is the break between unit ``b - 1`` and unit ``b``: a sentence end
        (。？！… or a line break), a clause break (，、；：) or none. ``kinds[0] = NONE``,
        ``kinds[n] = SENTENCE``.
    """
    n = len(units)
    kinds = np.zeros(n + 1, dtype=np.int8)
    for b in range(1, n):
        lo, hi = units[b - 1].index + 1, units[b].index
        if hi <= lo - 1:  # same source token (a number read as several syllables)
            continue
        kinds[b] = _gap_kind(text[lo:hi])
    kinds[n] = SENTENCE
    return kinds


def _gap_kind(gap: str) -> int:
    kind = NONE
    for ch in gap:
        if ch in SENTENCE_END:
            return SENTENCE
        if ch in CLAUSE_BREAK:
            kind = CLAUSE
        elif ch == "\n" and kind == NONE:
            kind = SENTENCE
    return kind


def run_weights(runs: np.ndarray, nuclei: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Each run's share of the speech (nuclei and speaking time blended), shape (k,), sums to 1.

    ``weights`` (shape (m,), one per nucleus) are the characters each nucleus stands for
    (:func:`speechcoach.analysis.syllables.nucleus_weights`); without them every nucleus counts one.
    """
    dur = np.maximum(runs[:, 1] - runs[:, 0], 0.0)
    share_t = dur / dur.sum() if dur.sum() > 0 else np.full(len(runs), 1.0 / len(runs))
    order = np.argsort(np.asarray(nuclei, dtype=float), kind="stable")
    t = np.asarray(nuclei, dtype=float)[order]
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)[order]
    cw = np.concatenate([[0.0], np.cumsum(w)])
    counts = cw[np.searchsorted(t, runs[:, 1], side="right")] - cw[np.searchsorted(t, runs[:, 0], side="left")]
    if counts.sum() <= 0:
        return share_t
    return NUCLEI_WEIGHT * counts / counts.sum() + (1 - NUCLEI_WEIGHT) * share_t


def _run_sd(e: np.ndarray | float) -> np.ndarray | float:
    return REL_SD * e + ABS_SD


def _run_cost(n: np.ndarray, e: float, scale: float = 1.0) -> np.ndarray:
    sd = scale * _run_sd(e)
    c = (n - e) ** 2 / (2 * sd * sd) + np.where(n == 0, EMPTY_RUN_COST * min(1.0, e), 0.0)
    return np.where(n < 0, np.inf, c)


def place_pauses(
    kinds: np.ndarray,
    expected: np.ndarray,
    pause_s: np.ndarray | None = None,
    *,
    scale: float = 1.0,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Choose the script boundary of every pause (dynamic programming).

    Parameters
    ----------
    kinds : np.ndarray, shape (n + 1,)
        Break codes from :func:`boundary_kinds`.
    expected : np.ndarray, shape (k,)
        Expected spoken units in each of the ``k`` runs (summing to ``n``).
    pause_s : np.ndarray, shape (k - 1,), optional
        Pause durations; long pauses prefer sentence ends to clause breaks.
    scale : float, keyword-only
        Multiplies the spread ``σ`` of every run's count (below 1: trust the counts more).
    bounds : (np.ndarray, np.ndarray), keyword-only, optional
        Lowest and highest boundary each pause may take, shape (k - 1,) each (from the
        recogniser's anchors, :func:`anchor_bounds`); a pause whose bracket misses its band keeps
        the band.

    Returns
    -------
    np.ndarray, shape (k - 1,), int
        Non-decreasing boundaries ``0 ≤ b ≤ n``.
    """
    n = len(kinds) - 1
    k = len(expected)
    p = k - 1
    if p <= 0:
        return np.zeros(0, dtype=int)
    bcost_base = np.asarray(BREAK_COST)[kinds]
    bcost_base[0] = BREAK_COST[NONE]
    bcost_base[n] = BREAK_COST[NONE]  # a pause after the last character: an empty final run
    cum = np.cumsum(expected)[:-1]
    cands: list[np.ndarray] = []
    for j in range(p):
        e = cum[j]
        w = int(np.ceil(BAND_MIN + BAND_SQRT * np.sqrt(max(min(e, n - e), 0.0))))
        c = int(round(e))
        band = np.arange(max(0, c - w), min(n, c + w) + 1)
        if bounds is not None:
            lo, hi = int(bounds[0][j]), int(bounds[1][j])
            inside = np.arange(max(0, lo), min(n, hi) + 1)
            band = inside if len(inside) else band
        cands.append(band)

    def bcost(j: int, b: np.ndarray) -> np.ndarray:
        c = bcost_base[b]
        if pause_s is None:
            return c
        d = float(pause_s[j])
        mid = MID_PHRASE_COST[0 if d < SHORT_PAUSE_S else 2 if d >= LONG_PAUSE_S else 1]
        c = np.where(kinds[b] == NONE, mid, c)
        if d >= LONG_PAUSE_S:
            c = c + np.where(kinds[b] == CLAUSE, LONG_PAUSE_CLAUSE_COST, 0.0)
        return c

    # ends[b]: sentence ends at boundaries 1..b-1 (inside the script, before boundary b)
    ends = np.concatenate([[0, 0], np.cumsum(kinds[1:n] == SENTENCE)])

    def skipped(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Sentence ends strictly between boundaries ``lo`` and ``hi`` (none when ``hi <= lo``)."""
        return np.maximum(ends[np.maximum(hi, 0)] - ends[np.minimum(lo + 1, n)], 0) * SKIP_SENTENCE_COST

    total = _run_cost(cands[0].astype(float), expected[0], scale) + bcost(0, cands[0]) + skipped(np.zeros_like(cands[0]), cands[0])
    back: list[np.ndarray] = []
    for j in range(1, p):
        step = cands[j][None, :] - cands[j - 1][:, None]
        m = total[:, None] + _run_cost(step.astype(float), expected[j], scale)
        m = m + skipped(cands[j - 1][:, None], cands[j][None, :])
        arg = np.argmin(m, axis=0)
        total = m[arg, np.arange(m.shape[1])] + bcost(j, cands[j])
        back.append(arg)
    total = total + _run_cost((n - cands[-1]).astype(float), expected[-1], scale) + skipped(cands[-1], np.full_like(cands[-1], n))
    i = int(np.argmin(total))
    out = np.empty(p, dtype=int)
    out[-1] = cands[-1][i]
    for j in range(p - 1, 0, -1):
        i = int(back[j - 1][i])
        out[j - 1] = cands[j - 1][i]
    return out


def char_times(runs: np.ndarray, nuclei: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end time of every unit, given how many units each run holds.

    Inside a run the units are spread evenly over syllable progress (nuclei as knots, see the
    module docstring), blended with an even spread over the run's time.

    Parameters
    ----------
    runs : np.ndarray, shape (k, 2)
    nuclei : np.ndarray, shape (m,)
    counts : np.ndarray, shape (k,), int
        Units in each run (sum ``n``).

    Returns
    -------
    start_s, end_s : np.ndarray, shape (n,)
    """
    t = np.sort(np.asarray(nuclei, dtype=float))
    lo_i = np.searchsorted(t, runs[:, 0], side="left")
    hi_i = np.searchsorted(t, runs[:, 1], side="right")
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    for r in np.flatnonzero(counts > 0):
        s, e = float(runs[r, 0]), float(runs[r, 1])
        c = int(counts[r])
        frac = np.arange(c + 1) / c
        edges = s + (e - s) * frac
        tn = t[lo_i[r] : hi_i[r]]
        if len(tn):
            knots_t = np.concatenate([[s], (tn[1:] + tn[:-1]) / 2, [e]])
            knots_p = np.arange(len(tn) + 1, dtype=float)
            by_nuclei = np.interp(frac * len(tn), knots_p, knots_t)
            edges = NUCLEI_SHARE_IN_RUN * by_nuclei + (1 - NUCLEI_SHARE_IN_RUN) * edges
        starts.append(edges[:-1])
        ends.append(edges[1:])
    if not starts:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(starts), np.concatenate(ends)


def heard_units(words: Sequence[Word]) -> tuple[list[str], np.ndarray]:
    """The recogniser's words as spoken units (digits read out), each with a time (s): the
    middle of its share of its word.

    Returns
    -------
    texts : list of str, length h
    times : np.ndarray, shape (h,)
    """
    texts: list[str] = []
    times: list[float] = []
    for w in words:
        us = spoken_units(w.text)
        for i, u in enumerate(us):
            texts.append(u.text)
            times.append(w.start_s + (w.end_s - w.start_s) * (i + 0.5) / len(us))
    return texts, np.asarray(times, dtype=float)


def anchors(units: Sequence[str], words: Sequence[Word]) -> tuple[np.ndarray, np.ndarray]:
    """Script units the recogniser heard, with their times.

    The script's units and the recogniser's are matched in order (:class:`difflib.SequenceMatcher`,
    longest agreements first); every unit of an agreement at least :data:`ANCHOR_MIN_BLOCK`
    long is an anchor.

    Parameters
    ----------
    units : sequence of str
        The script's spoken units, length n.
    words : sequence of Word
        The recogniser's words (the trusted transcript).

    Returns
    -------
    index : np.ndarray of int, shape (a,)
        Script units anchored, ascending.
    times : np.ndarray, shape (a,)
        Their times (s), ascending.
    """
    heard, times = heard_units(words)
    sm = difflib.SequenceMatcher(None, list(units), heard, autojunk=False)
    idx: list[int] = []
    at: list[float] = []
    for blk in sm.get_matching_blocks():
        if blk.size >= ANCHOR_MIN_BLOCK:
            idx.extend(range(blk.a, blk.a + blk.size))
            at.extend(times[blk.b : blk.b + blk.size].tolist())
    return np.asarray(idx, dtype=int), np.maximum.accumulate(np.asarray(at, dtype=float)) if at else np.zeros(0)


def anchor_bounds(pauses: np.ndarray, n: int, index: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The boundaries each pause may take given the anchors: after every unit anchored before
    its middle, before every unit anchored after it, :data:`ANCHOR_SLACK` units either way.

    Parameters
    ----------
    pauses : np.ndarray, shape (p, 2)
        ``[start_s, end_s]`` of each pause.
    n : int
        Spoken units in the script.
    index, times : np.ndarray, shape (a,)
        From :func:`anchors`.

    Returns
    -------
    lo, hi : np.ndarray of int, shape (p,)
    """
    mid = (pauses[:, 0] + pauses[:, 1]) / 2 if len(pauses) else np.zeros(0)
    k = np.searchsorted(times, mid, side="right")  # anchors before each pause
    before = np.concatenate([[-1], index])[k]  # the last anchored unit before (-1: none)
    after = np.concatenate([index, [n]])[k]  # the first anchored unit after (n: none)
    return before + 1 - ANCHOR_SLACK, after + ANCHOR_SLACK


def align(
    script: str,
    runs: np.ndarray,
    nuclei: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    words: Sequence[Word] | None = None,
) -> Alignment:
    """Align a script to a recording's speech runs and syllable nuclei.

    Parameters
    ----------
    script : str
        What was said (must hold at least one spoken unit).
    runs : np.ndarray, shape (k, 2)
        Speech runs ``[start_s, end_s]``; the ``k - 1`` gaps between them are the pauses.
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times in seconds.
    weights : np.ndarray, shape (m,), keyword-only, optional
        Characters each nucleus stands for (:func:`run_weights`).
    words : sequence of Word, keyword-only, optional
        What precise mode's recogniser heard (its trusted words): the script units it heard
        alike anchor each pause between them (:func:`anchors`, :func:`anchor_bounds`), and the
        nuclei place the pauses inside that bracket. An anchor further from where the nuclei put
        its unit than a pause's candidate band (:data:`BAND_MIN`, :data:`BAND_SQRT`) is dropped.

    Returns
    -------
    Alignment
    """
    units = spoken_units(script)
    n = len(units)
    if n == 0:
        raise ValueError("script has no spoken characters")
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    kinds = boundary_kinds(script, units)
    expected = n * run_weights(runs, nuclei, weights)
    pause_s = runs[1:, 0] - runs[:-1, 1]
    bounds = None
    if words:
        index, times = anchors([u.text for u in units], words)
        # an anchor the nuclei place further off than a pause's candidate band is a chance match
        knots_t = runs.ravel()
        knots_u = np.repeat(np.concatenate([[0.0], np.cumsum(expected)]), 2)[1:-1]
        guess = np.interp(times, knots_t, knots_u)
        keep = np.abs(index - guess) <= BAND_MIN + BAND_SQRT * np.sqrt(np.maximum(np.minimum(guess, n - guess), 0.0))
        index, times = index[keep], times[keep]
        if len(index):
            bounds = anchor_bounds(np.stack([runs[:-1, 1], runs[1:, 0]], axis=1), n, index, times)
    pause_at = place_pauses(kinds, expected, pause_s, bounds=bounds)
    counts = np.diff(np.concatenate([[0], pause_at, [n]])).astype(int)
    start, end = char_times(runs, nuclei, counts)
    return Alignment(
        method="runs+nuclei+asr" if bounds is not None else "runs+nuclei",
        script=script,
        chars=tuple(u.text for u in units),
        index=np.array([u.index for u in units], dtype=int),
        start_s=start,
        end_s=end,
        kinds=kinds,
        pause_at=pause_at,
        run_chars=counts,
    )
