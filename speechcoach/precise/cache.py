"""Cached transcripts: the recogniser's work, kept so that it is done once per recording.

Precise mode's transcription (:func:`speechcoach.precise.asr.transcribe`, Whisper at roughly 5x real
time) is the only slow step of an analysis; everything after it (the count check, fillers,
jargon, findings, the report) takes milliseconds and depends on the trainer's guidance files,
target and language. A :class:`TranscriptCache` keeps the :class:`~speechcoach.precise.transcript.Transcript`
of each transcription in a folder, one small JSON file per entry, under a key made of exactly
what the transcription depends on (:func:`transcript_key`):

* the samples it was given (their bytes and sample rate) and the speech runs it decodes (which
  depend on the rubric's ``min_pause_s``),
* the model folder's identity (:func:`model_identity`: its path and each file's size and
  modification time),
* the decoding options (:func:`speechcoach.precise.asr.decoding_options`: beam, prompt, token budget,
  loop rules, :data:`speechcoach.precise.asr.TRANSCRIPT_REVISION`, the speechcoach, faster-whisper and
  CTranslate2 versions).

Guidance, target, band, language and report formats are not in the key: editing a tip reuses
every transcript.

Where the caches live: ``batch`` keeps one in its output's state folder
(``OUT/.speechcoach-state/transcripts``, :data:`BATCH_MAX_BYTES`), so that a re-run after a
guidance edit finds it; ``analyze``, ``check``, ``demo`` and ``record --analyze`` share a
per-user one (:func:`user_cache`, under the platform's cache folder, :data:`USER_MAX_BYTES`).
``$SPEECHCOACH_CACHE`` moves the per-user cache, and ``off`` turns every transcript cache off
(:func:`speechcoach.fileio.user_cache_dir`). ``serve`` uses none: each attempt is a new recording.

Entries are written atomically (:func:`speechcoach.fileio.write_atomic`). An entry that cannot
be read, is not valid JSON, is of another schema or was stored under another key (a corrupt,
truncated or foreign file) is ignored and recomputed, never an error; so is a cache folder that
cannot be written. Each folder is bounded: after a write, the least recently used entries
(a reuse refreshes an entry's modification time) are removed until the folder holds at most its
byte bound and :data:`MAX_ENTRIES` entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError
from ..fileio import user_cache_dir, write_atomic
from .transcript import Segment, Transcript, Word

SCHEMA = "speechcoach.transcript-cache/2"
"""The ``schema`` of every entry; an entry of another schema is ignored (``/2``: segments carry
the decoding pass's signals and words their probability, which the reliability check reads)."""

USER_MAX_BYTES = 64 << 20
"""Bound of the per-user cache (bytes): a two-minute recording's entry is ~15 KB, so about four
thousand recordings."""

BATCH_MAX_BYTES = 256 << 20
"""Bound of a batch output's cache (bytes): enough for every recording of a cohort of thousands."""

MAX_ENTRIES = 20_000
"""At most this many entries per folder (whatever their size)."""

SUFFIX = ".json"

STALE_TMP_S = 3600.0
"""A temporary file of an entry's write (``.KEY.json.*.tmp``) older than this (s) was left by a
process stopped mid-write (a batch worker terminated on Ctrl-C) and is removed when pruning."""


@dataclass
class TranscriptCache:
    """A folder of cached transcripts (see the module docstring).

    Attributes
    ----------
    folder : Path
        Where the entries are (created on the first write).
    max_bytes : int
        Bound of the folder's entries together (bytes).
    reuse : bool
        ``False`` recomputes every transcript and stores it again (``batch --force``).
    reused, computed : int
        Transcripts taken from the folder, and made by the recogniser, through this object.
    """

    folder: Path
    max_bytes: int = USER_MAX_BYTES
    reuse: bool = True
    reused: int = field(default=0, init=False)
    computed: int = field(default=0, init=False)

    def path(self, key: str) -> Path:
        """The entry file of ``key``."""
        return self.folder / f"{key}{SUFFIX}"

    def get(self, key: str) -> Transcript | None:
        """The transcript stored under ``key``, or ``None`` (absent, unreadable, corrupt, foreign,
        or ``reuse`` off). A valid entry's modification time is refreshed (least recently used
        entries go first)."""
        if not self.reuse:
            return None
        p = self.path(key)
        try:
            data = json.loads(p.read_bytes().decode("utf-8"))
            transcript = _from_entry(data, key)
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            return None
        try:
            os.utime(p)
        except OSError:  # a read-only cache still serves
            pass
        self.reused += 1
        return transcript

    def put(self, key: str, transcript: Transcript) -> None:
        """Store ``transcript`` under ``key`` and keep the folder within its bounds; a folder
        that cannot be written is left as it is (the transcript is simply not kept)."""
        self.computed += 1
        blob = json.dumps(_to_entry(transcript, key), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        try:
            write_atomic(self.path(key), blob + "\n")
        except (OutputError, ValueError):
            return
        prune(self.folder, self.max_bytes)


def prune(folder: Path, max_bytes: int, max_entries: int = MAX_ENTRIES) -> int:
    """Remove the least recently used entries of ``folder`` until they take at most ``max_bytes``
    and number at most ``max_entries``; returns how many were removed. A write in progress is
    left alone, one abandoned over :data:`STALE_TMP_S` ago removed; errors are ignored (another
    process may be pruning too)."""
    entries: list[tuple[float, int, str]] = []
    now = time.time()
    try:
        with os.scandir(folder) as it:
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if e.name.endswith(SUFFIX) and not e.name.startswith("."):
                    entries.append((st.st_mtime, st.st_size, e.path))
                elif e.name.startswith(".") and e.name.endswith(".tmp") and now - st.st_mtime > STALE_TMP_S:
                    with contextlib.suppress(OSError):
                        os.unlink(e.path)
    except OSError:
        return 0
    total = sum(size for _, size, _ in entries)
    removed = 0
    for _, size, path in sorted(entries):
        if total <= max_bytes and len(entries) - removed <= max_entries:
            break
        try:
            os.unlink(path)
        except OSError:
            pass
        total -= size
        removed += 1
    return removed


# --------------------------------------------------------------------------- keys


def transcript_key(y: np.ndarray, sr: int, runs: np.ndarray, model_dir: str | Path, options: dict[str, Any]) -> str:
    """The cache key (SHA-256, hex) of transcribing ``y`` at ``sr`` over ``runs`` with a model.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        The samples given to the recogniser (hashed as float32).
    sr : int
        Their sample rate (Hz).
    runs : np.ndarray, shape (k, 2)
        Speech runs (s), hashed as float64.
    model_dir : path-like
        The model folder (:func:`model_identity`).
    options : dict
        Everything else the transcript depends on (:func:`speechcoach.precise.asr.decoding_options`).
    """
    h = hashlib.sha256()
    head = {"schema": SCHEMA, "sr": int(sr), "model": model_identity(str(model_dir)), "options": options}
    h.update(json.dumps(head, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    samples = np.ascontiguousarray(y, dtype=np.float32)
    h.update(b"samples %d\n" % samples.size)
    h.update(samples.tobytes())
    spans = np.ascontiguousarray(np.asarray(runs, dtype=float).reshape(-1, 2), dtype=np.float64)
    h.update(b"runs %d\n" % len(spans))
    h.update(spans.tobytes())
    return h.hexdigest()


def model_identity(model_dir: str) -> str:
    """What identifies a model folder: its resolved path and each file's name, size and
    modification time (ns). Reinstalling or replacing the model changes it; reading the
    ~150 MB of weights to hash them would cost more than a short recording's analysis."""
    p = Path(model_dir).resolve()
    stamp = []
    try:
        with os.scandir(p) as it:
            for e in it:
                if e.is_file():
                    st = e.stat()
                    stamp.append((e.name, int(st.st_size), int(st.st_mtime_ns)))
    except OSError:
        pass
    return json.dumps({"path": str(p), "files": sorted(stamp)})


# --------------------------------------------------------------------------- entries


def _to_entry(tr: Transcript, key: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "key": key,
        "transcript": {
            "text": tr.text,
            "raw_text": tr.raw_text,
            "model": tr.model,
            "compute_s": float(tr.compute_s),
            "segments": [
                [float(s.start_s), float(s.end_s), s.text, bool(s.loop), _num(s.avg_logprob), _num(s.compression_ratio), _num(s.no_speech_prob)]
                for s in tr.segments
            ],
            "words": [[float(w.start_s), float(w.end_s), w.text, _num(w.probability)] for w in tr.words],
        },
    }


def _num(x: float | None) -> float | None:
    return None if x is None else float(x)


def _maybe(x: Any) -> float | None:
    return None if x is None else _time(x)


def _time(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ValueError("not a time")
    return float(x)


def _text(x: Any) -> str:
    if not isinstance(x, str):
        raise ValueError("not text")
    return x


def _from_entry(data: Any, key: str) -> Transcript:
    """The transcript of an entry read back; ``ValueError`` (or ``TypeError``/``KeyError``)
    when it is not a whole entry of this schema stored under ``key``."""

    if not isinstance(data, dict) or data.get("schema") != SCHEMA or data.get("key") != key:
        raise ValueError("foreign entry")
    t = data["transcript"]
    segments = []
    for start, end, text, loop, logprob, ratio, no_speech in t["segments"]:
        if not isinstance(loop, bool):
            raise ValueError("loop flag")
        segments.append(Segment(_time(start), _time(end), _text(text), loop, _maybe(logprob), _maybe(ratio), _maybe(no_speech)))
    words = tuple(Word(_time(start), _time(end), _text(text), _maybe(p)) for start, end, text, p in t["words"])
    raw = t["raw_text"]
    return Transcript(
        text=_text(t["text"]),
        raw_text=None if raw is None else _text(raw),
        segments=tuple(segments),
        words=words,
        model=_text(t["model"]),
        compute_s=_time(t["compute_s"]),
    )


# --------------------------------------------------------------------------- where


def user_cache(*, reuse: bool = True) -> TranscriptCache | None:
    """The per-user transcript cache (``analyze``, ``check``, ``demo``, ``record --analyze``):
    ``transcripts`` under :func:`speechcoach.fileio.user_cache_dir`, or ``None`` when
    ``$SPEECHCOACH_CACHE`` turns caching off."""
    base = user_cache_dir()
    return None if base is None else TranscriptCache(base / "transcripts", USER_MAX_BYTES, reuse)
