"""Which recordings a batch is made of: expanding inputs, pairing scripts, naming trainees and reports.

:func:`discover` expands what the user typed (files, folders searched recursively, glob patterns)
into audio files, with an :class:`InputProblem` for each input that matched nothing;
:func:`plan` pairs each file with its script (:func:`find_script`) and trainee
(:func:`trainee_of`) into a :class:`Recording`, identified by :func:`recording_id`;
:func:`assign_report_names` gives each recording a unique ``reports/<trainee>/<name>`` path.

Used by :mod:`speechcoach.app.batch` and by ``speechcoach check``. Nothing here reads audio or
writes files.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


@dataclass(frozen=True)
class Recording:
    """One recording to analyse.

    Attributes
    ----------
    path : Path
        The audio file, as discovered from the user's input (shown in summaries).
    script : Path or None
        Its script (``NAME.txt``), if one was found.
    trainee : str
        Whose recording it is (folder-safe).
    id : str
        Stable identifier derived from the absolute path (names the state file).
    """

    path: Path
    script: Path | None
    trainee: str
    id: str

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class InputProblem:
    """A command-line input that yielded nothing (missing file, empty folder, unmatched glob).

    ``problem`` is English; ``code`` names its template in the ``[errors]`` table of the locales.
    """

    input: str
    problem: str
    code: str | None = None


def _is_hidden(p: Path) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in p.parts)


def _audio_suffixes() -> frozenset[str]:
    from ..audio import AUDIO_SUFFIXES

    return AUDIO_SUFFIXES


def _walk(folder: Path) -> list[Path]:
    sfx = _audio_suffixes()
    found = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        # a broken link is kept: its row says so, instead of the recording vanishing from the batch
        if p.suffix.lower() in sfx and not _is_hidden(rel) and (p.is_file() or (p.is_symlink() and not p.exists())):
            found.append(p)
    return found


def discover(inputs: Sequence[str | Path]) -> tuple[list[Path], list[InputProblem]]:
    """Expand files, folders (recursively) and glob patterns into audio files.

    Parameters
    ----------
    inputs : sequence of str or Path
        As typed by the user. Patterns (``*``, ``?``, ``[…]``, ``**``) are expanded here, so
        quoted globs work. Folders and glob matches keep only audio suffixes
        (:data:`speechcoach.audio.AUDIO_SUFFIXES`); hidden files and folders are ignored.
        A file named explicitly is taken whatever its suffix.

    Returns
    -------
    files : list of Path
        Unique (by absolute path), sorted by path.
    problems : list of InputProblem
        Inputs that matched nothing.
    """
    sfx = _audio_suffixes()
    seen: dict[str, Path] = {}
    problems: list[InputProblem] = []

    def add(p: Path) -> None:
        seen.setdefault(os.path.abspath(p), p)

    for raw in inputs:
        text = str(raw)
        p = Path(text)
        if p.is_dir():
            found = _walk(p)
            if not found:
                problems.append(InputProblem(text, "folder holds no recordings", code="no_recordings_in_folder"))
            for f in found:
                add(f)
        elif p.exists() or p.is_symlink():  # a broken link: loading names the problem
            add(p)
        elif glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            n = 0
            for m in matches:
                if m.is_dir():
                    for f in _walk(m):
                        add(f)
                        n += 1
                elif m.suffix.lower() in sfx and (m.is_file() or (m.is_symlink() and not m.exists())):
                    add(m)
                    n += 1
            if n == 0:
                problems.append(InputProblem(text, "no recordings match this pattern", code="no_match"))
        else:
            problems.append(InputProblem(text, "file not found", code="file_not_found"))
    return sorted(seen.values(), key=lambda q: str(q)), problems


def find_script(audio: Path, scripts_dir: Path | None = None) -> Path | None:
    """The script paired with ``audio`` by file stem.

    ``scripts_dir/NAME.txt`` is preferred when ``scripts_dir`` is given, then ``NAME.txt``
    beside the recording. Returns ``None`` when neither exists (the characters are then
    estimated from the sound). ``batch``, ``check`` and ``analyze`` pair scripts by this rule.
    """
    candidates = []
    if scripts_dir is not None:
        candidates.append(scripts_dir / f"{audio.stem}.txt")
    candidates.append(audio.with_suffix(".txt"))
    for c in candidates:
        if c.is_file() and c != audio:  # a recording named NAME.txt is not its own script
            return c
    return None


def safe_name(name: str) -> str:
    """``name`` made safe as one folder or file name component."""
    s = _UNSAFE.sub("_", name).strip().lstrip(".")
    return s or "_"


def trainee_of(audio: Path, mode: str = "parent") -> str:
    """Who made the recording.

    Parameters
    ----------
    audio : Path
    mode : {"parent", "stem-prefix"}
        ``"parent"``: the name of the folder holding the file. ``"stem-prefix"``: the part of
        the file stem before the first ``_`` or ``-`` (the whole stem if it has neither).
    """
    if mode == "stem-prefix":
        head = re.split(r"[_-]", audio.stem, maxsplit=1)[0]
        return safe_name(head or audio.stem)
    return safe_name(Path(os.path.abspath(audio)).parent.name)


def recording_id(audio: Path) -> str:
    """Stable id of a recording: a hash of its absolute path."""
    return hashlib.sha256(os.path.abspath(audio).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def plan(files: Iterable[Path], *, scripts_dir: Path | None = None, trainee_mode: str = "parent") -> list[Recording]:
    """Pair each audio file with its script and trainee."""
    return [
        Recording(path=f, script=find_script(f, scripts_dir), trainee=trainee_of(f, trainee_mode), id=recording_id(f))
        for f in files
    ]


def assign_report_names(recordings: Sequence[Recording], previous: dict[str, str] | None = None) -> dict[str, str]:
    """Give each recording a report path stem ``reports/<trainee>/<name>`` (no suffix), unique.

    A recording keeps the name it had in an earlier run (``previous``: id → name) when that
    name is still free; otherwise the stem is used, and identical stems of one trainee are told
    apart by ``~<suffix>`` (``talk.wav`` vs ``talk.mp3``) or a short hash of the folder.
    """
    previous = previous or {}
    out: dict[str, str] = {}
    taken: set[str] = set()
    for r in recordings:
        old = previous.get(r.id)
        if old and old.lower() not in taken and old.startswith(f"reports/{r.trainee}/"):
            out[r.id] = old
            taken.add(old.lower())
    groups: dict[str, list[Recording]] = {}
    for r in recordings:
        if r.id not in out:
            groups.setdefault(f"reports/{r.trainee}/{safe_name(r.stem)}".lower(), []).append(r)
    for group in groups.values():
        for r in group:
            base = f"reports/{r.trainee}/{safe_name(r.stem)}"
            name = base
            if len(group) > 1 or name.lower() in taken:
                name = f"{base}~{r.path.suffix.lstrip('.').lower() or 'audio'}"
                if name.lower() in taken or sum(q.path.suffix.lower() == r.path.suffix.lower() for q in group) > 1:
                    name = f"{base}~{hashlib.sha256(os.path.abspath(r.path.parent).encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
                k = 2
                while name.lower() in taken:
                    name = f"{base}~{k}"
                    k += 1
            out[r.id] = name
            taken.add(name.lower())
    return out
