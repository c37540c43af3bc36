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
from dataclasses import dataclass
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


def load_clips(root: Path, *, include_excluded: bool = False) -> list[Clip]:
    """The manifest's clips in file order.

    Parameters
    ----------
    root : Path
        The corpus folder (from :func:`corpus_dir`).
    include_excluded : bool, keyword-only
        Keep the clips listed in :data:`EXCLUDED`.

    Returns
    -------
    list of Clip
    """
    with open(root / "manifest.tsv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    clips = []
    for r in rows:
        if r["id"] in EXCLUDED and not include_excluded:
            continue
        align = r.get("alignment_file") or ""
        clips.append(
            Clip(
                id=r["id"],
                path=root / r["file"],
                source=r["source_repo"],
                transcript=r["transcript"],
                n_chars=count_spoken(r["transcript"]),
                duration_s=float(r["duration_s"]),
                alignment=root / align if align else None,
            )
        )
    return clips


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
