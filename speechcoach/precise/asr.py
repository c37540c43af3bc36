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
* How far the transcript is believed is decided by the analysis
  (:mod:`speechcoach.analysis.fusion`): its count is checked run by run against the syllable
  nuclei, and the stretches it overrules are counted from the sound and not shown.
* Whisper often writes Traditional characters; words are mapped to Simplified
  (:func:`speechcoach.precise.fillers.to_simplified`) so that filler, jargon and script matching work.
  Counts do not depend on the variant.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..characters import count_spoken
from ..errors import SpeechcoachError
from ..settings import COUNT_MODES
from .cache import TranscriptCache, transcript_key
from .transcript import Segment, Transcript, Word


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


class AsrUnavailable(SpeechcoachError):
    """The recogniser package (faster-whisper) is not installed."""


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
