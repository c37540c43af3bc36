"""Shared helpers for the benchmarks: where the corpus is, its clips and their truth, the machine.

The corpus (``manifest.tsv`` plus audio) lives outside the repository, by default in
``<repo>/../shared/corpus/real``; the environment variable ``SPEECHCOACH_CORPUS`` points
elsewhere. It is read at run time and never copied into the repository.

Truth for the character count is :func:`speechcoach.characters.count_spoken` of the
transcript (digits expanded as read aloud, Latin letters one per letter). A clip for which that
rule is known to be wrong is listed in :data:`EXCLUDED` with the reason.
"""

from __future__ import annotations

import csv
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from speechcoach.characters import count_spoken

REPO = Path(__file__).resolve().parents[1]
"""The repository root."""

CORPUS_ENV = "SPEECHCOACH_CORPUS"
SR = 16_000
"""Every benchmark signal is mono float32 at this rate (Hz), as the pipeline analyses it."""

EXCLUDED: dict[str, str] = {
    "mossttsd_pod_f_enhanced": (
        "transcript holds the English word 'offer': count_spoken counts 5 letters, "
        "a speaker says 2 syllables"
    ),
}
"""Clips left out of every benchmark, with the reason."""


@dataclass(frozen=True)
class Clip:
    """One corpus recording and its truth.

    Attributes
    ----------
    id : str
        Manifest id.
    path : Path
        The audio file.
    source : str
        ``source_repo`` (used to group clips by origin).
    transcript : str
        What is said, with the source's punctuation.
    n_chars : int
        Spoken syllables: ``count_spoken(transcript)``.
    duration_s : float
        Length of the file in seconds (from the manifest).
    alignment : Path or None
        A Praat TextGrid with a ``words`` tier, when the manifest names one.
    """

    id: str
    path: Path
    source: str
    transcript: str
    n_chars: int
    duration_s: float
    alignment: Path | None


def corpus_dir() -> Path | None:
    """The corpus folder, or None when it (or its manifest) is absent."""
    root = corpus_location()
    return root if (root / "manifest.tsv").is_file() else None


def corpus_location() -> Path:
    """Where the corpus is looked for: ``$SPEECHCOACH_CORPUS`` or ``<repo>/../shared/corpus/real``."""
    env = os.environ.get(CORPUS_ENV)
    return Path(env) if env else REPO.parent / "shared" / "corpus" / "real"


def missing_message() -> str:
    """The one-line message printed (or used as skip reason) when the corpus is absent."""
    return (
        f"corpus not found: expected {corpus_location() / 'manifest.tsv'} "
        f"(set {CORPUS_ENV} to its folder); nothing to benchmark"
    )


REQUIRED_COLUMNS = ("file", "transcript")
"""Manifest columns a corpus must have; ``id`` (default: the file's stem), ``source_repo``
(default ``unknown``), ``duration_s`` (default: measured) and ``alignment_file`` are optional."""


class CorpusError(Exception):
    """A manifest the benchmarks cannot read; the message is one line naming the file."""


@dataclass(frozen=True)
class Skipped:
    """A manifest row left out of a run because it cannot be used, and why (one line)."""

    id: str
    reason: str


def read_corpus(root: Path, *, include_excluded: bool = False) -> tuple[list[Clip], dict[str, np.ndarray], list[Skipped]]:
    """The manifest's usable clips in file order, their signals (mono float32 at :data:`SR`)
    and the rows left out.

    A row is left out, with its reason, when its transcript holds nothing spoken or its audio
    cannot be read (missing, empty, not audio: the message of :class:`speechcoach.errors.AudioError`),
    so one bad file in a corpus nobody here has seen does not stop a benchmark. A clip without a
    usable ``duration_s`` gets its measured length.

    Parameters
    ----------
    root : Path
        The corpus folder (from :func:`corpus_dir`).
    include_excluded : bool, keyword-only
        Keep the clips listed in :data:`EXCLUDED`.

    Returns
    -------
    clips : list of Clip
    audio : dict
        ``Clip.id`` to signal, shape (n_samples,).
    skipped : list of Skipped

    Raises
    ------
    CorpusError
        The manifest cannot be read, lacks a :data:`REQUIRED_COLUMNS` column or has no usable clip.
    """
    from speechcoach.errors import SpeechcoachError

    listed, skipped = _manifest(root, include_excluded)
    clips, audio = [], {}
    for c in listed:
        try:
            y = load_audio(c.path)
        except SpeechcoachError as exc:
            skipped.append(Skipped(c.id, f"{c.path.name}: {getattr(exc, 'problem', exc)}"))
            continue
        if not np.isfinite(c.duration_s) or c.duration_s <= 0:
            c = replace(c, duration_s=len(y) / SR)
        clips.append(c)
        audio[c.id] = y
    if not clips:
        raise CorpusError(f"{root / 'manifest.tsv'}: no usable clip ({len(skipped)} row(s) left out)")
    return clips, audio, skipped


def corpus_for(prog: str) -> Path | None:
    """:func:`corpus_dir` for a benchmark's command line named ``prog`` that needs the corpus:
    when it is absent, prints ``PROG: error: corpus not found: expected …`` (:func:`missing_message`)
    on standard error and gives None (the caller exits 2)."""
    root = corpus_dir()
    if root is None:
        print(f"{prog}: error: {missing_message()}", file=sys.stderr)
    return root


@dataclass(frozen=True)
class Corpus:
    """A corpus as a benchmark read it (:func:`read_corpus_for`).

    Attributes
    ----------
    root : Path
        Its folder.
    clips : list of Clip
        The usable clips, in manifest order.
    audio : dict
        ``Clip.id`` to signal (mono float32 at :data:`SR`), shape (n_samples,).
    skipped : list of Skipped
        The rows left out, with their reasons.
    """

    root: Path
    clips: list[Clip]
    audio: dict[str, np.ndarray]
    skipped: list[Skipped]


def read_corpus_for(prog: str, root: Path | None = None) -> Corpus | None:
    """The corpus for a benchmark's command line named ``prog``, found and read in one call.

    Without ``root`` the corpus is found first (:func:`corpus_for`: when it is absent, one line
    on standard error); a benchmark that checks something else between finding the corpus and
    reading it passes the folder :func:`corpus_for` gave. Every row left out is printed on
    standard error (``skipped ID: reason``); a corpus that cannot be used prints ``PROG: error:
    ...`` on one line. None when there is no corpus to use (the caller exits 2).
    """
    if root is None:
        root = corpus_for(prog)
        if root is None:
            return None
    try:
        clips, audio, skipped = read_corpus(root)
    except CorpusError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return None
    for s in skipped:
        print(f"skipped {s.id}: {s.reason}", file=sys.stderr)
    return Corpus(root, clips, audio, skipped)


def _manifest(root: Path, include_excluded: bool) -> tuple[list[Clip], list[Skipped]]:
    """The manifest's rows as clips (``duration_s`` NaN where blank) and the rows that cannot be
    clips (no file, nothing spoken, a repeated id); the audio is not read here."""
    path = root / "manifest.tsv"
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            rows = list(reader)
            columns = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CorpusError(f"{path}: cannot be read ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CorpusError(f"{path}: no column {', '.join(repr(c) for c in missing)} (tab-separated, header row first)")
    clips: list[Clip] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for r in rows:
        file = (r.get("file") or "").strip()
        cid = (r.get("id") or "").strip() or Path(file).stem
        if cid in EXCLUDED and not include_excluded:
            continue
        if cid in seen:
            skipped.append(Skipped(cid, "id listed twice in the manifest (the first row is used)"))
            continue
        seen.add(cid)
        transcript = r.get("transcript") or ""
        n_chars = count_spoken(transcript)
        if not file or n_chars == 0:
            skipped.append(Skipped(cid or "(no id)", "no audio file named" if not file else "transcript holds nothing spoken"))
            continue
        try:
            duration = float(r.get("duration_s") or "nan")
        except ValueError:
            duration = float("nan")
        align = (r.get("alignment_file") or "").strip()
        clips.append(
            Clip(
                id=cid,
                path=root / file,
                source=(r.get("source_repo") or "").strip() or "unknown",
                transcript=transcript,
                n_chars=n_chars,
                duration_s=duration,
                alignment=root / align if align else None,
            )
        )
    return clips, skipped


def load_audio(path: Path) -> np.ndarray:
    """A clip as mono float32 at :data:`SR`, read through :func:`speechcoach.audio.load`."""
    from speechcoach.audio import load

    return load(path, sr=SR).samples


_INTERVAL = re.compile(r'xmin\s*=\s*([\d.]+)\s*xmax\s*=\s*([\d.]+)\s*text\s*=\s*"([^"]*)"')


def textgrid_words(path: Path, tier: str = "words") -> list[tuple[float, float, str]]:
    """Intervals ``(start_s, end_s, text)`` of one tier of a long-format Praat TextGrid.

    Empty intervals (silences) are kept with text ``""``.
    """
    text = path.read_text(encoding="utf-8")
    blocks = re.split(r"item\s*\[\d+\]:", text)
    for block in blocks:
        if re.search(rf'name\s*=\s*"{re.escape(tier)}"', block):
            return [(float(a), float(b), t.strip()) for a, b, t in _INTERVAL.findall(block)]
    raise ValueError(f"{path}: no tier named {tier!r}")


def machine() -> str:
    """CPU model and core count, e.g. ``AMD EPYC (2 cores)``."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} cores), Python {platform.python_version()}"


def git_commit() -> str:
    """Short commit of the repository, with ``+dirty`` when tracked files other than the
    benchmarks' own result files (:func:`uncommitted`) have changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if uncommitted() else "")


def uncommitted() -> list[str]:
    """Tracked files with uncommitted changes (what ``+dirty`` in :func:`git_commit` measured),
    leaving out the result files the benchmarks write (``benchmarks/*RESULTS.md``): a run
    changes them, and a second run must not call its own commit dirty."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    files = [line[3:] for line in out.splitlines() if line[3:]]
    return [f for f in files if not (f.startswith("benchmarks/") and f.endswith("RESULTS.md"))]


def now() -> str:
    """The current UTC time, ISO format to the minute."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
