"""Precise mode: an offline speech recogniser counts the characters actually spoken.

The recogniser is Whisper base (CTranslate2 through ``faster-whisper``, int8 on the CPU, two
threads), installed with speechcoach itself, its model from two hash-checked PyPI packages and
assembled on first use (:mod:`speechcoach.precise.model`). Nothing is imported or loaded until a
transcription is asked for (a scripted analysis in the default ``auto`` mode never asks), and
nothing is downloaded: the model is always a local folder. Where the package or the model is
missing or broken, ``auto`` counts from the sound and the report says so in one line
(:func:`auto_model`).

Guards, because a recogniser's mistakes are not an acoustic estimator's:

* The recording's speech is decoded with its short pauses, each run with the room sound
  around it, packed into as few 30 s windows as hold it (:func:`pack_windows`): each window
  costs about as much as a full one however little it holds, and long pauses carry nothing to
  recognise. Whisper's own VAD is off. Text is judged afterwards, never cut away beforehand: a
  word outside the speech runs counts only where a syllable nucleus supports it.
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
from collections.abc import Callable
from dataclasses import dataclass
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
    ModelError
        The folder cannot be loaded as a model, or the recogniser package does not import
        (a damaged install).
    """
    require()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from faster_whisper import WhisperModel
    except Exception as exc:  # a damaged install: CTranslate2's library missing, a broken wheel
        from .model import ModelError

        raise ModelError(f"the speech recogniser does not load ({type(exc).__name__}: {str(exc)[:120]})") from None

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
        from .model import ModelError

        msg = " ".join(str(exc).split())[:160]
        raise ModelError(f"{model_dir}: cannot load the speech-recognition model ({msg})") from None


WINDOW_S = 29.0
"""Most packed audio decoded in one pass (s), under Whisper's 30 s window. Whisper pads whatever
it is given to 30 s and encodes the whole window (~0.95 s of CPU for Whisper base, int8, however
little of it is speech), so the recording's speech is packed into as few windows as fit
(:func:`pack_windows`). Left to its own long-form decoding over a whole recording, Whisper skipped
whole stretches of trainee-length recordings (benchmarks/ASR_RESULTS.md)."""

KEEP_PAUSE_S = 0.5
"""When speech is packed, this much of every pause (s) is kept at each end of it, and before the
first and after the last speech (so a pause keeps at most twice this, and pauses up to a second
are kept whole): Whisper reads speech with its natural pauses better than runs butted together,
the room sound around a run keeps its onset and offset consonants (the runs end where the voicing
fades), and quiet speech that the segmentation took for a short pause is still decoded. On the
10-minute benchmark recording (470 s of speech in 647 s) this packs into 24 windows (0.3 s: 21,
0.75 s: 24; unpacked pieces cut in pauses: 28, each often decoded twice)."""


@dataclass(frozen=True)
class Window:
    """Stretches of the recording decoded together, packed end to end (one Whisper pass).

    Attributes
    ----------
    spans : np.ndarray, shape (k, 2)
        The stretches (s in the recording), in time order, each a speech run with up to
        :data:`KEEP_PAUSE_S` of the pauses around it (neighbouring runs merged).
    """

    spans: np.ndarray

    @property
    def length_s(self) -> float:
        """Length of the packed audio (s)."""
        return float(np.sum(self.spans[:, 1] - self.spans[:, 0]))

    def to_original(self, t: np.ndarray | float) -> np.ndarray:
        """Times in the packed audio (s) as times in the recording (s), same shape.

        A time past a stretch's end belongs to that stretch's end (a word Whisper stamps at a
        join is placed at the end of the speech before it, never in the pause cut out)."""
        t = np.asarray(t, dtype=float)
        lengths = self.spans[:, 1] - self.spans[:, 0]
        starts = np.r_[0.0, np.cumsum(lengths)[:-1]]
        k = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
        return self.spans[k, 0] + np.clip(t - starts[k], 0.0, lengths[k])

    def cut(self, y: np.ndarray, sr: int) -> np.ndarray:
        """The packed audio: the stretches of ``y`` (at ``sr``) joined, float32, shape (n,)."""
        parts = [y[int(round(a * sr)) : int(round(b * sr))] for a, b in self.spans]
        return np.ascontiguousarray(np.concatenate(parts) if parts else y[:0], dtype=np.float32)


def pack_windows(runs: np.ndarray, duration_s: float, *, window_s: float = WINDOW_S,
                 keep_s: float = KEEP_PAUSE_S) -> list[Window]:
    """The recording's speech packed into decoding windows of at most ``window_s`` each.

    When the speech, from ``keep_s`` before the first run to ``keep_s`` after the last, fits in one
    window, that is the one window, pauses and all (a far-field clip whose quiet words the
    segmentation missed keeps them). Otherwise every speech run, with ``keep_s`` of the recording
    before and after it (within the recording; runs closer than ``2 * keep_s`` merge into one
    stretch), is a stretch; stretches
    are packed in time order, each window taking as many as fit in ``window_s``, so that a
    window is cut only in a pause and every window but the last is nearly full. A stretch longer
    than ``window_s`` (a run with no pause in it) is a window of its own, which Whisper decodes
    in several passes.

    Parameters
    ----------
    runs : np.ndarray, shape (k, 2)
        Speech runs (s), sorted.
    duration_s : float
        Length of the recording (s).
    window_s, keep_s : float, keyword-only
        Most packed audio per window, and the pause kept at each end of a run (s).

    Returns
    -------
    list of Window
        In time order; without runs, one window of the whole recording (at most its first
        ``window_s`` per pass).
    """
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    if len(runs) == 0:
        return [Window(np.array([[0.0, float(duration_s)]]))]
    padded = np.column_stack([np.maximum(runs[:, 0] - keep_s, 0.0), np.minimum(runs[:, 1] + keep_s, duration_s)])
    if padded[-1, 1] - padded[0, 0] <= window_s:
        return [Window(np.array([[padded[0, 0], padded[-1, 1]]]))]
    windows: list[Window] = []
    spans: list[list[float]] = []  # the current window's stretches
    used = 0.0
    for a, b in padded:
        a, b = float(a), float(b)
        joined = bool(spans) and a <= spans[-1][1]  # within 2 * keep_s of the run before: one stretch
        grows = b - max(a, spans[-1][1]) if joined else b - a
        if spans and used + grows > window_s:  # full: the window ends in the pause before this run
            if joined:
                spans[-1][1] = (spans[-1][1] + a) / 2 if a < spans[-1][1] else spans[-1][1]
                a = spans[-1][1]
            windows.append(Window(np.array(spans)))
            spans, used, joined, grows = [], 0.0, False, b - a
        if joined:
            spans[-1][1] = b
        else:
            spans.append([a, b])
        used += grows
    windows.append(Window(np.array(spans)))
    return windows


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


TRANSCRIPT_REVISION = 2
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
        "window_s": WINDOW_S,
        "keep_pause_s": KEEP_PAUSE_S,
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
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    """Recognise a recording's speech, or take its transcript from ``cache`` when it was
    recognised before (the same samples, runs, model and :func:`decoding_options`:
    :func:`speechcoach.precise.cache.transcript_key`).

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
    progress : callable, keyword-only, optional
        Called with the seconds of the recording recognised so far (:func:`decode`).

    Returns
    -------
    Transcript
        As :func:`decode` returns it (a cached one keeps the ``compute_s`` of its decoding).
    """
    if cache is None:
        return decode(y, sr, runs, model_dir=model_dir, word_timestamps=word_timestamps, progress=progress)

    key = transcript_key(y, sr, runs, model_dir, decoding_options(word_timestamps))
    found = cache.get(key)
    if found is not None:
        return found
    tr = decode(y, sr, runs, model_dir=model_dir, word_timestamps=word_timestamps, progress=progress)
    cache.put(key, tr)
    return tr


def decode(
    y: np.ndarray,
    sr: int,
    runs: np.ndarray,
    *,
    model_dir: str | Path,
    word_timestamps: bool = True,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    """Recognise a recording's speech, packed into full windows (the recogniser's work, what
    :func:`transcribe` caches).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal; resampled to 16 kHz when ``sr`` differs, and raised to a peak of
        :data:`MIN_PEAK_DBFS` when quieter.
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs (s) from :func:`speechcoach.analysis.segmentation.segment`. The runs, each
        with the room sound of up to :data:`KEEP_PAUSE_S` around it, are packed into windows of
        at most :data:`WINDOW_S` (:func:`pack_windows`), one Whisper pass each; times are mapped
        back to the recording. Text the recogniser places outside the runs is judged later
        (:func:`speechcoach.analysis.fusion.fuse_counts`), not cut away beforehand.
    model_dir : path-like, keyword-only
        CTranslate2 Whisper folder.
    word_timestamps : bool, keyword-only
        Ask for word times (needed for per-run counts, the silence check and filler times).
    progress : callable, keyword-only, optional
        Called after each window with the seconds of the recording covered so far (its last
        stretch's end; the recording's length after the last window).

    Returns
    -------
    Transcript
        Segment and word times in the recording; ``Segment.loop`` marks decoding loops; each
        segment carries its pass's ``avg_logprob``, ``compression_ratio`` and ``no_speech_prob``,
        each word its probability.
    """
    model = load_model(str(model_dir))
    duration_s = len(y) / sr
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
    for window in pack_windows(runs, duration_s):
        piece = window.cut(y, sr)
        inside = runs[(runs[:, 1] > window.spans[0, 0]) & (runs[:, 0] < window.spans[-1, 1])]
        max_new = None
        if MAX_TOKENS_PER_S is not None:
            max_new = int(min(MAX_NEW_TOKENS, np.ceil(MAX_TOKENS_PER_S * min(window.length_s, 30.0)) + 4))
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
            a, b = (float(v) for v in window.to_original(np.array([s.start, max(s.start, s.end)])))
            seg = Segment(a, b, text, is_loop(text, s.compression_ratio, max(s.end - s.start, 0.0)),
                          float(s.avg_logprob), float(s.compression_ratio), float(s.no_speech_prob))
            segments.append(seg)
            if not seg.loop:  # words of a rejected segment are neither counted nor shown
                for w in s.words or ():
                    if w.word.strip():
                        ws, we = (float(v) for v in window.to_original(np.array([w.start, max(w.start, w.end)])))
                        words.append(Word(ws, we, to_simplified(w.word.strip()), float(w.probability)))
            if TAIL_SPEECH_S is not None and len(inside) and _speech_after(inside, seg.end_s) < TAIL_SPEECH_S:
                break  # no speech left in this window: do not let Whisper decode the padded remainder
        if progress is not None:
            progress(float(window.spans[-1, 1]))
    if progress is not None:
        progress(duration_s)
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
        ``asr`` requires the recogniser and its model; ``auto`` uses them when they can be had
        (:func:`auto_model`), else None.
    model_dir : path-like, optional
        ``--asr-model``; otherwise ``$SPEECHCOACH_ASR_MODEL`` or the installed model, assembled
        from its packages on first use (:func:`speechcoach.precise.model.ensure_model`).

    Raises
    ------
    ParameterError
        Unknown mode.
    AsrUnavailable
        ``count="asr"`` without faster-whisper.
    ModelError
        ``count="asr"`` without a model that can be assembled, or a named folder that is not a model.
    """
    from ..errors import ParameterError
    from .model import ensure_model

    if count not in COUNT_MODES:
        raise ParameterError(f"count must be one of {', '.join(COUNT_MODES)}, got {count!r}")
    if count == "acoustic":
        return None
    if count == "asr":
        require()
        return ensure_model(model_dir)[0]
    return auto_model(model_dir)[0]


UNAVAILABLE_WARNINGS = ("asr_missing", "asr_model_missing", "asr_model_broken")
"""The report's warning when ``auto`` falls back to the count from the sound: the recogniser
package cannot be imported, its model cannot be assembled, or the model does not load."""


def auto_model(model_dir: str | Path | None = None) -> tuple[Path | None, str | None]:
    """The model folder for ``count="auto"``, or None and why not (one of :data:`UNAVAILABLE_WARNINGS`).

    The installed model is assembled from its packages on first use; a folder named by
    ``model_dir`` or ``$SPEECHCOACH_ASR_MODEL`` that is not a model is an error, not a fallback
    (whoever named it wants it).

    Raises
    ------
    ModelError
        A named folder is not a model.
    """
    from .model import ENV_MODEL, ModelError, ensure_model

    if not available():
        return None, "asr_missing"
    named = model_dir is not None or bool(os.environ.get(ENV_MODEL))
    try:
        return ensure_model(model_dir)[0], None
    except ModelError:
        if named:
            raise
        return None, "asr_model_missing"


def can_count(model_dir: str | Path | None = None) -> bool:
    """Whether the recogniser can run: faster-whisper is installed and a model is in place or can
    be assembled from its packages (nothing is assembled or loaded here)."""
    from .model import ModelError, find_parts, resolve_model_dir

    if not available():
        return False
    try:
        if resolve_model_dir(model_dir) is not None:
            return True
        find_parts()
    except ModelError:
        return False
    return True
