"""Precise mode: an offline speech recogniser counts the characters actually spoken.

The recogniser is Whisper (CTranslate2 through ``faster-whisper``, int8 on the CPU, two
threads), installed with ``pip install 'speechcoach[asr]'`` and ``speechcoach model install``.
Everything here is optional: :func:`available` says whether the package can be imported, and
nothing is imported or loaded until a transcription is asked for. Nothing is downloaded: the
model is always a local folder (:mod:`speechcoach.model`).

Guards, because a recogniser's mistakes are not an acoustic estimator's:

* Only the detected speech is decoded. The segmentation's speech runs (padded by
  :data:`RUN_PAD_S`) are cut out and joined with :data:`JOIN_GAP_S` of silence between them;
  word times are mapped back to the recording afterwards. Whisper's own VAD is off.
* ``language="zh"``, ``condition_on_previous_text=False`` and no repeated 4-token sequences
  (no run-away repetition), greedy decoding at temperature 0 (:data:`BEAM_SIZE`), a neutral
  Simplified-Chinese prompt (without it Whisper often writes Traditional characters, which the
  filler and jargon lists would not match).
* The transcript's spoken characters are counted per speech run with
  :func:`speechcoach.characters.count_spoken` (digits as read aloud) and compared with the
  acoustic nucleus count of the same run. Where the two disagree strongly in a run of at
  least :data:`CHECK_MIN_RUN_S` (the recogniser found under :data:`DROP_RATIO` of the
  nuclei: a dropped stretch; or over :data:`HALLUCINATION_RATIO` times them: invented text)
  the run's figure is taken from the sound instead, and the report says so.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .characters import count_spoken, spoken_units
from .errors import SpeechcoachError

ASR_SR = 16_000
"""Sample rate Whisper expects."""

THREADS = 2
"""CPU threads for CTranslate2 (intra-op)."""

COMPUTE_TYPE = "int8"

BEAM_SIZE = 1
"""Greedy decoding: the count, not the spelling, is what matters, and it is ~2x faster than beam 5."""

PROMPT = "以下是一段普通话讲解。"
"""A neutral prompt that keeps the output in Simplified Chinese with punctuation."""

NO_REPEAT_NGRAM = 4
"""Block any repeated 4-token sequence: stops the decoding loops (请问问问问…) greedy decoding
falls into on short clips, without touching ordinary doubled words (这个这个)."""

RUN_PAD_S = 0.12
"""Each speech run is cut out with this much of the recording on either side (s)."""

JOIN_GAP_S = 0.25
"""Silence inserted between runs when they are joined for the recogniser (s)."""

CHECK_MIN_RUN_S = 2.0
"""Runs at least this long (s) have their recogniser count checked against the nuclei."""

DROP_RATIO = 0.6
"""A run where the recogniser hears fewer than this fraction of the nuclei lost a stretch."""

HALLUCINATION_RATIO = 1.8
"""A run where the recogniser hears more than this multiple of the nuclei invented text."""

MIN_PASSAGE_UNITS = 2
"""Skipped or added passages shorter than this (characters) are not reported."""


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

    def to_dict(self) -> dict[str, Any]:
        """The report's ``transcript`` entry."""
        return {
            "text": self.text,
            "source": "asr",
            "model": self.model,
            "segments": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3), "text": s.text} for s in self.segments],
            "words": [{"start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3), "text": w.text} for w in self.words],
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
        The figure used: ``asr`` unless flagged, then ``acoustic``.
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


def _pieces(runs: np.ndarray, duration_s: float) -> np.ndarray:
    """Padded, non-overlapping cut-outs ``[start_s, end_s]`` of the recording, one per run."""
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    cut = np.stack([np.maximum(runs[:, 0] - RUN_PAD_S, 0.0), np.minimum(runs[:, 1] + RUN_PAD_S, duration_s)], axis=1)
    if len(cut) > 1:  # never cut into the neighbour's half of a pause
        mid = (runs[1:, 0] + runs[:-1, 1]) / 2
        cut[1:, 0] = np.maximum(cut[1:, 0], mid)
        cut[:-1, 1] = np.minimum(cut[:-1, 1], mid)
    return cut


def join_runs(y: np.ndarray, sr: int, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut the speech runs out of ``y`` and join them with short silences.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        The recording at ``sr``.
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs in seconds.

    Returns
    -------
    joined : np.ndarray, shape (m,)
        float32 audio holding only the (padded) runs.
    pieces : np.ndarray, shape (k, 3)
        Per run: start in ``joined``, start and end in the recording (all seconds), so that
        :func:`to_recording_time` can map times back.
    """
    cut = _pieces(runs, len(y) / sr)
    gap = np.zeros(int(round(JOIN_GAP_S * sr)), dtype=np.float32)
    chunks = []
    table = np.zeros((len(cut), 3))
    pos = 0
    for i, (a, b) in enumerate(cut):
        seg = np.asarray(y[int(round(a * sr)) : int(round(b * sr))], dtype=np.float32)
        table[i] = (pos / sr, a, a + len(seg) / sr)
        chunks.append(seg)
        chunks.append(gap)
        pos += len(seg) + len(gap)
    joined = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return joined, table


def to_recording_time(t: np.ndarray | float, pieces: np.ndarray) -> np.ndarray:
    """Map times in the joined audio back to the recording (clamped into each run's cut-out)."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    k = np.clip(np.searchsorted(pieces[:, 0], t, side="right") - 1, 0, len(pieces) - 1)
    return np.clip(pieces[k, 1] + (t - pieces[k, 0]), pieces[k, 1], pieces[k, 2])


def transcribe(
    y: np.ndarray,
    sr: int,
    runs: np.ndarray,
    *,
    model_dir: str | Path,
    word_timestamps: bool = True,
) -> Transcript:
    """Recognise the speech runs of a recording.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal; resampled to 16 kHz when ``sr`` differs.
    sr : int
    runs : np.ndarray, shape (k, 2)
        Speech runs (s) from :func:`speechcoach.segmentation.segment`; nothing outside them
        is decoded.
    model_dir : path-like, keyword-only
        CTranslate2 Whisper folder.
    word_timestamps : bool, keyword-only
        Ask for word times (about 5% slower; needed for per-run counts and filler times).

    Returns
    -------
    Transcript
    """
    model = load_model(str(model_dir))
    if sr != ASR_SR:
        from .audio import resample

        y = resample(np.asarray(y, dtype=np.float32), sr, ASR_SR)
        sr = ASR_SR
    joined, pieces = join_runs(y, sr, runs)
    t0 = time.perf_counter()
    segs_iter, _info = model.transcribe(
        joined,
        language="zh",
        task="transcribe",
        beam_size=BEAM_SIZE,
        temperature=0.0,
        condition_on_previous_text=False,
        initial_prompt=PROMPT,
        no_repeat_ngram_size=NO_REPEAT_NGRAM,
        vad_filter=False,
        word_timestamps=word_timestamps,
        without_timestamps=False,
    )
    segments: list[Segment] = []
    words: list[Word] = []
    for s in segs_iter:
        text = s.text.strip()
        if not text:
            continue
        a, b = to_recording_time([s.start, s.end], pieces)
        segments.append(Segment(float(a), float(max(a, b)), text))
        for w in s.words or ():
            wa, wb = to_recording_time([w.start, w.end], pieces)
            if w.word.strip():
                words.append(Word(float(wa), float(max(wa, wb)), w.word.strip()))
    elapsed = time.perf_counter() - t0
    return Transcript(
        text="".join(s.text for s in segments),
        segments=tuple(segments),
        words=tuple(words),
        model=Path(model_dir).name,
        compute_s=elapsed,
    )


def _word_runs(words: tuple[Word, ...], runs: np.ndarray) -> np.ndarray:
    """Index of the speech run each word belongs to (by its midpoint; nearest run if between)."""
    if not words:
        return np.zeros(0, dtype=int)
    mid = np.array([(w.start_s + w.end_s) / 2 for w in words])
    centre = (runs[:, 0] + runs[:, 1]) / 2
    inside = (mid[:, None] >= runs[None, :, 0]) & (mid[:, None] <= runs[None, :, 1])
    dist = np.minimum(np.abs(mid[:, None] - runs[None, :, 0]), np.abs(mid[:, None] - runs[None, :, 1]))
    dist = np.where(inside, -1.0, dist)
    best = np.argmin(dist + 1e-9 * np.abs(mid[:, None] - centre[None, :]), axis=1)
    return best


def fuse_counts(transcript: Transcript, runs: np.ndarray, nuclei: np.ndarray) -> FusedCount:
    """Count the transcript's spoken characters per run and check each run against the nuclei.

    Parameters
    ----------
    transcript : Transcript
        With word times (without them, only the whole-recording check applies).
    runs : np.ndarray, shape (k, 2)
        Speech runs in seconds.
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times (s) from :func:`speechcoach.syllables.detect_nuclei`.

    Returns
    -------
    FusedCount
    """
    runs = np.asarray(runs, dtype=float).reshape(-1, 2)
    nuclei = np.sort(np.asarray(nuclei, dtype=float))
    total_asr = count_spoken(transcript.text)
    acoustic = np.searchsorted(nuclei, runs[:, 1], side="right") - np.searchsorted(nuclei, runs[:, 0], side="left")
    if transcript.words:
        asr = np.zeros(len(runs), dtype=int)
        for w, k in zip(transcript.words, _word_runs(transcript.words, runs)):
            asr[k] += count_spoken(w.text)
    else:  # no word times: one check over the whole recording
        runs = np.array([[runs[0, 0], runs[-1, 1]]])
        acoustic = np.array([len(nuclei)])
        asr = np.array([total_asr])
    out = []
    for (a, b), n_asr, n_ac in zip(runs, asr, acoustic):
        flag = None
        if b - a >= CHECK_MIN_RUN_S and n_ac > 0:
            if n_asr < DROP_RATIO * n_ac:
                flag = "dropped"
            elif n_asr > HALLUCINATION_RATIO * n_ac:
                flag = "invented"
        out.append(RunCount(float(a), float(b), int(n_asr), int(n_ac), int(n_ac if flag else n_asr), flag))
    return FusedCount(asr=int(total_asr), fused=int(sum(r.fused for r in out)), runs=tuple(out))


def compare_to_script(transcript: Transcript, script: str) -> tuple[Passage, ...]:
    """Passages of the script that were left out, and passages said that the script lacks.

    Both texts are reduced to spoken units (digits as read, punctuation dropped) and aligned
    character by character (:class:`difflib.SequenceMatcher`, no junk heuristic). A run of
    :data:`MIN_PASSAGE_UNITS` or more script characters with no counterpart is *skipped*; a
    run of as many heard characters with none in the script is *added*. Substitutions
    (recognition errors, homophones) are not reported.

    Returns
    -------
    tuple of Passage
        In script order.
    """
    s_units = spoken_units(script)
    heard: list[tuple[str, float]] = []
    if transcript.words:
        for w in transcript.words:
            us = spoken_units(w.text)
            heard.extend((u.text, w.start_s) for u in us)
    else:
        heard = [(u.text, None) for u in spoken_units(transcript.text)]  # type: ignore[misc]
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
            out.append(Passage("skipped", _script_slice(script, s_units, i1, i2), s_units[i1].index, at))
        elif tag in ("insert", "replace") and n_h - n_s >= MIN_PASSAGE_UNITS and (tag == "insert" or n_h >= 2 * n_s):
            idx = s_units[i1].index if i1 < len(s_units) else (s_units[-1].index + 1 if s_units else 0)
            out.append(Passage("added", "".join(b[j1:j2]), idx, at))
    return tuple(out)


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
        ends = [s.end_s for s in transcript.segments]
    return tuple(sorted(set(round(t, 3) for t in ends)))


COUNT_MODES = ("auto", "asr", "acoustic")


@dataclass(frozen=True)
class Precise:
    """Everything precise mode adds to an analysis.

    Attributes
    ----------
    transcript : Transcript
    counted : FusedCount
        The recogniser's count checked run by run against the nuclei.
    char_count : int
        The count reported: ``counted.fused`` plus vocal hesitations the recogniser left out.
    fillers : tuple of Filler
        Lexical and vocal, in time order.
    jargon : tuple of JargonUse
    passages : tuple of Passage
        Skipped/added passages (only with a script).
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
    from .errors import ParameterError
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

    Returns
    -------
    Precise
    """
    from . import fillers as fillers_mod
    from . import jargon as jargon_mod

    tr = transcribe(y, sr, runs, model_dir=model_dir)
    counted = fuse_counts(tr, runs, nuclei)
    vocal = fillers_mod.vocal_hesitations(y, sr, runs, words=tr.words)
    lexical = fillers_mod.lexical_fillers(tr.words)
    return Precise(
        transcript=tr,
        counted=counted,
        char_count=counted.fused + len(vocal),
        fillers=fillers_mod.merge(lexical, vocal),
        jargon=jargon_mod.find(script=script, words=tr.words),
        passages=compare_to_script(tr, script) if script is not None else (),
    )
