"""Practice attempts stored under the data folder, one folder per attempt.

Layout (``DATA`` is the server's data folder)::

    DATA/attempts/<trainee>/<id>/<trainee>_<id>.wav   the recording (original format kept)
                                 <trainee>_<id>.txt   the script, when there was one
                                 report.json          schema speechcoach.report/1
                                 report.html          the HTML report
                                 meta.json            what the history list shows

Every file is written with :func:`speechcoach.fileio.write_atomic` into a staging folder
(``DATA/.staging``) which is then renamed into place, so a reader (the page, or a trainer
running ``speechcoach batch DATA/attempts``) never sees half an attempt. Deleting renames the
folder into ``DATA/.trash`` first and removes it there.

Recordings are personal data: files are written ``0600`` and folders ``0700`` (only their owner
reads them), and ``attempts``, ``.staging`` and ``.trash`` are made ``0700`` when the store is
opened, folders left by earlier versions included.

``<trainee>`` is :func:`trainee_folder`: the name as typed when it is already a safe, lower-case
folder name (``张三``, ``li-si``), else its safe form followed by a hash of the name
(``张-三-6f1e…``), so two different names never share a folder, even on a file system that
ignores case. Attempts stored by earlier versions, in the plain safe form (:func:`safe_trainee`),
still belong to the name that made them (``meta.json``'s ``trainee_name``).

The audio file is named ``<trainee>_<id>`` so that a batch run keyed on the file-name
prefix groups attempts by trainee; trainee folders therefore never contain ``_``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..fileio import write_atomic

ATTEMPT_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
"""What an attempt id looks like: local date, time and six random hex digits."""

MAX_TRAINEE_CHARS = 48
ANONYMOUS = "anonymous"
NAME_HASH_CHARS = 10
"""Hex digits of the name's SHA-256 after a trainee folder whose name had to be changed (40 bits:
two of a machine's trainees collide with odds of about one in a trillion)."""
_HASHED = re.compile(rf"-[0-9a-f]{{{NAME_HASH_CHARS}}}$")
FILE_MODE = 0o600
"""Permissions of every stored file: the owner reads and writes, nobody else."""
FOLDER_MODE = 0o700
"""Permissions of every stored folder: the owner only."""
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}
)


def safe_trainee(name: str | None) -> str:
    """A trainee name fit to be one folder name on any system.

    Letters (any script, so ``张三`` stays ``张三``), digits, ``-`` and ``.`` are kept; spaces and
    everything else become ``-``; no leading dot; at most :data:`MAX_TRAINEE_CHARS` characters.
    An empty result is ``"anonymous"``.

    >>> safe_trainee(" 张 三 ")
    '张-三'
    >>> safe_trainee("../../etc/passwd")
    'etc-passwd'
    """
    text = unicodedata.normalize("NFKC", name or "").strip()
    out = []
    for ch in text:
        out.append(ch if (ch.isalnum() or ch in "-.") else "-")
    cleaned = re.sub(r"-{2,}", "-", "".join(out))
    cleaned = re.sub(r"\.{2,}", ".", cleaned).strip("-.")[:MAX_TRAINEE_CHARS].strip("-.")
    if not cleaned:
        return ANONYMOUS
    if cleaned.split(".")[0].lower() in _WINDOWS_RESERVED:
        cleaned = f"{cleaned}-"
    return cleaned


def trainee_key(name: str | None) -> str:
    """The trainee a typed name stands for: NFKC, without control characters, runs of white
    space as one space, trimmed (``" 张  三 "`` and ``"张 三"`` are one trainee; ``"张-三"`` another)."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", name or "") if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())


def trainee_folder(name: str | None) -> str:
    """The one folder of a trainee's attempts; different names (:func:`trainee_key`) never share one.

    A name that is already a safe folder name (:func:`safe_trainee` leaves it as it is) in lower
    case is its own folder; any other gets its safe form, ``-`` and the first
    :data:`NAME_HASH_CHARS` hex digits of its SHA-256, so that names which clean to the same
    form, or differ only in case (one folder on macOS and Windows), stay apart. No name maps to
    ``anonymous`` (the folder of attempts without a name) but the empty one.

    >>> trainee_folder("张三"), trainee_folder("li-si")
    ('张三', 'li-si')
    >>> trainee_folder("张 三") != trainee_folder("张-三") == "张-三"
    True
    """
    key = trainee_key(name)
    if not key:
        return ANONYMOUS
    cleaned = safe_trainee(key)
    if cleaned == key and key == key.lower() and key != ANONYMOUS and not _HASHED.search(key):
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:NAME_HASH_CHARS]
    return f"{cleaned}-{digest}"


def named(name: str | None) -> bool:
    """Whether a typed trainee name names someone: it has a letter or a digit (not empty, not
    ``..`` or ``/``). Deleting and listing need one."""
    return any(ch.isalnum() for ch in trainee_key(name))


def display_name(name: str | None) -> str:
    """The trainee's name as typed, without control characters, at most 64 characters."""
    text = "".join(ch for ch in unicodedata.normalize("NFC", name or "") if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:64] or ANONYMOUS


def new_attempt_id(now: _dt.datetime | None = None) -> str:
    """A fresh, sortable attempt id such as ``20250301-142233-9f1c2a``."""
    now = now or _dt.datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def is_attempt_id(text: str) -> bool:
    """Whether ``text`` is a well-formed attempt id (nothing else reaches the file system)."""
    return bool(ATTEMPT_ID.match(text))


@dataclass(frozen=True)
class Attempt:
    """One stored attempt.

    Attributes
    ----------
    id : str
    trainee : str
        The folder name (see :func:`safe_trainee`).
    folder : Path
    meta : dict
        The contents of ``meta.json``.
    """

    id: str
    trainee: str
    folder: Path
    meta: dict[str, Any]

    @property
    def audio_path(self) -> Path:
        """The recording's file."""
        return self.folder / str(self.meta["audio"])

    @property
    def report_path(self) -> Path:
        return self.folder / "report.json"

    @property
    def html_path(self) -> Path:
        return self.folder / "report.html"

    def report(self) -> dict[str, Any]:
        """The stored JSON report."""
        return json.loads(self.report_path.read_text(encoding="utf-8"))


class AttemptStore:
    """Attempts under ``data_dir/attempts``.

    Parameters
    ----------
    data_dir : path-like
        The server's data folder; created when the first attempt is saved.
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "attempts"
        self.staging = self.data_dir / ".staging"
        self.trash = self.data_dir / ".trash"
        for folder in (self.root, self.staging, self.trash):  # earlier versions made them 0755
            if folder.is_dir():
                _private(folder)

    def owns(self, attempt: Attempt, name: str | None) -> bool:
        """Whether ``attempt`` is one of the trainee ``name``'s: it lies in the name's folder
        (:func:`trainee_folder`), or in the plain safe form earlier versions used, and its
        ``meta.json`` was written for that name (``trainee_key``, or for an attempt stored by an
        earlier version ``trainee_name``)."""
        if attempt.trainee not in self._folder_names(name):
            return False
        key = attempt.meta.get("trainee_key")
        if key is not None:
            return str(key) == trainee_key(name)
        stored = attempt.meta.get("trainee_name")  # stored by an earlier version
        if stored is None:  # no name recorded: only the name's own folder vouches for it
            return attempt.trainee == trainee_folder(name)
        return str(stored) == display_name(name)

    @staticmethod
    def _folder_names(name: str | None) -> list[str]:
        own, legacy = trainee_folder(name), safe_trainee(trainee_key(name))
        return [own] if legacy == own else [own, legacy]

    # -- writing ---------------------------------------------------------------------------

    def stage(self, attempt_id: str) -> Path:
        """A fresh private folder in which an upload is received before it becomes an attempt."""
        if not is_attempt_id(attempt_id):
            raise ValueError(f"bad attempt id {attempt_id!r}")
        _mkdir_private(self.staging)
        folder = self.staging / attempt_id
        folder.mkdir(mode=FOLDER_MODE, exist_ok=False)
        return folder

    def discard(self, staged: Path) -> None:
        """Remove a staging folder (the upload was refused)."""
        shutil.rmtree(staged, ignore_errors=True)

    def commit(
        self,
        staged: Path,
        *,
        trainee: str,
        audio_name: str,
        report: dict[str, Any],
        html: str,
        meta: dict[str, Any],
        script: str | None = None,
    ) -> Attempt:
        """Write the report files into ``staged`` and move the folder into place.

        ``staged`` (from :meth:`stage`) must already hold the recording as ``audio_name``;
        ``trainee`` is the folder (:func:`trainee_folder`).
        """
        attempt_id = staged.name
        folder_name = trainee
        stem = Path(audio_name).stem
        if script is not None:
            write_atomic(staged / f"{stem}.txt", script, mode=FILE_MODE)
        write_atomic(staged / "report.json", json.dumps(report, ensure_ascii=False, indent=2) + "\n", mode=FILE_MODE)
        write_atomic(staged / "report.html", html, mode=FILE_MODE)
        full_meta = {**meta, "id": attempt_id, "trainee": folder_name, "audio": audio_name, "saved_at": time.time()}
        write_atomic(staged / "meta.json", json.dumps(full_meta, ensure_ascii=False, indent=2) + "\n", mode=FILE_MODE)
        _mkdir_private(self.root)
        parent = self.root / folder_name
        _mkdir_private(parent)
        final = parent / attempt_id
        os.replace(staged, final)
        return Attempt(attempt_id, folder_name, final, full_meta)

    # -- reading ---------------------------------------------------------------------------

    def get(self, attempt_id: str) -> Attempt | None:
        """The attempt with this id, or ``None``."""
        if not is_attempt_id(attempt_id) or not self.root.is_dir():
            return None
        for folder in self.root.glob(f"*/{attempt_id}"):
            attempt = self._load(folder)
            if attempt is not None:
                return attempt
        return None

    def list(self, trainee: str | None) -> list[Attempt]:
        """A trainee's attempts (:meth:`owns`; everyone's when ``trainee`` is ``None``), oldest first."""
        if not self.root.is_dir():
            return []
        if trainee is None:
            found = [a for p in sorted(self.root.iterdir()) if p.is_dir() for a in self._iter(p)]
        else:
            parents = [self.root / f for f in self._folder_names(trainee)]
            found = [a for p in parents if p.is_dir() for a in self._iter(p) if self.owns(a, trainee)]
        return sorted(found, key=lambda a: (float(a.meta.get("saved_at", 0.0)), str(a.meta.get("created", "")), a.id))

    def _iter(self, parent: Path) -> Iterator[Attempt]:
        for folder in sorted(parent.iterdir()):
            if folder.is_dir() and is_attempt_id(folder.name):
                attempt = self._load(folder)
                if attempt is not None:
                    yield attempt

    @staticmethod
    def _load(folder: Path) -> Attempt | None:
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Attempt(folder.name, folder.parent.name, folder, meta)

    # -- deleting --------------------------------------------------------------------------

    def delete(self, attempt_id: str, trainee: str | None) -> bool:
        """Remove one of ``trainee``'s attempts (:meth:`owns`), recording included. ``False`` when
        there is no such attempt, or it is someone else's."""
        attempt = self.get(attempt_id)
        if attempt is None or not self.owns(attempt, trainee):
            return False
        self._remove(attempt.folder)
        self._drop_if_empty(attempt.folder.parent)
        return True

    def delete_trainee(self, trainee: str) -> int:
        """Remove every attempt of one trainee (:meth:`owns`); returns how many there were."""
        mine = self.list(trainee)
        for attempt in mine:
            self._remove(attempt.folder)
        for name in self._folder_names(trainee):
            self._drop_if_empty(self.root / name)
        return len(mine)

    def _remove(self, folder: Path) -> None:
        _mkdir_private(self.trash)
        doomed = self.trash / f"{folder.name}-{secrets.token_hex(4)}"
        os.replace(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def _drop_if_empty(self, folder: Path) -> None:
        """Remove a trainee's folder once it holds nothing."""
        try:
            folder.rmdir()
        except OSError:  # not empty, or gone already
            pass


def _private(folder: Path) -> None:
    """Make an existing folder the owner's only (:data:`FOLDER_MODE`), where the owner may."""
    try:
        os.chmod(folder, FOLDER_MODE)
    except OSError:
        pass


def _mkdir_private(folder: Path) -> None:
    """Create ``folder`` (and its missing parents) readable by its owner only."""
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=FOLDER_MODE)
    except FileExistsError:
        pass
    _private(folder)
