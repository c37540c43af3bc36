"""Precise mode: an offline speech recogniser counts the characters actually spoken.

The recogniser is Whisper (CTranslate2 through ``faster-whisper``, int8 on the CPU, two
threads), installed with ``pip install 'speechcoach[asr]'`` and ``speechcoach model install``.
Everything here is optional: :func:`available` says whether the package can be imported, and
nothing is imported or loaded until a transcription is asked for. Nothing is downloaded: the
model is always a local folder (:mod:`speechcoach.precise.model`).

Guards, because a recogniser's mistakes are not an acoustic estimator's:

* The recording is decoded as it was spoken, from the first speech onset to the last offset
  (:func:`decode_span`), pauses included; Whisper's own VAD is off. Text is judged
  afterwards, never cut away beforehand: a word outside the speech runs counts only where a
  syllable nucleus supports it. A recording longer than one Whisper window is decoded in
  pieces of at most :data:`MAX_CHUNK_S`, cut in its longest pauses (:func:`decode_chunks`):
  left to its own 30 s windows, Whisper skipped whole stretches of trainee-length recordings.
* ``language="zh"``, beam 5 at temperature 0 without the sampling fallback (reproducible,
  bounded time), ``condition_on_previous_text=False``, no repeated 4-token sequences, a
  disfluent initial prompt (:data:`PROMPT`). Decoding stops once the detected speech has been
  covered (:data:`TAIL_SPEECH_S`): Whisper would otherwise decode the last fraction of a second
  again, padded with silence, and invent text there. Decoding loops, byte garbage and text
  written faster than anyone speaks are recognised (:func:`is_loop`): their stretch is counted
  from the nuclei and their text is left out of the transcript shown to the user.
* The transcript's spoken characters are counted per speech run with
  :func:`speechcoach.characters.count_spoken` (digits as read aloud) and compared with the
  acoustic nucleus count of the same run. Where the two disagree strongly in a run of at
  least :data:`CHECK_MIN_RUN_S` (the recogniser found under :data:`DROP_RATIO` of the
  nuclei: a dropped stretch; or over :data:`HALLUCINATION_RATIO` times them: invented text;
  consecutive shorter runs are checked together)
  the run's figure is taken from the sound instead, and the report says so.
* Whisper often writes Traditional characters; words are mapped to Simplified
  (:func:`speechcoach.precise.fillers.to_simplified`) so that filler, jargon and script matching work.
  Counts do not depend on the variant.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..characters import count_spoken, spoken_units
from ..errors import SpeechcoachError
from ..analysis.syllables import nearest_run, nucleus_weights

if TYPE_CHECKING:
    from .cache import TranscriptCache

ASR_SR = 16_000
"""Sample rate Whisper expects."""

MIN_PEAK_DBFS = -30.0
"""A recording quieter than this (its peak, dB re full scale) is raised to it before it is
recognised: Whisper's log-mel input has an absolute floor, so very quiet speech reaches it as
near-silence. The sample practice recording was recognised the same at -1 and -30 dBFS; from
-60 dBFS (as a 16-bit file holds it: -70) it lost most words before this. Louder recordings,
and every clip of the benchmark corpus (the quietest peaks at -23 dBFS), are decoded as they are."""

THREADS = 2
"""CPU threads for CTranslate2 (intra-op)."""

COMPUTE_TYPE = "int8"

BEAM_SIZE = 5
"""Beam search: greedy decoding (beam 1) drops and garbles far more text on spontaneous and
accented speech (benchmarks/ASR_RESULTS.md); beam 5 costs ~20% more compute."""

PROMPT: str | None = "嗯 就是 那个 我我觉得 这个这个 呃 其实 就是就是 嗯"
"""Initial prompt written the way people speak, fillers and repeated words included, without
punctuation: Whisper otherwise writes fluent text and drops the repetitions (这这个, 有有) and
fillers (啊, 嗯) of spontaneous speech, which made the count run low (benchmarks/ASR_RESULTS.md).
With punctuation in the prompt the model wrote broken full-width characters in place of commas.
The prompt only conditions the first 30 s window (``condition_on_previous_text=False``).
Degenerate decoding it provokes is caught by :func:`is_loop` and counted from the sound."""

NO_REPEAT_NGRAM = 4
"""Block any repeated 4-token sequence: stops the decoding loops (你的香瓜你的香瓜…) that
temperature-0 decoding falls into, without touching ordinary doubled words (这个这个). The
temperature fallback Whisper normally uses against loops is off: it samples, so it is not
reproducible, costs up to 20 s on a short clip, and lost text on this corpus."""

SPAN_PAD_S = 0.2
"""The decoded stretch starts this long before the first speech onset and ends this long
after the last offset (s)."""

RUN_PAD_S = 0.12
"""A word whose midpoint is within this distance of a speech run belongs to it (s)."""

NUCLEUS_TOL_S = 0.4
"""A word outside the runs is kept when a syllable nucleus lies within this distance (s): word
times from Whisper's cross-attention are off by up to a syllable or two, and text invented in a
pause sits in a stretch with no nucleus at all."""

LOOP_COMPRESSION: float | None = None
"""Whisper's loop criterion (gzip compression ratio of a window's text, 2.4 in Whisper) is not
used: with repeated 4-grams blocked, the windows it still flags are genuinely repetitive
speech (a poem's refrain, a tongue twister), whose text is right."""

MAX_TOKENS_PER_S: float | None = 16.0
"""Tokens the decoder may write per second of decoded audio (``max_new_tokens``, from the
decoded stretch up to 30 s, at most :data:`MAX_NEW_TOKENS`). Whisper writes about one token
per Chinese character plus two timestamps per segment; the fastest clip of the corpus
(`sherpa_qwen3_fast1`, 11.4 characters/s) needs ~12 a second. A decoder that writes more is
looping or inventing text; the budget bounds the time it can spend doing so (its output is
then cut, and :func:`is_loop` rejects the broken segment)."""

MAX_NEW_TOKENS = 400
"""Upper bound of the token budget: with the prompt (~26 tokens) it stays below Whisper's
448-token context."""

TAIL_SPEECH_S: float | None = 0.3
"""Decoding stops once less than this much detected speech (s) remains after the last segment.
Whisper continues from its last timestamp, so a window that ends just before the end of the
speech is followed by another pass over the last fraction of a second padded with silence,
where it invents text (字幕制作, 我认识了你); that pass is not run."""

HALLUCINATION_SILENCE_S: float | None = None
"""faster-whisper's ``hallucination_silence_threshold`` (not used: see benchmarks/ASR_RESULTS.md)."""

MAX_CHAR_RATE = 15.0
"""A segment with more spoken characters per second than this was not spoken in its stretch."""

_LOOP_RE = re.compile(r"(.{3,}?)\1{2,}")
_PUNCT_RE = re.compile(r"[\s,.?!;:，。？！、；：…\"'“”‘’]")

CHECK_MIN_RUN_S = 2.0
"""Runs at least this long (s) have their recogniser count checked against the nuclei."""

DROP_RATIO = 0.6
"""A run where the recogniser hears fewer than this fraction of the nuclei lost a stretch."""

HALLUCINATION_RATIO = 1.8
"""A run where the recogniser hears more than this multiple of the nuclei invented text."""

MIN_PASSAGE_UNITS = 2
"""Skipped or added passages shorter than this (characters) are not reported."""

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


class AsrUnavailable(SpeechcoachError):
    """The recogniser package (faster-whisper) is not installed."""


@dataclass(frozen=True)
class Word:
    """One recognised word with its time in the recording (s)."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Segment:
    """One recognised stretch of text with its time in the recording (s)."""

    start_s: float
    end_s: float
    text: str
    loop: bool = False
    """Rejected by :func:`is_loop` (decoding loop, byte garbage, invented text): its text is
    neither counted nor shown (:meth:`Transcript.to_dict`), its words are dropped."""


@dataclass(frozen=True)
class Transcript:
    """What the recogniser heard.

    Attributes
    ----------
    text : str
        The whole transcript.
    segments : tuple of Segment
    words : tuple of Word
        Word-level times (Whisper's cross-attention alignment).
    model : str
        Folder name of the model used.
    compute_s : float
        Wall-clock seconds spent recognising.
    """

    text: str
    segments: tuple[Segment, ...]
    words: tuple[Word, ...]
    model: str = ""
    compute_s: float = 0.0
    raw_text: str | None = None
    """Everything the decoder wrote, rejected segments included (``text`` leaves them out)."""
    withheld: bool = False
    """Set by :func:`trusted`: the count check overruled most of the transcript, so none of it
    is shown or used (``text`` is empty, every stretch is ``rejected``)."""

    def to_dict(self) -> dict[str, Any]:
        """The report's ``transcript`` entry.

        Segments rejected as decoding loops or invented text, and the stretches the count check
        overruled (``Segment.loop``, see :func:`trusted`), are not shown: only their times are
        listed under ``rejected``. ``withheld`` is true when the whole text was set aside.
        """
        return {
            "withheld": self.withheld,
            "text": self.text,
            "source": "asr",
            "model": self.model,
            "segments": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3), "text": s.text} for s in self.segments if not s.loop],
            "words": [{"start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3), "text": w.text} for w in self.words],
            "rejected": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3)} for s in self.segments if s.loop],
        }


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
        ``"dropped"`` (recogniser far below the nuclei) or ``"invented"`` (far above).
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
    start_s : float or None
        Time in the recording (added passages, or where the skip happened).
    """

    kind: str
    text: str
    script_index: int | None
    start_s: float | None


def available() -> bool:
    """Whether the recogniser package (``faster_whisper``) can be imported."""
    try:
        return importlib.util.find_spec("faster_whisper") is not None
    except (ImportError, ValueError):
        return False


def require() -> None:
    """Raise :class:`AsrUnavailable` with the install command unless the recogniser is importable."""
    if not available():
        raise AsrUnavailable("speech recogniser not installed: pip install 'speechcoach[asr]' (faster-whisper)")


@lru_cache(maxsize=2)
def load_model(model_dir: str, threads: int = THREADS) -> Any:
    """A ``faster_whisper.WhisperModel`` for a local folder, cached per folder.

    Parameters
    ----------
    model_dir : str
        A CTranslate2 Whisper folder.
    threads : int
        CPU threads.

    Raises
    ------
    AsrUnavailable
        faster-whisper is not installed.
    SpeechcoachError
        The folder cannot be loaded as a model.
    """
    require()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            model_dir,
            device="cpu",
            compute_type=COMPUTE_TYPE,
            cpu_threads=threads,
            num_workers=1,
            local_files_only=True,
        )
    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError with long texts
        msg = " ".join(str(exc).split())[:160]
        raise SpeechcoachError(f"{model_dir}: cannot load the speech-recognition model ({msg})") from None


MAX_CHUNK_S = 28.0
"""Longest piece decoded in one call (s), under Whisper's 30 s window. On recordings longer
than a window, Whisper's own long-form decoding jumps ahead whenever a window yields no
timestamp it trusts, and on 1–3 minute passages built from the corpus it left out 10–50 % of
some recordings (benchmarks/ASR_RESULTS.md)."""

MIN_CHUNK_S = 12.0
"""A piece is cut at the longest pause among those that leave it at least this long (s)."""


def decode_chunks(runs: np.ndarray, duration_s: float, *, max_s: float = MAX_CHUNK_S,
                  min_s: float = MIN_CHUNK_S) -> list[tuple[float, float]]:
    """Pieces ``(start_s, end_s)`` decoded one by one: the decoded span cut in long pauses.

    Each piece holds whole speech runs and lasts at most ``max_s`` (unless one run alone is
    longer); it ends after the run followed by the longest pause among those that keep it
    between ``min_s`` and ``max_s`` long, and pieces meet in the middle of that pause. A span
    of at most ``max_s`` is one piece, :func:`decode_span`.

    Parameters
    ----------
    runs : np.ndarray, shape (k, 2)
        Speech runs (s), sorted.
    duration_s : float
        Length of the recording (s).
    max_s, min_s : float, keyword-only
        Longest piece, and the shortest piece worth cutting a long pause for (s).

    Returns
    -------
    list of (float, float)
        Consecutive, non-overlapping pieces covering every run, in time order.
    """
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    a, b = decode_span(runs, duration_s)
    if len(runs) == 0 or b - a <= max_s:
        return [(a, b)]
    pieces: list[tuple[float, float]] = []
    start, i = a, 0
    while i < len(runs):
        # runs i..j fit when the piece from `start` to run j's end (+ pad) is at most max_s
        j = i
        while j + 1 < len(runs) and runs[j + 1, 1] + SPAN_PAD_S - start <= max_s:
            j += 1
        if j == len(runs) - 1:
            pieces.append((start, b))
            break
        cands = [m for m in range(i, j + 1) if runs[m, 1] - start >= min_s] or [j]
        m = max(cands, key=lambda q: runs[q + 1, 0] - runs[q, 1])
        cut = float(min((runs[m, 1] + runs[m + 1, 0]) / 2, runs[m, 1] + SPAN_PAD_S))
        nxt = float(max(cut, runs[m + 1, 0] - SPAN_PAD_S))
        pieces.append((start, cut))
        start, i = nxt, m + 1
    return pieces


def decode_span(runs: np.ndarray, duration_s: float) -> tuple[float, float]:
    """The stretch of the recording that is decoded: first onset to last offset, padded (s)."""
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    if len(runs) == 0:
        return 0.0, duration_s
    return max(float(runs[0, 0]) - SPAN_PAD_S, 0.0), min(float(runs[-1, 1]) + SPAN_PAD_S, duration_s)


def is_loop(text: str, compression_ratio: float = 0.0, duration_s: float | None = None) -> bool:
    """Whether a decoded stretch is a decoding loop rather than speech.

    True when the text repeats one phrase of three or more characters at least three times in
    a row (你的香瓜你的香瓜你的香瓜); when it holds U+FFFD (byte tokens that form no character:
    the decoder cycling through byte variants, 赐赕赐赑赐…); when ``duration_s`` is given and
    three or more spoken characters come faster than :data:`MAX_CHAR_RATE` per second (text
    such as 字幕制作 invented at the end of a recording, its words all stamped at one instant);
    or, if :data:`LOOP_COMPRESSION` is set, when the window's compression ratio exceeds it.
    Doubled words (这个这个) and repetitions of shorter units do not qualify.
    """
    if LOOP_COMPRESSION is not None and compression_ratio > LOOP_COMPRESSION:
        return True
    n = count_spoken(text)
    if duration_s is not None and n >= 3 and n > MAX_CHAR_RATE * duration_s:
        return True  # more characters than the stretch could hold: text invented at the edge
    if "\ufffd" in text:  # byte tokens that form no character: the decoder has degenerated
        return True
    return _LOOP_RE.search(_PUNCT_RE.sub("", text)) is not None


TRANSCRIPT_REVISION = 1
"""Raise when :func:`transcribe` gives another transcript for the same signal, runs, model and
:func:`decoding_options` (a change to its code, or to :func:`speechcoach.precise.fillers.to_simplified`
or :func:`is_loop`), so that transcripts cached before (:mod:`speechcoach.precise.cache`) are not
reused."""


def decoding_options(word_timestamps: bool = True) -> dict[str, Any]:
    """Everything besides the signal, the runs and the model that shapes :func:`transcribe`'s
    result: the cache key's options (:func:`speechcoach.precise.cache.transcript_key`).

    The decoding constants of this module as they are at the call, :data:`TRANSCRIPT_REVISION`,
    and the versions of speechcoach, faster-whisper and CTranslate2.
    """
    from .. import __version__

    return {
        "revision": TRANSCRIPT_REVISION,
        "speechcoach": __version__,
        "faster_whisper": _dist_version("faster-whisper"),
        "ctranslate2": _dist_version("ctranslate2"),
        "asr_sr": ASR_SR,
        "min_peak_dbfs": MIN_PEAK_DBFS,
        "threads": THREADS,
        "compute_type": COMPUTE_TYPE,
        "beam_size": BEAM_SIZE,
        "prompt": PROMPT,
        "no_repeat_ngram": NO_REPEAT_NGRAM,
        "span_pad_s": SPAN_PAD_S,
        "max_chunk_s": MAX_CHUNK_S,
        "min_chunk_s": MIN_CHUNK_S,
        "max_tokens_per_s": MAX_TOKENS_PER_S,
        "max_new_tokens": MAX_NEW_TOKENS,
        "tail_speech_s": TAIL_SPEECH_S,
        "hallucination_silence_s": HALLUCINATION_SILENCE_S,
        "loop_compression": LOOP_COMPRESSION,
        "max_char_rate": MAX_CHAR_RATE,
        "loop_re": _LOOP_RE.pattern,
        "punct_re": _PUNCT_RE.pattern,
        "word_timestamps": bool(word_timestamps),
    }


@lru_cache(maxsize=4)
def _dist_version(name: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def transcribe(
    y: np.ndarray,
    sr: int,
    runs: np.ndarray,
    *,
    model_dir: str | Path,
    word_timestamps: bool = True,
    cache: TranscriptCache | None = None,
) -> Transcript:
    """Recognise a recording between its first and last detected speech, or take its transcript
    from ``cache`` when it was recognised before (the same samples, runs, model and
    :func:`decoding_options`: :func:`speechcoach.precise.cache.transcript_key`).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal; resampled to 16 kHz when ``sr`` differs, and raised to a peak of
        :data:`MIN_PEAK_DBFS` when quieter.
    sr : int
        Sample rate of ``y`` (Hz).
    runs : np.ndarray, shape (k, 2)
        Speech runs (s) from :func:`speechcoach.analysis.segmentation.segment`.
    model_dir : path-like, keyword-only
        CTranslate2 Whisper folder.
    word_timestamps : bool, keyword-only
        Ask for word times (needed for per-run counts, the silence check and filler times).
    cache : TranscriptCache, keyword-only, optional
        Where transcripts are kept (:class:`speechcoach.precise.cache.TranscriptCache`); a hit
        neither loads the model nor decodes, a miss stores what :func:`decode` made.

    Returns
    -------
    Transcript
        As :func:`decode` returns it (a cached one keeps the ``compute_s`` of its decoding).
    """
    if cache is None:
        return decode(y, sr, runs, model_dir=model_dir, word_timestamps=word_timestamps)
    from .cache import transcript_key

    key = transcript_key(y, sr, runs, model_dir, decoding_options(word_timestamps))
    found = cache.get(key)
    if found is not None:
        return found
    tr = decode(y, sr, runs, model_dir=model_dir, word_timestamps=word_timestamps)
    cache.put(key, tr)
    return tr


def decode(
    y: np.ndarray,
    sr: int,
    runs: np.ndarray,
    *,
    model_dir: str | Path,
    word_timestamps: bool = True,
) -> Transcript:
    """Recognise a recording between its first and last detected speech (the recogniser's work,
    what :func:`transcribe` caches).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal; resampled to 16 kHz when ``sr`` differs, and raised to a peak of
        :data:`MIN_PEAK_DBFS` when quieter.
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs (s) from :func:`speechcoach.analysis.segmentation.segment`. The original signal
        from the first onset to the last offset (:func:`decode_span`) is decoded with its
        pauses, in pieces of at most :data:`MAX_CHUNK_S` cut in long pauses
        (:func:`decode_chunks`): Whisper reads natural audio better than cut-outs. Text that falls
        outside the runs is judged later (:func:`fuse_counts`), not cut away beforehand.
    model_dir : path-like, keyword-only
        CTranslate2 Whisper folder.
    word_timestamps : bool, keyword-only
        Ask for word times (needed for per-run counts, the silence check and filler times).

    Returns
    -------
    Transcript
        Segment and word times in the recording; ``Segment.loop`` marks decoding loops.
    """
    model = load_model(str(model_dir))
    if sr != ASR_SR:
        from ..audio import resample

        y = resample(np.asarray(y, dtype=np.float32), sr, ASR_SR)
        sr = ASR_SR
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    floor = 10 ** (MIN_PEAK_DBFS / 20)
    if 0.0 < peak < floor:  # quiet: raised to MIN_PEAK_DBFS (a copy; the caller's signal is kept)
        y = np.asarray(y, dtype=np.float32) * np.float32(floor / peak)
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    from .fillers import to_simplified

    segments: list[Segment] = []
    words: list[Word] = []
    t0 = time.perf_counter()
    for a, b in decode_chunks(runs, len(y) / sr):
        piece = np.ascontiguousarray(y[int(round(a * sr)) : int(round(b * sr))], dtype=np.float32)
        inside = runs[(runs[:, 1] > a) & (runs[:, 0] < b)]
        max_new = None
        if MAX_TOKENS_PER_S is not None:
            max_new = int(min(MAX_NEW_TOKENS, np.ceil(MAX_TOKENS_PER_S * min(b - a, 30.0)) + 4))
        segs_iter, _info = model.transcribe(
            piece,
            language="zh",
            task="transcribe",
            beam_size=BEAM_SIZE,
            max_new_tokens=max_new,
            hallucination_silence_threshold=HALLUCINATION_SILENCE_S,
            temperature=0.0,
            condition_on_previous_text=False,
            initial_prompt=PROMPT,
            no_repeat_ngram_size=NO_REPEAT_NGRAM,
            vad_filter=False,
            word_timestamps=word_timestamps,
            without_timestamps=False,
        )
        for s in segs_iter:
            text = to_simplified(s.text.strip())
            if not text:
                continue
            seg = Segment(a + s.start, a + max(s.start, s.end), text, is_loop(text, s.compression_ratio, max(s.end - s.start, 0.0)))
            segments.append(seg)
            if not seg.loop:  # words of a rejected segment are neither counted nor shown
                for w in s.words or ():
                    if w.word.strip():
                        words.append(Word(a + w.start, a + max(w.start, w.end), to_simplified(w.word.strip())))
            if TAIL_SPEECH_S is not None and len(inside) and _speech_after(inside, seg.end_s) < TAIL_SPEECH_S:
                break  # no speech left in this piece: do not let Whisper decode the padded remainder
    elapsed = time.perf_counter() - t0
    return Transcript(
        text="".join(s.text for s in segments if not s.loop),
        raw_text="".join(s.text for s in segments),
        segments=tuple(segments),
        words=tuple(words),
        model=Path(model_dir).name,
        compute_s=elapsed,
    )


def _speech_after(runs: np.ndarray, t: float) -> float:
    """Seconds of the speech runs that lie after time ``t``."""
    if len(runs) == 0:
        return 0.0
    return float(np.sum(np.clip(runs[:, 1] - np.maximum(runs[:, 0], t), 0.0, None)))


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
    2. **Loops.** A segment that :func:`is_loop` marks counts the nuclei of its own time span
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
    out = []
    for (a, b), n_asr, n_loop, n_ac, n_w, is_bad, flag in zip(runs, asr, looped, acoustic, weighted, bad, flags):
        fused = n_asr + round(n_loop) if (is_bad or flag is None) else round(n_w)
        out.append(RunCount(float(a), float(b), int(n_asr), int(n_ac), int(fused), flag))
    return FusedCount(asr=int(total_asr), fused=int(sum(r.fused for r in out)), runs=tuple(out))


def trusted(transcript: Transcript, counted: FusedCount) -> Transcript:
    """The transcript with what the count check overruled taken out: what is shown and used.

    Words whose run (:meth:`FusedCount.overruled_at`) the check flagged ``dropped`` or
    ``invented`` are dropped, as the words of a decoding loop are; a segment reaching into such
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


def compare_to_script(
    transcript: Transcript, script: str, nuclei: np.ndarray | None = None, overruled: tuple[tuple[float, float], ...] = ()
) -> tuple[Passage, ...]:
    """Passages of the script that were left out, and passages said that the script lacks.

    Both texts are reduced to spoken units (digits as read, punctuation dropped) and aligned
    character by character (:class:`difflib.SequenceMatcher`, no junk heuristic). A run of
    :data:`MIN_PASSAGE_UNITS` or more script characters with no counterpart is *skipped*; a
    run of as many heard characters with none in the script is *added*. Substitutions
    (recognition errors, homophones) are not reported. Pass the transcript :func:`trusted`
    leaves, so that stretches the count check overruled are neither quoted nor read as skips.

    Parameters
    ----------
    transcript : Transcript
    script : str
    nuclei : np.ndarray, shape (m,), optional
        Syllable-nucleus times (s). With them (and word times), a skipped passage whose place
        holds speech the recogniser did not write (at least :data:`SKIP_SPOKEN_SHARE` of its
        characters in nuclei) is not reported: the sound says it was spoken.
    overruled : tuple of (float, float), optional
        Stretches (s) the count check overruled (:attr:`FusedCount.flagged`): a skipped passage
        whose place reaches into one is not reported (nothing is known of what was said there).

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
    a = [u.text for u in s_units]
    b = [h[0] for h in heard]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out: list[Passage] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        n_s, n_h = i2 - i1, j2 - j1
        at = heard[j1][1] if j1 < len(heard) else (heard[-1][1] if heard else None)
        if tag in ("delete", "replace") and n_s - n_h >= MIN_PASSAGE_UNITS and (tag == "delete" or n_s >= 2 * n_h):
            if nuclei is not None and _spoken_in_place(heard, j1, j2, nuclei) >= SKIP_SPOKEN_SHARE * n_s:
                continue  # speech the recogniser did not write as the script: not a skip
            if overruled and _place_overlaps(heard, j1, j2, overruled):
                continue
            out.append(Passage("skipped", _script_slice(script, s_units, i1, i2), s_units[i1].index, at))
        elif tag in ("insert", "replace") and n_h - n_s >= MIN_PASSAGE_UNITS and (tag == "insert" or n_h >= 2 * n_s):
            idx = s_units[i1].index if i1 < len(s_units) else (s_units[-1].index + 1 if s_units else 0)
            out.append(Passage("added", "".join(b[j1:j2]), idx, at))
    return tuple(out)


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


def _spoken_in_place(heard: list[tuple[str, float | None, float | None]], j1: int, j2: int, nuclei: np.ndarray) -> float:
    """Syllable nuclei between the heard units before ``j1`` and from ``j2`` on, beyond the
    ``j2 - j1`` units heard in between: speech there that the transcript does not hold. 0 when the
    heard units have no times."""
    if not heard or heard[0][1] is None:
        return 0.0
    nuclei = np.sort(np.asarray(nuclei, dtype=float))
    a, b = _place(heard, j1, j2)
    inside = int(np.searchsorted(nuclei, b, side="left") - np.searchsorted(nuclei, a, side="right"))
    return float(max(inside - (j2 - j1), 0))


def _script_slice(script: str, units: list, i1: int, i2: int) -> str:
    """The script's own text (with its punctuation) covering spoken units ``i1..i2``."""
    return script[units[i1].index : units[i2 - 1].index + 1]


def sentence_ends(transcript: Transcript) -> tuple[float, ...]:
    """Times (s) where the transcript ends a sentence (。？！ or a segment end).

    Offered to pause placement when there is no script: a pause that starts near one of these
    times follows a sentence end.
    """
    ends = []
    for w in transcript.words:
        if w.text and w.text[-1] in "。？！?!…":
            ends.append(w.end_s)
    if not ends:
        ends = [s.end_s for s in transcript.segments if not s.loop]
    return tuple(sorted(set(round(t, 3) for t in ends)))


from ..settings import COUNT_MODES  # noqa: E402  (re-exported: the count modes are a setting)


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


def choose_model(count: str, model_dir: str | Path | None = None) -> Path | None:
    """The model folder to recognise with under ``count`` mode, or None for the acoustic count.

    Parameters
    ----------
    count : {"auto", "asr", "acoustic"}
        ``auto`` uses the recogniser when faster-whisper imports and a model is found.
    model_dir : path-like, optional
        ``--asr-model``; otherwise ``$SPEECHCOACH_ASR_MODEL`` or the installed model.

    Raises
    ------
    ParameterError
        Unknown mode.
    AsrUnavailable
        ``count="asr"`` without faster-whisper.
    ModelError
        ``count="asr"`` without a model, or a named folder that is not a model.
    """
    from ..errors import ParameterError
    from .model import resolve_model_dir

    if count not in COUNT_MODES:
        raise ParameterError(f"count must be one of {', '.join(COUNT_MODES)}, got {count!r}")
    if count == "acoustic":
        return None
    if count == "asr":
        require()
        return resolve_model_dir(model_dir, required=True)
    if not available():
        return None
    return resolve_model_dir(model_dir)


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

    Returns
    -------
    Precise
    """
    from . import fillers as fillers_mod
    from . import jargon as jargon_mod

    tr = transcribe(y, sr, runs, model_dir=model_dir, cache=cache)
    counted = fuse_counts(tr, runs, nuclei, widths=widths)
    shown = trusted(tr, counted)  # what the count check overruled is neither shown nor used
    vocal = fillers_mod.vocal_hesitations(y, sr, runs, words=tr.words)
    lexical = fillers_mod.lexical_fillers(shown.words, fillers_mod.rules(guidance), script=script)
    heard = counted.overruled_at(np.array([(f.start_s + f.end_s) / 2 for f in vocal]))
    return Precise(
        transcript=shown,
        counted=counted,
        char_count=counted.fused + len(vocal),
        fillers=fillers_mod.merge(lexical, (f for f, bad in zip(vocal, heard) if not bad)),
        jargon=jargon_mod.find(script=script, words=shown.words, folder=guidance),
        passages=compare_to_script(shown, script, nuclei, tuple((r.start_s, r.end_s) for r in counted.flagged))
        if script is not None and not shown.withheld
        else (),
    )
