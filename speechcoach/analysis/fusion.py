"""The recogniser's count checked against the sound, and what is read from a trusted transcript.

Precise mode (:mod:`speechcoach.precise`) writes what it heard; this module decides how far to
believe it. The transcript's spoken characters are counted per speech run and compared with the
syllable nuclei of the same run (:func:`fuse_counts`): where the two disagree strongly in a run
of at least :data:`CHECK_MIN_RUN_S`, the run is counted from the sound instead and the report
says so. :func:`trusted` leaves those stretches out of the transcript shown and used;
:func:`compare_to_script` finds passages left out or added; :func:`analyse` runs it all,
vocal hesitations and filler words included.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..characters import count_spoken, spoken_units
from ..precise.asr import NUCLEUS_TOL_S, RUN_PAD_S, transcribe
from ..precise.transcript import Segment, Transcript, Word
from ..precise import fillers as fillers_mod
from ..precise import jargon as jargon_mod
from .hesitations import vocal_hesitations
from .syllables import nearest_run, nucleus_weights

if TYPE_CHECKING:
    from ..precise.cache import TranscriptCache


CHECK_MIN_RUN_S = 2.0
"""Runs at least this long (s) have their recogniser count checked against the nuclei."""


DROP_RATIO = 0.6
"""A run where the recogniser hears fewer than this fraction of the nuclei lost a stretch."""


HALLUCINATION_RATIO = 1.8
"""A run where the recogniser hears more than this multiple of the nuclei invented text."""


LOGPROB_MIN = -1.0
"""A stretch whose words the recogniser wrote with a mean log-probability per word below this, or
whose decoding pass averaged below it per token, is unsure (flag ``"unsure"``). Whisper's own
threshold (``logprob_threshold``, -1.0), by which it judges a decoding pass failed; not tuned
here. On the real-speech corpus Whisper base writes many homophones (宝马 as 保码) at -0.3 to
-0.9 per word while its count stays right; a child's accented poem it misheard came out at -1.0
(benchmarks/ASR_RESULTS.md)."""

COMPRESSION_MAX = 2.4
"""A decoding pass whose text gzip-compresses by more than this ratio repeats itself; its
stretches are ``"repetitive"``. Whisper's own threshold (``compression_ratio_threshold``)."""

JUDGED_MIN_UNITS = 3
"""A stretch is judged by the recogniser's confidence only when it wrote at least this many
characters there: the mean of one or two words' probabilities says little."""

_REPEAT_RE = re.compile(r"(.)\1{4,}|(.{2,}?)\2{3,}")
"""Repeated n-grams in a stretch's text: one character five times in a row (啊啊啊啊啊), or a
phrase of two or more four times (天灯天灯天灯天灯): what a decoder stuck in a loop writes. People
repeat too, so fewer do not count: 对对对对 and 这个这个这个 are in the corpora's human
transcripts and Whisper's output of correctly counted clips (`mossttsd_single_reference`,
`cosyvoice_pr1212_laoxu`)."""

SKIP_SPEECH_S = 0.3
"""A place holding this much speech (s of speech runs) held something said: a syllable and more at
a moderate pace (120 characters a minute is 0.5 s a character with its share of pauses)."""

WORD_TIME_TOL_S = 0.2
"""How far Whisper's word times (from its attention) may be off at a word's edge (s): half of
:data:`speechcoach.precise.asr.NUCLEUS_TOL_S`."""

MIN_SKIP_SPAN_S = 0.1
"""A skip's place shorter than this (s) is shown as the words around it (:func:`_skip_span`)."""

MIN_PASSAGE_UNITS = 4
"""Skipped or added passages shorter than this (characters) are not reported: a passage is at
least a short phrase. Whisper base leaves out or adds words of two or three characters in correct
readings (明白, 什么的 in the fast dialogue `mossttsd_single_reference`), where the word times of
its neighbours spread over the gap so that the sound cannot tell either (2 until the check of
every correct reading of both corpora, benchmarks/ASR_RESULTS.md)."""


WITHHOLD_SHARE = 0.5
"""When the count check overrules the recogniser (``dropped`` or ``invented``) in this share of
the speech time or more, nothing it wrote is used: no transcript text, no lexical fillers, no
jargon heard, no passages left out or added (:func:`trusted`); the report says so instead."""


SKIP_SPOKEN_SHARE = 0.5
"""A passage of the script that the transcript lacks is reported as left out only when the sound
agrees: the syllable nuclei in its place (between the recognised words around it, beyond the
recognised characters in between) are fewer than this share of its characters. More means
something was said there that the recogniser did not write as the script: a recognition failure
(synthetic or unusual voices), not a skip."""


@dataclass(frozen=True)
class RunCount:
    """Characters in one speech run by each method.

    Attributes
    ----------
    start_s, end_s : float
    asr : int
        Spoken characters of the words the recogniser placed in this run.
    acoustic : int
        Syllable nuclei detected in this run.
    fused : int
        The figure used: ``asr`` unless flagged, then the acoustic estimate: the run's nuclei,
        each weighing the characters it stands for at its local rate
        (:func:`speechcoach.analysis.syllables.nucleus_weights`, as in the no-script count).
    flag : str or None
        Why the recogniser was overruled here: ``"dropped"`` (its count far below the nuclei),
        ``"invented"`` (far above, or a decoding loop), ``"unsure"`` (its own confidence low:
        :data:`LOGPROB_MIN`) or ``"repetitive"`` (repeated n-grams,
        :data:`COMPRESSION_MAX`); None where its count and text are used.
    """

    start_s: float
    end_s: float
    asr: int
    acoustic: int
    fused: int
    flag: str | None = None


@dataclass(frozen=True)
class FusedCount:
    """The recogniser's character count checked run by run against the sound.

    Attributes
    ----------
    asr : int
        Spoken characters of the whole transcript.
    fused : int
        Sum of the runs' fused figures (the count reported).
    runs : tuple of RunCount
    """

    asr: int
    fused: int
    runs: tuple[RunCount, ...]

    @property
    def flagged(self) -> tuple[RunCount, ...]:
        """Runs where the recogniser was overruled."""
        return tuple(r for r in self.runs if r.flag is not None)

    @property
    def flagged_share(self) -> float:
        """Share of the runs' time (0–1) where the recogniser was overruled."""
        total = sum(r.end_s - r.start_s for r in self.runs)
        return sum(r.end_s - r.start_s for r in self.flagged) / total if total > 0 else 0.0

    def overruled_at(self, times: np.ndarray) -> np.ndarray:
        """Whether each time (s) belongs to an overruled run (its nearest run, as in
        :func:`fuse_counts`), shape (n,) of bool."""
        t = np.asarray(times, dtype=float).reshape(-1)
        if not self.flagged or t.size == 0:
            return np.zeros(t.size, dtype=bool)
        runs = np.array([[r.start_s, r.end_s] for r in self.runs])
        bad = np.array([r.flag is not None for r in self.runs])
        return bad[nearest_run(t, runs)]

    def events(self, nuclei: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The fused count placed in time: each run's characters spread evenly over the nuclei
        that belong to it (as in :func:`fuse_counts`), or set at its middle when it has none.

        Returns
        -------
        times, weights : np.ndarray, shape (e,)
            Event times (s) and the characters each stands for (summing to :attr:`fused`).
        """
        if not self.runs:
            return np.zeros(0), np.zeros(0)
        runs = np.array([[r.start_s, r.end_s] for r in self.runs])
        fused = np.array([r.fused for r in self.runs], dtype=float)
        t = np.sort(np.asarray(nuclei, dtype=float))
        cells = nearest_run(t, runs)
        per_run = np.bincount(cells, minlength=len(runs))[: len(runs)]
        alone = (per_run == 0) & (fused > 0)
        times = np.concatenate([t, runs[alone].mean(axis=1)])
        return times, np.concatenate([fused[cells] / np.maximum(per_run[cells], 1), fused[alone]])


@dataclass(frozen=True)
class Passage:
    """A stretch of the script that was left out, or of speech that the script does not have.

    Attributes
    ----------
    kind : str
        ``"skipped"`` (in the script, not heard) or ``"added"`` (heard, not in the script).
    text : str
        The characters concerned (spoken units).
    script_index : int or None
        Position in the script where it starts (skipped) or would go (added).
    start_s, end_s : float or None
        Where in the recording (s): the words heard (added), or the place between the words
        heard before and after it (skipped; widened to those words when they abut, so never a
        zero-length span). None when the transcript has no word times.
    """

    kind: str
    text: str
    script_index: int | None
    start_s: float | None
    end_s: float | None = None


def _count_in(nuclei: np.ndarray, a: float, b: float) -> int:
    return int(np.searchsorted(nuclei, b, side="right") - np.searchsorted(nuclei, a, side="left"))


def fuse_counts(transcript: Transcript, runs: np.ndarray, nuclei: np.ndarray, *,
                widths: np.ndarray | None = None) -> FusedCount:
    """Count the transcript's spoken characters per run and check each run against the nuclei.

    Three guards, each using the sound only where the recogniser is demonstrably wrong:

    1. **Silence.** A word outside the speech runs (padded by :data:`RUN_PAD_S`) with no
       syllable nucleus within :data:`NUCLEUS_TOL_S` of it is text invented in a pause or in
       noise and is not counted. Words outside the runs that do have a nucleus are kept (quiet
       or far-field speech the segmentation missed).
    2. **Loops.** A segment that :func:`~speechcoach.precise.asr.is_loop` marks counts the nuclei of its own time span
       instead of its text, each nucleus in its own run and weighted as in 3.
    3. **Dropped or invented stretches.** In a run of at least :data:`CHECK_MIN_RUN_S`, or a
       stretch of shorter consecutive runs lasting that long together (:func:`check_groups`),
       a recogniser count under :data:`DROP_RATIO` of the nuclei, or over
       :data:`HALLUCINATION_RATIO` times them, is replaced by the acoustic estimate of the run:
       its nuclei, each weighing the characters it stands for at its local rate
       (:func:`speechcoach.analysis.syllables.nucleus_weights`, as in the no-script count: the
       recogniser mostly drops fast stretches, where raw nuclei undercount).

    Every word and nucleus belongs to its nearest run (:func:`speechcoach.analysis.syllables.nearest_run`).

    Parameters
    ----------
    transcript : Transcript
        With word times (without them, only the whole-recording check applies).
    runs : np.ndarray, shape (k, 2)
        Speech runs in seconds.
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times (s) from :func:`speechcoach.analysis.syllables.detect_nuclei`.
    widths : np.ndarray, shape (m,), keyword-only, optional
        Their lobe widths (s, :attr:`speechcoach.analysis.syllables.NucleusTrack.width_s`), in the same
        order: the rate the weights are calibrated at (without them, the nucleus rate).

    Returns
    -------
    FusedCount
    """
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    nuclei = np.asarray(nuclei, dtype=float)
    order = np.argsort(nuclei, kind="stable")
    nuclei = nuclei[order]
    widths = None if widths is None else np.asarray(widths, dtype=float)[order]
    total_asr = count_spoken(transcript.raw_text if transcript.raw_text is not None else transcript.text)
    if len(runs) == 0:
        return FusedCount(asr=int(total_asr), fused=int(total_asr), runs=())
    weights = nucleus_weights(nuclei, runs, widths=widths)  # characters per nucleus at its local rate
    if not transcript.words and not any(s.loop for s in transcript.segments):  # no word times: one check over the whole recording
        weighted = np.array([weights.sum()])
        runs = np.array([[runs[0, 0], runs[-1, 1]]])
        acoustic = np.array([len(nuclei)])
        asr = np.array([total_asr])
        looped = np.zeros(1)
        bad = np.zeros(1, dtype=bool)
    else:
        cells = nearest_run(nuclei, runs)
        acoustic = np.bincount(cells, minlength=len(runs))[: len(runs)]
        weighted = np.bincount(cells, weights=weights, minlength=len(runs))[: len(runs)]
        asr = np.zeros(len(runs), dtype=int)
        looped = np.zeros(len(runs))
        bad = np.zeros(len(runs), dtype=bool)
        loops = [s for s in transcript.segments if s.loop]
        # a loop's stretch is counted from its nuclei, each in its own run (a loop can span
        # several runs; counting all its nuclei in one run while the others are checked on
        # their own counted them twice)
        in_loop = np.zeros(len(nuclei), dtype=bool)
        for s in loops:
            in_loop |= (nuclei >= s.start_s) & (nuclei <= s.end_s)
            bad[int(nearest_run(np.array([(s.start_s + s.end_s) / 2]), runs)[0])] = True
        loop_cells = cells[in_loop]
        looped += np.bincount(loop_cells, weights=weights[in_loop], minlength=len(runs))[: len(runs)]
        bad[loop_cells] = True
        for w in transcript.words:
            mid = (w.start_s + w.end_s) / 2
            if any(s.start_s <= mid <= s.end_s for s in loops):
                continue
            in_run = bool(np.any((mid >= runs[:, 0] - RUN_PAD_S) & (mid <= runs[:, 1] + RUN_PAD_S)))
            if not in_run and _count_in(nuclei, w.start_s - NUCLEUS_TOL_S, w.end_s + NUCLEUS_TOL_S) == 0:
                continue
            asr[int(nearest_run(np.array([mid]), runs)[0])] += count_spoken(w.text)
    flags = _group_flags(runs, asr, acoustic, bad)
    if transcript.words:
        flags = _judged(flags, runs, transcript)
    out = []
    for (a, b), n_asr, n_loop, n_ac, n_w, is_bad, flag in zip(runs, asr, looped, acoustic, weighted, bad, flags):
        fused = n_asr + round(n_loop) if (is_bad or flag is None) else round(n_w)
        out.append(RunCount(float(a), float(b), int(n_asr), int(n_ac), int(fused), flag))
    return FusedCount(asr=int(total_asr), fused=int(sum(r.fused for r in out)), runs=tuple(out))


def trusted(transcript: Transcript, counted: FusedCount) -> Transcript:
    """The transcript with what the count check overruled taken out: what is shown and used.

    Words whose run (:meth:`FusedCount.overruled_at`) the check flagged (``dropped``,
    ``invented``, ``unsure`` or ``repetitive``) are dropped, as the words of a decoding loop are; a segment reaching into such
    a run keeps its other words, and the run is listed as a rejected stretch (``…`` in the
    text where it was). When :data:`WITHHOLD_SHARE` or more of the speech was overruled,
    nothing is kept (``withheld``): a transcript mostly wrong is wrong in the rest too.

    Parameters
    ----------
    transcript : Transcript
        As :func:`transcribe` made it.
    counted : FusedCount
        Its check against the sound (:func:`fuse_counts`).

    Returns
    -------
    Transcript
        ``transcript`` itself when nothing was overruled.
    """
    flagged = counted.flagged
    if not flagged:
        return transcript
    marks = tuple(Segment(r.start_s, r.end_s, "", True) for r in flagged)
    if counted.flagged_share >= WITHHOLD_SHARE:
        rejected = tuple(sorted([*(Segment(s.start_s, s.end_s, s.text, True) for s in transcript.segments), *marks], key=lambda s: s.start_s))
        return Transcript("", rejected, (), transcript.model, transcript.compute_s, transcript.raw_text, withheld=True)
    mids = np.array([(w.start_s + w.end_s) / 2 for w in transcript.words])
    out_w = counted.overruled_at(mids)
    words = tuple(w for w, bad in zip(transcript.words, out_w) if not bad)
    spans = [(r.start_s - RUN_PAD_S, r.end_s + RUN_PAD_S) for r in flagged]
    segments: list[Segment] = list(marks)
    for s in transcript.segments:
        if s.loop or not any(s.start_s < b and s.end_s > a for a, b in spans):
            segments.append(s)
            continue
        inside = [(w, bool(bad)) for w, bad, mid in zip(transcript.words, out_w, mids) if s.start_s <= mid <= s.end_s]
        segments.extend(_kept_pieces(s.text, inside))
    segments.sort(key=lambda s: (s.start_s, not s.loop))
    text, gap = "", False
    for s in segments:
        if s.loop:
            gap = True
        elif s.text:
            text += ("…" if gap else "") + s.text
            gap = False
    return Transcript(text + ("…" if gap else ""), tuple(segments), words, transcript.model, transcript.compute_s, transcript.raw_text)


def _kept_pieces(text: str, words: list[tuple[Word, bool]]) -> list[Segment]:
    """The stretches of a segment's kept words (``(word, overruled)`` in order), cut where an
    overruled word was, each with the segment's own spacing between its words."""
    pieces: list[Segment] = []
    piece: list[Word] = []
    piece_text, pos = "", 0
    for w, bad in words:
        at = text.find(w.text, pos)
        between = text[pos:at] if at >= 0 and not text[pos:at].strip() else ""
        pos = at + len(w.text) if at >= 0 else pos
        if bad:
            if piece:
                pieces.append(Segment(piece[0].start_s, piece[-1].end_s, piece_text))
            piece, piece_text = [], ""
            continue
        piece_text += (between if piece else "") + w.text
        piece.append(w)
    if piece:
        pieces.append(Segment(piece[0].start_s, piece[-1].end_s, piece_text))
    return pieces


def check_groups(runs: np.ndarray) -> np.ndarray:
    """Group index of every speech run for the drop/invention check, shape (k,).

    A run of at least :data:`CHECK_MIN_RUN_S` is a group of its own; consecutive shorter runs
    share one (a stretch of short phrases that the recogniser skipped is as telling as one
    long run it skipped).
    """
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    long = (runs[:, 1] - runs[:, 0]) >= CHECK_MIN_RUN_S
    starts = long | np.r_[True, long[:-1]]  # a long run, or the first short run after one
    return np.cumsum(starts) - 1


def _group_flags(runs: np.ndarray, asr: np.ndarray, acoustic: np.ndarray, bad: np.ndarray) -> list[str | None]:
    """Per run: ``"invented"`` for a loop's run, else the flag of its group (:func:`check_groups`)."""
    group = check_groups(runs)
    ok = ~bad
    dur = np.bincount(group, weights=(runs[:, 1] - runs[:, 0]) * ok)
    n_asr = np.bincount(group, weights=asr * ok)
    n_ac = np.bincount(group, weights=acoustic * ok)
    flags: list[str | None] = []
    for k, g in enumerate(group):
        flag = None
        if bad[k]:
            flag = "invented"
        elif dur[g] >= CHECK_MIN_RUN_S and n_ac[g] > 0:
            if n_asr[g] < DROP_RATIO * n_ac[g]:
                flag = "dropped"
            elif n_asr[g] > HALLUCINATION_RATIO * n_ac[g]:
                flag = "invented"
        flags.append(flag)
    return flags


def _judged(flags: list[str | None], runs: np.ndarray, transcript: Transcript) -> list[str | None]:
    """``flags`` with the stretches (:func:`check_groups`) the recogniser's own signals find
    unreliable flagged too: ``"repetitive"`` where its text there repeats an n-gram
    (:data:`_REPEAT_RE`) or its pass compresses past :data:`COMPRESSION_MAX`, ``"unsure"`` where
    its words' mean log-probability or its pass's is below :data:`LOGPROB_MIN`. (The pass's
    no-speech probability counts in Whisper's own rule only together with a log-probability
    under -1.0, which flags the stretch already.) A stretch flagged by the count check keeps
    that flag; a stretch of fewer than :data:`JUDGED_MIN_UNITS` characters is judged by its
    pass's signals and repeats only."""
    group = check_groups(runs)
    n_groups = int(group.max()) + 1 if len(group) else 0
    texts = [""] * n_groups
    logp: list[list[float]] = [[] for _ in range(n_groups)]
    mids = np.array([(w.start_s + w.end_s) / 2 for w in transcript.words])
    cells = group[nearest_run(mids, runs)]
    for w, g in zip(transcript.words, cells):
        texts[g] += w.text
        if w.probability is not None:
            logp[g].extend([float(np.log(max(w.probability, 1e-6)))] * max(count_spoken(w.text), 1))
    spans = [(runs[group == g, 0].min(), runs[group == g, 1].max()) for g in range(n_groups)]
    out = list(flags)
    for g in range(n_groups):
        a, b = spans[g]
        passes = [q for q in transcript.segments if not q.loop and q.start_s < b and q.end_s > a]
        pass_lp = min((q.avg_logprob for q in passes if q.avg_logprob is not None), default=0.0)
        pass_cr = max((q.compression_ratio for q in passes if q.compression_ratio is not None), default=0.0)
        units = count_spoken(texts[g])
        flag: str | None = None
        if _REPEAT_RE.search(_bare(texts[g])) or pass_cr > COMPRESSION_MAX:
            flag = "repetitive"
        elif pass_lp < LOGPROB_MIN or (units >= JUDGED_MIN_UNITS and logp[g] and float(np.mean(logp[g])) < LOGPROB_MIN):
            flag = "unsure"
        if flag is None:
            continue
        for k in np.flatnonzero(group == g):
            if out[k] is None:
                out[k] = flag
    return out


def _bare(text: str) -> str:
    """``text`` without spaces and punctuation (what the repeat check reads)."""
    return "".join(u.text for u in spoken_units(text))


def compare_to_script(
    transcript: Transcript,
    script: str,
    nuclei: np.ndarray | None = None,
    overruled: tuple[tuple[float, float], ...] = (),
    *,
    fillers: tuple[str, ...] = (),
    count: int | None = None,
    weights: np.ndarray | None = None,
    runs: np.ndarray | None = None,
) -> tuple[Passage, ...]:
    """Passages of the script that were left out, and passages said that the script lacks.

    Both texts are reduced to spoken units (digits as read, punctuation dropped), each unit to how
    it sounds (:func:`sound_keys`: toneless pinyin, the common accent mergers folded), and aligned
    unit by unit (:class:`difflib.SequenceMatcher`, no junk heuristic): Whisper base writes many
    homophones (宝马 as 保码), which are no change to the script. Only what one side has between
    two stretches the other matches counts: a run of :data:`MIN_PASSAGE_UNITS` or more script
    units that the transcript lacks there altogether is *skipped* only where
    the sound agrees that nothing was said there: the syllable nuclei at its place (between the
    words heard before and after it, beyond the units heard in between) are fewer than
    :data:`SKIP_SPOKEN_SHARE` of its units, and the place does not reach into a stretch the
    count check overruled. A run of as many heard units with no counterpart in the script is
    *added*, once filler words (``fillers``) and repetitions of the words just before are taken
    out (as repetitions in the script, 对对对对, are not a passage left out when said once). Where both sides differ (a substitution: most often the recogniser mishearing, whatever
    the lengths), nothing is reported. Pass the transcript :func:`trusted` leaves, so that what the
    recogniser was unsure of is neither quoted nor read as a skip.

    Parameters
    ----------
    transcript : Transcript
    script : str
    nuclei : np.ndarray, shape (m,), optional
        Syllable-nucleus times (s). Without them (or without word times) a skip is reported
        wherever the transcript lacks the passage.
    overruled : tuple of (float, float), optional
        Stretches (s) the count check overruled (:attr:`FusedCount.flagged`): nothing is known of
        what was said there.
    fillers : tuple of str, keyword-only
        Filler words (:func:`speechcoach.precise.fillers.rules`), never an added passage.
    weights : np.ndarray, shape (m,), keyword-only, optional
        The characters each nucleus stands for at its local rate
        (:func:`speechcoach.analysis.syllables.nucleus_weights`, in the order of ``nuclei``): the
        sound's count of a place (raw nuclei undercount fast speech, where syllables merge).
    runs : np.ndarray, shape (k, 2), keyword-only, optional
        Speech runs (s). With them, a passage is not left out where the speech runs cover
        :data:`SKIP_SPEECH_S` or more of its place (shrunk by :data:`WORD_TIME_TOL_S` at each
        end): something was said there.
    count : int, keyword-only, optional
        The characters spoken, as checked against the sound (:attr:`FusedCount.fused`). With it,
        passages left out are reported only when the count falls short of the script by at least
        :data:`SKIP_SPOKEN_SHARE` of their characters together, and passages added only when it
        exceeds the script by as much: a passage left out is missing from the count too. (When
        the text aligns badly, a matcher can pair a passage with nothing at one place while the
        speech for it sits elsewhere as substitutions; the count then matches the script.)

    Returns
    -------
    tuple of Passage
        In script order.
    """
    s_units = spoken_units(script)
    heard: list[tuple[str, float | None, float | None]] = []
    if transcript.words:
        for w in transcript.words:
            heard.extend((u.text, w.start_s, w.end_s) for u in spoken_units(w.text))
    else:
        heard = [(u.text, None, None) for u in spoken_units(transcript.text)]
    a = sound_keys([u.text for u in s_units])
    b = sound_keys([h[0] for h in heard])
    s_keyed: list[tuple[str, float | None, float | None]] = [(u.text, None, None) for u in s_units]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out: list[Passage] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        n_s, n_h = i2 - i1, j2 - j1
        if tag == "delete" and len(_content(s_keyed, i1, i2, ())) >= MIN_PASSAGE_UNITS:
            if nuclei is not None and _spoken_in_place(heard, j1, j2, nuclei, weights) >= SKIP_SPOKEN_SHARE * n_s:
                continue  # speech there that the recogniser did not write as the script: not a skip
            if overruled and _place_overlaps(heard, j1, j2, overruled):
                continue
            if runs is not None and _speech_in_place(heard, j1, j2, runs) >= SKIP_SPEECH_S:
                continue  # the speech runs say something was said there
            start, end = _skip_span(heard, j1, j2)
            out.append(Passage("skipped", _script_slice(script, s_units, i1, i2), s_units[i1].index, start, end))
        elif tag == "insert" and n_h >= MIN_PASSAGE_UNITS:
            said = _content(heard, j1, j2, fillers)
            if len(said) < MIN_PASSAGE_UNITS:
                continue  # fillers and repeated words: a disfluency, reported as such, not content
            idx = s_units[i1].index if i1 < len(s_units) else (s_units[-1].index + 1 if s_units else 0)
            out.append(Passage("added", "".join(heard[k][0] for k in said), idx, heard[said[0]][1], heard[said[-1]][2]))
    if count is not None:
        short = len(s_units) - count  # characters of the script the count lacks (negative: it has more)
        skipped = sum(len(spoken_units(p.text)) for p in out if p.kind == "skipped")
        added = sum(len(p.text) for p in out if p.kind == "added")
        out = [p for p in out if (short >= SKIP_SPOKEN_SHARE * skipped if p.kind == "skipped" else -short >= SKIP_SPOKEN_SHARE * added)]
    return tuple(out)


_FOLD = (("zh", "z"), ("ch", "c"), ("sh", "s"))
"""Initials that many speakers (and Whisper) do not tell apart: the retroflex and flat sibilants."""


def sound_keys(units: list[str]) -> list[str]:
    """How each spoken unit sounds, for matching a transcript with a script: toneless pinyin
    (``pypinyin``), with zh/ch/sh folded into z/c/s, l into n, and the finals -ng into -n: the
    mergers of many Mandarin accents, and the homophones Whisper base writes for unfamiliar words.
    A unit that is not a Chinese character (a Latin letter) is its own key, in lower case."""
    from pypinyin import Style, lazy_pinyin

    keys = []
    for unit, py in zip(units, lazy_pinyin(units, style=Style.NORMAL, errors="default")):
        if py == unit:  # not a Chinese character
            keys.append(unit.lower())
            continue
        for retro, flat in _FOLD:
            if py.startswith(retro):
                py = flat + py[len(retro) :]
                break
        if py.startswith("l"):
            py = "n" + py[1:]
        if py.endswith("ng") and py not in ("ng",):
            py = py[:-1]
        keys.append(py)
    return keys


def _content(heard: list[tuple[str, float | None, float | None]], j1: int, j2: int, fillers: tuple[str, ...]) -> list[int]:
    """Indices of the heard units ``j1..j2`` that are content: without the filler words and
    without what repeats the units just before (这个这个, 我我)."""
    units = [h[0] for h in heard]
    text = "".join(units)  # spoken units are single characters
    keep = [True] * (j2 - j1)
    for word in sorted(fillers, key=len, reverse=True):
        start = 0
        while (at := text.find(word, max(start, 0))) >= 0:
            for k in range(at, at + len(word)):
                if j1 <= k < j2:
                    keep[k - j1] = False
            start = at + 1
    for k in range(j1, j2):
        for n in (1, 2, 3, 4):  # n units that the n units before them, or after them, repeat
            if (k - n >= 0 and units[k : k + n] == units[k - n : k]) or units[k : k + n] == units[k + n : k + 2 * n]:
                for q in range(k, min(k + n, j2)):
                    keep[q - j1] = False
    return [j1 + i for i, kept in enumerate(keep) if kept]


def _speech_in_place(heard: list[tuple[str, float | None, float | None]], j1: int, j2: int, runs: np.ndarray) -> float:
    """Seconds of speech runs in the place of heard units ``j1..j2`` (:func:`_place`, bounded by the
    runs at the ends of the recording, shrunk by :data:`WORD_TIME_TOL_S` at each end); 0 when the
    heard units have no times."""
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    if not heard or heard[0][1] is None or len(runs) == 0:
        return 0.0
    a, b = _place(heard, j1, j2)
    a, b = max(a, float(runs[0, 0])) + WORD_TIME_TOL_S, min(b, float(runs[-1, 1])) - WORD_TIME_TOL_S
    return float(np.sum(np.clip(np.minimum(runs[:, 1], b) - np.maximum(runs[:, 0], a), 0.0, None)))


def _skip_span(heard: list[tuple[str, float | None, float | None]], j1: int, j2: int) -> tuple[float | None, float | None]:
    """Where a skip happened (s): from the end of the unit heard before it to the start of the one
    heard after it, or, when those abut (the speaker went straight on), from the start of the one
    before to the end of the one after; at an end of the transcript, the last (first) word heard."""
    if not heard or heard[0][1] is None:
        return None, None
    before = heard[j1 - 1] if j1 > 0 else None
    after = heard[j2] if j2 < len(heard) else None
    a = before[2] if before is not None else (after[1] if after is not None else None)
    b = after[1] if after is not None else (before[2] if before is not None else None)
    if a is None or b is None:
        return None, None
    if b - a < MIN_SKIP_SPAN_S:
        a = before[1] if before is not None and before[1] is not None else a
        b = after[2] if after is not None and after[2] is not None else b
    return float(a), float(max(b, a))


def _place(heard: list[tuple[str, float | None, float | None]], j1: int, j2: int) -> tuple[float, float]:
    """The time between the heard unit before ``j1`` and the one at ``j2`` (s; unbounded at the ends)."""
    a = float(heard[j1 - 1][2]) if j1 > 0 and heard[j1 - 1][2] is not None else -np.inf  # type: ignore[arg-type]
    b = float(heard[j2][1]) if j2 < len(heard) and heard[j2][1] is not None else np.inf  # type: ignore[arg-type]
    return a, b


def _place_overlaps(heard: list[tuple[str, float | None, float | None]], j1: int, j2: int, spans: tuple[tuple[float, float], ...]) -> bool:
    """Whether the place of heard units ``j1..j2`` (:func:`_place`) reaches into any of ``spans``;
    always, when the heard units have no times."""
    if not heard or heard[0][1] is None:
        return True
    a, b = _place(heard, j1, j2)
    return any(s < b and e > a for s, e in spans)


def _spoken_in_place(heard: list[tuple[str, float | None, float | None]], j1: int, j2: int, nuclei: np.ndarray,
                     weights: np.ndarray | None = None) -> float:
    """Syllable nuclei (each as the characters it stands for, ``weights``, else one) between the
    heard units before ``j1`` and from ``j2`` on, widened by
    :data:`NUCLEUS_TOL_S` each way (word times from Whisper's attention are off by a syllable or
    two), beyond the units heard in that widened place: speech there that the transcript does not
    hold. 0 when the heard units have no times."""
    if not heard or heard[0][1] is None:
        return 0.0
    nuclei = np.asarray(nuclei, dtype=float)
    w = np.ones(len(nuclei)) if weights is None else np.asarray(weights, dtype=float)
    a, b = _place(heard, j1, j2)
    a, b = a - NUCLEUS_TOL_S, b + NUCLEUS_TOL_S  # word times are off by a syllable or two
    inside = float(np.sum(w[(nuclei > a) & (nuclei < b)]))
    mids = np.array([(h[1] + h[2]) / 2 for h in heard])  # type: ignore[operator]
    words = int(np.sum((mids > a) & (mids < b)))  # the units heard there, those around the place included
    return float(max(inside - words, 0))


def _script_slice(script: str, units: list, i1: int, i2: int) -> str:
    """The script's own text (with its punctuation) covering spoken units ``i1..i2``."""
    return script[units[i1].index : units[i2 - 1].index + 1]


@dataclass(frozen=True)
class Precise:
    """Everything precise mode adds to an analysis.

    Attributes
    ----------
    transcript : Transcript
        What is shown and used: :func:`trusted` leaves out the stretches the count check
        overruled (all of it, ``withheld``, when that is most of the speech).
    counted : FusedCount
        The recogniser's count checked run by run against the nuclei.
    char_count : int
        The count reported: ``counted.fused`` plus vocal hesitations the recogniser left out.
    fillers : tuple of Filler
        Lexical and vocal, in time order; none in a stretch the count check overruled.
    jargon : tuple of JargonUse
    passages : tuple of Passage
        Skipped/added passages (only with a script, and not from overruled stretches).
    """

    transcript: Transcript
    counted: FusedCount
    char_count: int
    fillers: tuple[Any, ...]
    jargon: tuple[Any, ...]
    passages: tuple[Passage, ...]


def analyse(
    y: np.ndarray,
    sr: int,
    runs: np.ndarray,
    nuclei: np.ndarray,
    *,
    model_dir: str | Path,
    script: str | None = None,
    guidance: str | None = None,
    cache: TranscriptCache | None = None,
    widths: np.ndarray | None = None,
    progress: Callable[[float], None] | None = None,
) -> Precise:
    """Transcribe, count, find fillers and jargon, and compare with the script.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs (s).
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times (s).
    model_dir : path-like, keyword-only
    script : str, optional, keyword-only
    guidance : str, optional, keyword-only
        The trainer's guidance folder whose filler list and jargon are used (default: shipped).
    cache : TranscriptCache, optional, keyword-only
        Where the transcript is looked up and kept (:func:`transcribe`). Only the transcript is
        cached: the count check, fillers, jargon and passages are worked out from it every time.
    widths : np.ndarray, shape (m,), optional, keyword-only
        The nuclei's lobe widths (s), for the acoustic estimate of flagged runs (:func:`fuse_counts`).
    progress : callable, optional, keyword-only
        Called with the seconds of the recording recognised so far (:func:`speechcoach.precise.asr.decode`).

    Returns
    -------
    Precise
    """

    tr = transcribe(y, sr, runs, model_dir=model_dir, cache=cache, progress=progress)
    counted = fuse_counts(tr, runs, nuclei, widths=widths)
    shown = trusted(tr, counted)  # what the count check overruled is neither shown nor used
    vocal = vocal_hesitations(y, sr, runs, words=tr.words)
    filler_rules = fillers_mod.rules(guidance)
    filler_words = (*filler_rules.always, *filler_rules.contextual)
    lexical = fillers_mod.lexical_fillers(shown.words, filler_rules, script=script)
    heard = counted.overruled_at(np.array([(f.start_s + f.end_s) / 2 for f in vocal]))
    return Precise(
        transcript=shown,
        counted=counted,
        char_count=counted.fused + len(vocal),
        fillers=fillers_mod.merge(lexical, (f for f, bad in zip(vocal, heard) if not bad)),
        jargon=jargon_mod.find(script=script, words=shown.words, folder=guidance),
        passages=compare_to_script(shown, script, nuclei, tuple((r.start_s, r.end_s) for r in counted.flagged), fillers=filler_words,
                                   count=counted.fused, weights=nucleus_weights(nuclei, runs, widths=widths), runs=runs)
        if script is not None and not shown.withheld
        else (),
    )
