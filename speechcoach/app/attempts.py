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

The audio file is named ``<trainee>_<id>`` so that a batch run keyed on the file-name
prefix groups attempts by trainee; trainee names therefore never contain ``_``.
"""

from __future__ import annotations

import datetime as _dt
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

    # -- writing ---------------------------------------------------------------------------

    def stage(self, attempt_id: str) -> Path:
        """A fresh private folder in which an upload is received before it becomes an attempt."""
        if not is_attempt_id(attempt_id):
            raise ValueError(f"bad attempt id {attempt_id!r}")
        folder = self.staging / attempt_id
        folder.mkdir(parents=True, exist_ok=False)
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

        ``staged`` (from :meth:`stage`) must already hold the recording as ``audio_name``.
        """
        attempt_id = staged.name
        folder_name = safe_trainee(trainee)
        stem = Path(audio_name).stem
        if script is not None:
            write_atomic(staged / f"{stem}.txt", script)
        write_atomic(staged / "report.json", json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        write_atomic(staged / "report.html", html)
        full_meta = {**meta, "id": attempt_id, "trainee": folder_name, "audio": audio_name, "saved_at": time.time()}
        write_atomic(staged / "meta.json", json.dumps(full_meta, ensure_ascii=False, indent=2) + "\n")
        parent = self.root / folder_name
        parent.mkdir(parents=True, exist_ok=True)
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
        """A trainee's attempts (everyone's when ``trainee`` is ``None``), oldest first."""
        if not self.root.is_dir():
            return []
        parents = [self.root / safe_trainee(trainee)] if trainee is not None else sorted(self.root.iterdir())
        found = [a for p in parents if p.is_dir() for a in self._iter(p)]
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

    def delete(self, attempt_id: str) -> bool:
        """Remove one attempt, recording included. ``False`` when there is no such attempt."""
        attempt = self.get(attempt_id)
        if attempt is None:
            return False
        self._remove(attempt.folder)
        return True

    def delete_trainee(self, trainee: str) -> int:
        """Remove every attempt of one trainee; returns how many there were."""
        parent = self.root / safe_trainee(trainee)
        if not parent.is_dir():
            return 0
        count = sum(1 for _ in self._iter(parent))
        self._remove(parent)
        return count

    def _remove(self, folder: Path) -> None:
        self.trash.mkdir(parents=True, exist_ok=True)
        doomed = self.trash / f"{folder.name}-{secrets.token_hex(4)}"
        os.replace(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
