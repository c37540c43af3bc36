"""Pauses and where they fall: at a sentence end, a clause break, or in mid-phrase.

With a script, the :class:`~speechcoach.analysis.alignment.Alignment` says after which character each
pause fell, and the punctuation there decides its placement (:func:`place_with_script`). The
script also tells where pauses were expected but none came: sentence ends
(:func:`missed_breaks`) and the joins between the steps of a procedure (:func:`procedure_steps`,
:func:`missed_steps`).

Without a script (:func:`place_acoustic`), in precise mode the recogniser's words place a pause
(:func:`transcript_placement`): its punctuation where it wrote some, ``unknown`` after a word that
binds to the next one (在, 把, 和 …), else a break (``clause``). From the sound alone, falling
pitch with a lengthened last syllable before a pause marks a sentence end and the rest stay
``unknown``. Nothing without a script says ``mid_phrase`` (the report's "possible hesitation"):
no guess reached a precision of 0.8 on the benchmark passages, tuning and held-out corpora
together (``benchmarks/PLACEMENT_RESULTS.md``, ``docs/pauses.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .alignment import CLAUSE, SENTENCE, Alignment
from ..characters import CLAUSE_BREAK, SENTENCE_END, spoken_units
from .features import lag_bias
from .metrics import shown_s
from ..precise.transcript import Word

PLACEMENTS = ("sentence", "clause", "mid_phrase", "unknown")

PAUSE_MARK = "⏸"
MISSED_MARK = "⏸✗"
"""Marks in contexts: a pause (followed by its length) and a missing pause."""

CONTEXT_BEFORE = 8
CONTEXT_AFTER = 6
"""Characters of script shown before and after a pause in its context."""

# --- acoustic placement ---------------------------------------------------------------------
PITCH_WINDOW_S = 0.30
"""Pitch is estimated only over this much speech before each pause."""
PITCH_FRAME_S = 0.040
PITCH_HOP_S = 0.010
F0_RANGE_HZ = (70.0, 400.0)
PITCH_MAX_SR = 8000
"""Frames are averaged down to at most this rate (Hz) before the autocorrelation."""
OCTAVE_RATIO = 0.85
"""A shorter lag wins when its autocorrelation peak reaches this share of the highest one."""
VOICED_CORR = 0.5
"""Normalised autocorrelation above which a frame counts as voiced."""
FALL_SEMITONES = 1.5
"""A fall at least this large across the window (or a final pitch this far below the speaker's
usual pre-pause level) counts as falling pitch."""
STRONG_FALL_SEMITONES = 3.0
"""A fall this large that also ends low in the speaker's range needs no lengthening."""
LENGTHENED = 1.25
"""The last syllable is lengthened when it lasts this many times the speaker's typical syllable."""
SHORT_RUN_S = 0.6
"""A sentence end needs at least this much speech before its pause (seconds)."""
BINDS_FORWARD = frozenset("在把被和与跟给从向比为将让及或是就都也很最更还又不没")
"""Characters that bind to what follows them (prepositions, conjunctions, the copula, adverbs
and negations): a pause right after one is no clean break, and is left ``unknown``. 的 and 对
are left out: spoken sentences end in them (…的。, 对不对). Taken as "mid-phrase", the rule was
right 11 times of 12 on the tuning passages' transcripts (whisper-base, noise and zero gaps)
but 0 of 2 on the held-out ones: 11 of 14 (0.79) together, under the 0.8 a guess shown to a
trainee needs (``docs/pauses.md``)."""
ASR_END_TOLERANCE_S = 0.25
"""A pause starting this close after a transcript's sentence end is placed ``sentence``."""


@dataclass(frozen=True)
class Pause:
    """A silence inside the speech span.

    Attributes
    ----------
    start_s, end_s : float
        Edges in seconds.
    placement : str
        One of :data:`PLACEMENTS`.
    char_index : int or None
        Index in the script of the last character before the pause, when a script was aligned.
    context : str or None
        A few characters either side, e.g. ``…办理退休认证 ⏸0.8s 需要带…``.
    """

    start_s: float
    end_s: float
    placement: str = "unknown"
    char_index: int | None = None
    context: str | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Gap:
    """A place in the script where a pause was expected and none came.

    Attributes
    ----------
    kind : str
        ``"sentence"`` (a sentence end) or ``"step"`` (between two steps of a procedure).
    boundary : int
        Spoken units before it.
    char_index : int
        Script index of the last character before it.
    time_s : float
        When the speaker went past it (end of that character).
    context : str
        The script around it, e.g. ``…已经开始了。 ⏸✗ 调整后的…``.
    """

    kind: str
    boundary: int
    char_index: int
    time_s: float
    context: str


def judged_mid_phrase(placements: Iterable[str | None], method: str) -> int:
    """How many pauses the mid-phrase rule (``check``) and the score count, given each pause's
    placement and how the pauses were placed (``method``): none when they were placed from the
    sound alone (``"acoustic"``), where a mid-phrase pause is only a guess."""
    return 0 if method == "acoustic" else sum(p == "mid_phrase" for p in placements)


def fmt_pause(duration_s: float) -> str:
    """The mark of a pause in a script, e.g. ``⏸0.8s``: its length as every report shows it
    (:func:`speechcoach.analysis.metrics.shown_s`)."""
    return f"{PAUSE_MARK}{shown_s(duration_s):.1f}s"


def context(text: str, split: int, mark: str) -> str:
    """A few characters of ``text`` either side of position ``split`` with ``mark`` between.

    Parameters
    ----------
    text : str
        The script.
    split : int
        Position where the mark goes (the text before it keeps its punctuation).
    mark : str
        E.g. ``⏸0.8s``.

    Returns
    -------
    str
        ``…办理退休认证 ⏸0.8s 需要带…`` (ellipses only where text was cut off).
    """
    flat = text.replace("\r", "").replace("\n", " ")
    lo = max(0, split - CONTEXT_BEFORE)
    hi = min(len(flat), split + CONTEXT_AFTER)
    left = ("…" if lo > 0 else "") + flat[lo:split].strip()
    right = flat[split:hi].strip() + ("…" if hi < len(flat) else "")
    return f"{left} {mark} {right}".strip()


def place_with_script(pauses: np.ndarray, al: Alignment) -> tuple[Pause, ...]:
    """Place pauses by the script position the alignment gives them.

    Parameters
    ----------
    pauses : np.ndarray, shape (p, 2)
        ``[start_s, end_s]`` of each pause, in time order (the gaps between the aligned runs).
    al : Alignment
        From :func:`speechcoach.analysis.alignment.align` on the same runs.

    Returns
    -------
    tuple of Pause
        A pause before the first character (a stray noise run) is ``unknown`` with no
        ``char_index``; a pause after the last one is ``sentence``.
    """
    out = []
    for (a, b), at in zip(pauses, al.pause_at):
        at = int(at)
        kind = int(al.kinds[at])
        if at == 0:
            placement = "unknown"
        elif kind == SENTENCE:
            placement = "sentence"
        elif kind == CLAUSE:
            placement = "clause"
        else:
            placement = "mid_phrase"
        ctx = context(al.script, al.split_pos(at), fmt_pause(float(b - a)))
        out.append(Pause(float(a), float(b), placement, al.char_index(at), ctx))
    return tuple(out)


def missed_breaks(al: Alignment) -> tuple[Gap, ...]:
    """Sentence ends inside the script that no pause fell at."""
    n = al.n
    ends = np.flatnonzero(al.kinds[1:n] == SENTENCE) + 1
    missing = np.setdiff1d(ends, al.pause_at)
    return tuple(_gap(al, int(b), "sentence") for b in missing)


def _gap(al: Alignment, b: int, kind: str) -> Gap:
    return Gap(
        kind=kind,
        boundary=b,
        char_index=int(al.index[b - 1]),
        time_s=float(al.end_s[b - 1]),
        context=context(al.script, al.split_pos(b), MISSED_MARK),
    )


# --- procedures -----------------------------------------------------------------------------
_CN_NUM = {c: i for i, c in enumerate("零一二三四五六七八九十")}
_ORDINAL = re.compile(r"第([一二三四五六七八九十]{1,3})(?=[步条点项个，,、：:\s]|[\u4e00-\u9fff])")
_SEQ_OPEN = ("首先",)
_SEQ_NEXT = ("其次", "然后", "接着", "随后", "再次", "之后", "最后")
_SEQ = re.compile("|".join(_SEQ_OPEN + _SEQ_NEXT))
_DIGIT_ITEM = re.compile(r"(?:(?<=^)|(?<=[\s。；;：:，,！？!?]))[（(]?([1-9])(?:[\.．、）)])(?!\d)")
_CIRCLED = re.compile(r"[①②③④⑤⑥⑦⑧⑨]")
STEP_MAX_GAP = 80
"""Consecutive step markers more than this many script characters apart start a new procedure."""


def _cn_value(s: str) -> int:
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN_NUM.get(s[1:], 0)
    if len(s) == 2 and s[1] == "十":
        return _CN_NUM[s[0]] * 10
    if len(s) == 3 and s[1] == "十":
        return _CN_NUM[s[0]] * 10 + _CN_NUM[s[2]]
    return _CN_NUM.get(s, 0)


def _numbered_runs(items: list[tuple[int, int]]) -> list[list[int]]:
    """Positions of marker sequences numbered 1, 2, 3… (each ≥ 2 long)."""
    out: list[list[int]] = []
    cur: list[int] = []
    expect = 1
    last_pos = -(10**9)
    for pos, val in items:
        if cur and val == expect and pos - last_pos <= STEP_MAX_GAP:
            cur.append(pos)
            expect += 1
        else:
            if len(cur) >= 2:
                out.append(cur)
            cur, expect = ([pos], 2) if val == 1 else ([], 1)
        last_pos = pos
    if len(cur) >= 2:
        out.append(cur)
    return out


def procedure_steps(text: str) -> list[list[int]]:
    """Stretches of a script that walk through steps.

    Recognised: ordinals (第一/第二/第三…, 第一步…), sequence words (首先 … 然后/接着/其次 …
    最后), numbered items (``1.`` ``2、`` ``（1）`` ``①``) and sentences whose items are
    separated by ；.

    Parameters
    ----------
    text : str
        The script.

    Returns
    -------
    list of list of int
        For each procedure, the script positions where its steps begin, in order (≥ 2 each).
        Procedures found by different cues may overlap; callers merge them by position.
    """
    found: list[list[int]] = []
    found += _numbered_runs([(m.start(), _cn_value(m.group(1))) for m in _ORDINAL.finditer(text)])
    found += _numbered_runs([(m.start(), int(m.group(1))) for m in _DIGIT_ITEM.finditer(text)])
    found += _numbered_runs([(m.start(), "①②③④⑤⑥⑦⑧⑨".index(m.group()) + 1) for m in _CIRCLED.finditer(text)])
    cur: list[int] = []
    last = -(10**9)
    for m in _SEQ.finditer(text):
        word = m.group()
        if word in _SEQ_OPEN:
            if len(cur) >= 2:
                found.append(cur)
            cur = [m.start()]
        elif cur and m.start() - last <= STEP_MAX_GAP:
            cur.append(m.start())
        else:
            if len(cur) >= 2:
                found.append(cur)
            cur = []
        last = m.start()
        if word == "最后" and cur:
            if len(cur) >= 2:
                found.append(cur)
            cur = []
    if len(cur) >= 2:
        found.append(cur)
    # ；-separated items within one sentence
    start = 0
    for m in re.finditer(r"[。？！?!…\n]|$", text):
        sent = text[start : m.start()]
        if "；" in sent or ";" in sent:
            items = [start]
            items += [start + k + 1 for k, ch in enumerate(sent) if ch in "；;"]
            # an introduction before a colon is not a step: start the list after it
            colon = max(sent.rfind("："), sent.rfind(":"))
            if colon >= 0 and start + colon < items[1]:
                items[0] = start + colon + 1
            found.append(items)
        start = m.end()
    return found


def step_boundaries(text: str, al: Alignment) -> list[int]:
    """Alignment boundaries where a new step of a procedure begins (first steps excluded)."""
    starts = np.asarray(al.index)
    bs: set[int] = set()
    for proc in procedure_steps(text):
        for pos in proc[1:]:
            b = int(np.searchsorted(starts, pos, side="left"))
            if 0 < b < al.n:
                bs.add(b)
    return sorted(bs)


def missed_steps(al: Alignment) -> tuple[Gap, ...]:
    """Joins between steps of a procedure that no pause fell at."""
    paused = set(int(b) for b in al.pause_at)
    return tuple(_gap(al, b, "step") for b in step_boundaries(al.script, al) if b not in paused)


# --- without a script -------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _window(w: int) -> tuple[np.ndarray, np.ndarray]:
    """A Hann window of ``w`` samples and its normalised autocorrelation (the lag bias)."""
    win = np.hanning(w)
    return win, np.maximum(lag_bias(win, 1 << int(np.ceil(np.log2(2 * w)))), 1e-3)


def pitch_track(y: np.ndarray, sr: int) -> np.ndarray:
    """F0 in Hz of short frames of ``y`` by normalised autocorrelation, NaN where unvoiced.

    Meant for a few hundred milliseconds of signal (it is not a pitch tracker for a whole
    recording): frames of :data:`PITCH_FRAME_S` every :data:`PITCH_HOP_S`.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    sr : int

    Returns
    -------
    np.ndarray, shape (m,)
    """
    w = int(PITCH_FRAME_S * sr)
    h = int(PITCH_HOP_S * sr)
    if len(y) < w:
        return np.zeros(0)
    m = 1 + (len(y) - w) // h
    return _frames_f0(y, sr, h * np.arange(m), np.zeros(m, dtype=int))


def _frames_f0(y: np.ndarray, sr: int, starts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """F0 (NaN where unvoiced) of frames of ``y`` starting at sample ``starts``, shape (N,).

    A frame is voiced when its normalised autocorrelation peak exceeds :data:`VOICED_CORR`
    and its energy is within 20 dB of the loudest frame of its ``group`` (one group per
    stretch of speech analysed). Frames are analysed :data:`_F0_BLOCK` at a time, so memory
    does not grow with the recording (all at once, a 2-hour one took 1.4 GB).
    """
    n_frames = len(starts)
    if n_frames == 0:
        return np.zeros(0)
    f0, corr, energy = np.empty(n_frames), np.empty(n_frames), np.empty(n_frames)
    for i in range(0, n_frames, _F0_BLOCK):
        block = slice(i, i + _F0_BLOCK)
        f0[block], corr[block], energy[block] = _block_f0(y, sr, starts[block])
    loudest = np.zeros(int(group.max()) + 1)
    np.maximum.at(loudest, group, energy)
    loud = energy > 0.01 * loudest[group]
    return np.where((corr > VOICED_CORR) & loud, f0, np.nan)


_F0_BLOCK = 2048
"""Frames of :func:`_frames_f0` analysed at once."""


def _block_f0(y: np.ndarray, sr: int, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F0 candidate (Hz), normalised autocorrelation peak and mean power of frames at ``starts``."""
    w = int(PITCH_FRAME_S * sr)
    n_frames = len(starts)
    x = y[starts[:, None] + np.arange(w)[None, :]].astype(np.float64)
    while sr > PITCH_MAX_SR and w % 2 == 0:  # halve the rate (pair averages): pitch needs little bandwidth
        x = 0.5 * (x[:, 0::2] + x[:, 1::2])
        sr //= 2
        w //= 2
    win, win_ac = _window(w)
    x = (x - x.mean(axis=1, keepdims=True)) * win[None, :]
    nfft = 1 << int(np.ceil(np.log2(2 * w)))
    ac = np.fft.irfft(np.abs(np.fft.rfft(x, nfft, axis=1)) ** 2, nfft, axis=1)[:, :w]
    ac = ac / win_ac[None, :]
    lo = max(1, int(sr / F0_RANGE_HZ[1]))
    hi = min(w - 1, int(sr / F0_RANGE_HZ[0]))
    seg = ac[:, lo:hi]
    rows = np.arange(n_frames)
    # the shortest lag whose peak comes close to the best one (avoids period doubling)
    best = np.max(seg, axis=1, keepdims=True)
    is_peak = np.zeros_like(seg, dtype=bool)
    is_peak[:, 1:-1] = (seg[:, 1:-1] >= seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
    good = is_peak & (seg >= OCTAVE_RATIO * best)
    lag = np.where(good.any(axis=1), np.argmax(good, axis=1), np.argmax(seg, axis=1))
    peak = seg[rows, lag]
    corr = peak / np.maximum(ac[:, 0], 1e-12)
    # parabolic refinement of the lag
    k = lag + lo
    left = ac[rows, np.clip(k - 1, 0, w - 1)]
    right = ac[rows, np.clip(k + 1, 0, w - 1)]
    denom = left - 2 * peak + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    f0 = sr / (k + np.clip(shift, -0.5, 0.5))
    return f0, corr, np.mean(x**2, axis=1)


@dataclass(frozen=True)
class PauseCues:
    """What the sound says about the speech just before one pause.

    Attributes
    ----------
    fall_st : float
        Pitch change across the last voiced stretch before the pause, in semitones
        (negative = falling); NaN when too little of it is voiced.
    final_st : float
        Last pitch before the pause relative to the median of all pre-pause pitches
        (semitones); NaN when unvoiced.
    final_ratio : float
        Duration of the last syllable over the speaker's typical syllable duration.
    run_s : float
        Length of the speech run before the pause.
    run_nuclei : int
        Syllable nuclei in that run.
    """

    fall_st: float
    final_st: float
    final_ratio: float
    run_s: float
    run_nuclei: int


def pause_cues(y: np.ndarray, sr: int, runs: np.ndarray, nuclei: np.ndarray) -> list[PauseCues]:
    """Acoustic cues for each pause (each gap between consecutive runs).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        The signal.
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs; pause ``j`` follows run ``j``.
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times.

    Returns
    -------
    list of PauseCues, length k - 1
    """
    t = np.sort(np.asarray(nuclei, dtype=float))
    spacing = np.diff(t)
    # typical syllable duration: median nucleus spacing within runs (not across pauses)
    run_of = np.searchsorted(runs[:, 0], t, side="right") - 1
    same = spacing[run_of[1:] == run_of[:-1]] if len(t) > 1 else np.zeros(0)
    typical = float(np.median(same)) if len(same) >= 3 else 0.2
    finals: list[float] = []
    falls: list[float] = []
    rows: list[tuple[float, int, float]] = []
    # every pause's window analysed in one batch of frames
    w, h = int(PITCH_FRAME_S * sr), int(PITCH_HOP_S * sr)
    ends = (runs[:-1, 1] * sr).astype(int).clip(0, len(y))
    los = (np.maximum(runs[:-1, 0], runs[:-1, 1] - PITCH_WINDOW_S) * sr).astype(int).clip(0, len(y))
    counts = np.where(ends - los >= w, 1 + (ends - los - w) // h, 0)
    group = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    f0_all = _frames_f0(y, sr, los[group] + h * offset, group) if len(group) else np.zeros(0)
    f0_per = np.split(f0_all, np.cumsum(counts)[:-1]) if len(counts) else []
    for j in range(len(runs) - 1):
        s, e = float(runs[j, 0]), float(runs[j, 1])
        f0 = f0_per[j]
        st = 12 * np.log2(f0[np.isfinite(f0)] / 100.0) if f0.size else np.zeros(0)
        if len(st) >= 4:
            half = len(st) // 2
            falls.append(float(np.median(st[half:]) - np.median(st[:half])))
            finals.append(float(np.median(st[-3:])))
        else:
            falls.append(np.nan)
            finals.append(np.nan)
        tn = t[np.searchsorted(t, s, side="left") : np.searchsorted(t, e, side="right")]
        if len(tn) >= 2:
            last = e - (tn[-1] + tn[-2]) / 2
        elif len(tn) == 1:
            last = e - max(s, tn[0] - typical / 2)
        else:
            last = e - s
        rows.append((e - s, len(tn), last / typical))
    fin = np.asarray(finals)
    ref = float(np.nanmedian(fin)) if np.any(np.isfinite(fin)) else np.nan
    return [
        PauseCues(fall_st=falls[j], final_st=finals[j] - ref, final_ratio=r, run_s=d, run_nuclei=nn)
        for j, (d, nn, r) in enumerate(rows)
    ]


def acoustic_placement(c: PauseCues) -> str:
    """``sentence`` or ``unknown`` from one pause's cues (module docstring)."""
    fall = c.fall_st if np.isfinite(c.fall_st) else 0.0
    low = np.isfinite(c.final_st) and c.final_st <= -FALL_SEMITONES
    if c.run_s >= SHORT_RUN_S and (
        (fall <= -FALL_SEMITONES and c.final_ratio >= LENGTHENED)
        or (fall <= -STRONG_FALL_SEMITONES and low and c.final_ratio >= 1.0)
    ):
        return "sentence"
    return "unknown"


def transcript_placement(start_s: float, end_s: float, words: Sequence[Word]) -> str | None:
    """Where a pause falls by the recogniser's words either side of it, or None when it has no
    word on one side.

    The words are split at the pause's middle (by their own middles). The last word before it
    decides: its punctuation (``sentence`` for 。？！…, ``clause`` for ，、；：), ``unknown`` when it
    ends in a character of :data:`BINDS_FORWARD` (the phrase may go on), else ``clause``: a word
    boundary the recogniser heard, with nothing to say the phrase goes on.

    Parameters
    ----------
    start_s, end_s : float
        The pause.
    words : sequence of Word
        The trusted transcript's words, in time order.
    """
    mid = (start_s + end_s) / 2
    before = [w for w in words if (w.start_s + w.end_s) / 2 <= mid and w.text.strip()]
    if not before or not any((w.start_s + w.end_s) / 2 > mid and w.text.strip() for w in words):
        return None
    last = before[-1].text.strip()[-1]
    if last in SENTENCE_END or last in "?!":
        return "sentence"
    if last in CLAUSE_BREAK or last in ",;:":
        return "clause"
    return "unknown" if last in BINDS_FORWARD else "clause"


def place_acoustic(
    y: np.ndarray,
    sr: int,
    runs: np.ndarray,
    nuclei: np.ndarray,
    *,
    sentence_ends: tuple[float, ...] | None = None,
    words: Sequence[Word] | None = None,
) -> tuple[Pause, ...]:
    """Place pauses without a script: by the recogniser's words where precise mode ran, else by
    the sound before each one.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs; the pauses are the ``k - 1`` gaps between them.
    nuclei : np.ndarray, shape (m,)
    sentence_ends : tuple of float, keyword-only, optional
        Times of sentence ends from a transcript, if one is available: a pause starting within
        :data:`ASR_END_TOLERANCE_S` of one is a ``sentence``.
    words : sequence of Word, keyword-only, optional
        The trusted transcript's words (:func:`transcript_placement`); pauses with no word on
        one side are placed by the sound.

    Returns
    -------
    tuple of Pause
        Placements are ``sentence``, ``clause`` (from the words only) or ``unknown``.
    """
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    cues = pause_cues(y, sr, runs, nuclei)
    ends = np.asarray(sentence_ends or (), dtype=float)
    out = []
    for j, c in enumerate(cues):
        a, b = float(runs[j, 1]), float(runs[j + 1, 0])
        place = transcript_placement(a, b, words) if words else None
        if place is None:
            place = acoustic_placement(c)
        if ends.size and np.min(np.abs(ends - a)) <= ASR_END_TOLERANCE_S:
            place = "sentence"
        out.append(Pause(a, b, place))
    return tuple(out)


# --- the script with its pauses ---------------------------------------------------------------
def mark_script(
    script: str,
    pauses: list[tuple[int | None, float, str]],
    missed: list[int],
    missed_label: str,
) -> str:
    """The script with each pause's mark inserted where it fell.

    Parameters
    ----------
    script : str
    pauses : list of (char_index, duration_s, placement)
        ``char_index`` is the script index of the last character before the pause (None:
        before the first character).
    missed : list of int
        Script indices of the last character before each missed sentence break.
    missed_label : str
        Shown for a missed break, e.g. ``漏停`` → ``[漏停]``.

    Returns
    -------
    str
        E.g. ``您好，⏸0.4s 退休认证…``; a mid-phrase pause is ``‖⏸0.4s‖``.
    """
    units = spoken_units(script)
    starts = [u.index for u in units]
    inserts: dict[int, list[str]] = {}

    def split_after(ci: int | None) -> int:
        if ci is None:
            return starts[0] if starts else 0
        k = int(np.searchsorted(starts, ci, side="right"))
        pos = starts[k] if k < len(starts) else len(script.rstrip())
        while pos > 0 and script[pos - 1].isspace():
            pos -= 1
        return pos

    for ci, dur, place in pauses:
        mark = fmt_pause(dur)
        if place == "mid_phrase":
            mark = f"‖{mark}‖"
        inserts.setdefault(split_after(ci), []).append(mark)
    for ci in missed:
        inserts.setdefault(split_after(ci), []).append(f"[{missed_label}]")
    out = []
    prev = 0
    for pos in sorted(inserts):
        out.append(script[prev:pos])
        out.append("".join(inserts[pos]))
        prev = pos
    out.append(script[prev:])
    return "".join(out).rstrip()


# --- the whole step, for the pipeline -----------------------------------------------------------
@dataclass(frozen=True)
class Placed:
    """Pause placement for one recording.

    Attributes
    ----------
    method : str
        ``"script"`` (aligned to a script) or ``"acoustic"`` (from the sound alone).
    pauses : tuple of Pause
        Every pause with its placement (and, with a script, ``char_index`` and ``context``).
    alignment : Alignment or None
        The script placed in time, with the missed breaks and steps; None without a script.
    missed_breaks, missed_steps : tuple of Gap
        Sentence ends, and joins between procedure steps, that no pause fell at.
    run_chars : np.ndarray or None, shape (k,)
        Characters in each speech run from the alignment; None without a script.
    """

    method: str
    pauses: tuple[Pause, ...]
    alignment: Alignment | None = None
    missed_breaks: tuple[Gap, ...] = ()
    missed_steps: tuple[Gap, ...] = ()
    run_chars: np.ndarray | None = None


def place(
    y: np.ndarray,
    sr: int,
    runs: np.ndarray,
    nuclei: np.ndarray,
    script: str | None,
    *,
    sentence_ends: tuple[float, ...] | None = None,
    weights: np.ndarray | None = None,
    words: Sequence[Word] | None = None,
) -> Placed:
    """Place every pause of a recording: by the script when there is one, else by the sound.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        The signal (used only without a script, a few hundred ms before each pause).
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs; the pauses are the ``k - 1`` gaps between them.
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times.
    script : str or None
    sentence_ends : tuple of float, keyword-only, optional
        Sentence-end times from a transcript, used without a script.
    weights : np.ndarray, shape (m,), keyword-only, optional
        Characters each nucleus stands for (:func:`speechcoach.analysis.syllables.nucleus_weights`),
        for the alignment's expected counts.
    words : sequence of Word, keyword-only, optional
        Precise mode's trusted words: with a script they anchor the alignment
        (:func:`speechcoach.analysis.alignment.anchors`), without one they place the pauses
        (:func:`transcript_placement`).

    Returns
    -------
    Placed
    """
    from dataclasses import replace

    from .alignment import align

    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    gaps = np.stack([runs[:-1, 1], runs[1:, 0]], axis=1) if len(runs) > 1 else np.zeros((0, 2))
    if script is None or not spoken_units(script):
        return Placed("acoustic", place_acoustic(y, sr, runs, nuclei, sentence_ends=sentence_ends, words=words))
    al = align(script, runs, nuclei, weights=weights, words=words)
    breaks = missed_breaks(al)
    steps = missed_steps(al)
    al = replace(al, missed_breaks=tuple(g.boundary for g in breaks), missed_steps=tuple(g.boundary for g in steps))
    return Placed("script", place_with_script(gaps, al), al, breaks, steps, al.run_chars)
