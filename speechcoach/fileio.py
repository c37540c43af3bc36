"""Files: atomic writes (a reader never sees a half-written report) and the per-user data folder."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Parent folders are created. A symbolic link is followed, so the link stays and its target
    is replaced. A path that exists but is not a regular file (``/dev/null``, ``/dev/stdout``,
    a named pipe) is written to directly: renaming over it would replace the device itself.
    Returns the path written.
    """
    p = Path(path)
    if p.is_symlink():
        p = p.resolve()
    raw = data.encode(encoding) if isinstance(data, str) else data
    try:
        mode = p.stat().st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(p, "wb") as fh:
            fh.write(raw)
        return p
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return p


ENV_DATA = "SPEECHCOACH_DATA"
"""Environment variable naming the data folder (overrides the default)."""


def user_data_dir() -> Path:
    """speechcoach's per-user data folder: ``$SPEECHCOACH_DATA``, else ``$XDG_DATA_HOME/speechcoach``,
    else ``~/.local/share/speechcoach``. Practice attempts and the speech-recognition model live here."""
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "speechcoach"


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks; tells whether a file changed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
