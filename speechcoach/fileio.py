"""Files: atomic writes (a reader never sees a half-written report) and the per-user data folder.

:func:`write_atomic` writes every output; :func:`writable_folder` checks an output folder before
any work; :func:`user_data_dir` is where attempts and the recogniser's model live, :func:`user_cache_dir`
where cached transcripts do; :func:`file_digest` hashes a file (``batch``'s resume state).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

from .errors import OutputError, ParameterError


def write_atomic(path: str | Path, data: str | bytes, *, encoding: str = "utf-8", mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Parent folders are created. A symbolic link to a regular file is followed, so the link
    stays and its target is replaced. A path that exists but is not a regular file
    (``/dev/null``, ``/dev/stdout``, a named pipe) is written to directly: renaming over it
    would replace the device itself. The file gets ``mode`` when given (``0o600``: the
    practice server's attempts, readable by their owner only), else the permissions a plain
    ``open`` would give it (``0o666`` less the umask), or keeps those of the file it replaces.
    Returns the path written.

    Raises
    ------
    OutputError
        The file cannot be written (a folder is in the way, the folder is read-only, the disk
        is full); the message names ``path``, not the temporary file.
    """
    p = Path(path)
    raw = data.encode(encoding) if isinstance(data, str) else data
    try:
        return _write(p, raw, mode)
    except IsADirectoryError:
        raise OutputError(p, "is a folder", code="output_is_folder") from None
    except (FileExistsError, NotADirectoryError):  # a file stands where a parent folder should be
        raise OutputError(p, "cannot write file (a file is in the way of its folder)", code="cannot_write",
                          params={"reason": "a file is in the way of its folder"}) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(p, f"cannot write file ({reason})", code="cannot_write", params={"reason": reason}) from None


def _write(p: Path, raw: bytes, wanted: int | None = None) -> Path:
    try:
        mode: int | None = p.stat().st_mode  # follows a symbolic link
    except OSError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "Is a directory", str(p))
    if mode is not None and not stat.S_ISREG(mode):
        with open(p, "wb") as fh:
            fh.write(raw)
        return p
    if p.is_symlink():
        p = p.resolve()
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=TEMP_SUFFIX, dir=p.parent)
    try:
        os.chmod(tmp, wanted if wanted is not None else stat.S_IMODE(mode) if mode is not None else 0o666 & ~_UMASK)
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


TEMP_SUFFIX = ".tmp"
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
"""The name :func:`write_atomic` gives its temporary file: ``.NAME.`` plus the eight characters
:func:`tempfile.mkstemp` picks, and :data:`TEMP_SUFFIX`."""


def remove_stale_temporaries(folder: str | Path, *, recursive: bool = False) -> int:
    """Remove the temporary files a killed writer left in ``folder`` (:func:`write_atomic`'s
    ``.NAME.XXXXXXXX.tmp``; nothing else); returns how many. For a folder only this program
    writes in, before it starts writing there: another writer's file in flight would go too.
    A folder that does not exist holds none."""
    root = Path(folder)
    if not root.is_dir():
        return 0
    removed = 0
    for path in root.rglob("*.tmp") if recursive else root.glob("*.tmp"):
        if _TEMPORARY.match(path.name) and path.is_file() and not path.is_symlink():
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
    return removed


def _read_umask() -> int:
    """The process's umask (read once, at import, while nothing else runs: setting it is the
    only portable way to read it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def writable_folder(path: str | Path, *, option: str) -> Path:
    """Make sure files can be written under ``path``: create the folder if needed, write in it.

    Parameters
    ----------
    path : path-like
        An output folder (``batch --out``, ``serve --data``).
    option : str
        The option that named it, for the message (``"--out"``).

    Returns
    -------
    Path
        The folder, which now exists.

    Raises
    ------
    ParameterError
        ``path`` is a file, cannot be created, or cannot be written in; the message names the
        option, the folder and the reason.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"{option} {p}: is a file, not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"{option} {p}: cannot create the folder ({exc.strerror or type(exc).__name__})") from None
    try:
        with tempfile.TemporaryFile(dir=p, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ParameterError(f"{option} {p}: cannot write in the folder ({exc.strerror or type(exc).__name__})") from None
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


ENV_CACHE = "SPEECHCOACH_CACHE"
"""Environment variable naming the cache folder, or turning caching off (:data:`CACHE_OFF`)."""

CACHE_OFF = frozenset({"off", "0", "no", "false", "none"})
"""Values of ``$SPEECHCOACH_CACHE`` (any case) that turn every transcript cache off."""


def caching_off() -> bool:
    """Whether ``$SPEECHCOACH_CACHE`` turns caching off (``off``, ``0``, ``no``, ``false``, ``none``)."""
    return os.environ.get(ENV_CACHE, "").strip().lower() in CACHE_OFF


def user_cache_dir() -> Path | None:
    """speechcoach's per-user cache folder, or ``None`` when caching is off (:func:`caching_off`).

    ``$SPEECHCOACH_CACHE`` when it names a folder; else the platform's cache folder:
    ``$XDG_CACHE_HOME/speechcoach`` or ``~/.cache/speechcoach`` (Linux and other Unix),
    ``~/Library/Caches/speechcoach`` (macOS), ``%LOCALAPPDATA%\\speechcoach\\Cache`` (Windows).
    Only what can be made again lives here: deleting it loses nothing but time.
    """
    if caching_off():
        return None
    env = os.environ.get(ENV_CACHE, "").strip()
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "speechcoach"
    if os.name == "nt":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "speechcoach" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg).expanduser() if xdg and Path(xdg).expanduser().is_absolute() else Path.home() / ".cache"
    return base / "speechcoach"


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks; tells whether a file changed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
