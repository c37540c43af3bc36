"""Reading audio files: the only module that opens audio.

:func:`load` turns any supported file into a mono ``float32`` signal at the analysis rate
(16 kHz) and refuses unusable input with an :class:`~speechcoach.errors.AudioError` whose
message names the file and the problem.

WAV, FLAC, OGG and MP3 are read by libsndfile (``soundfile``); phone and browser containers
(m4a, aac, amr, webm, …) are decoded through librosa's audioread fallback, which needs
``ffmpeg`` on the machine.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AudioError

ANALYSIS_SR = 16_000
"""Every signal is analysed at this rate (Hz)."""

MIN_SOURCE_SR = 8_000
"""Files sampled below this rate (Hz) are refused: speech above 4 kHz would be missing."""

SOUNDFILE_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif"})
FFMPEG_SUFFIXES = frozenset({".m4a", ".mp4", ".aac", ".amr", ".3gp", ".webm", ".opus", ".wma", ".mka"})
AUDIO_SUFFIXES = SOUNDFILE_SUFFIXES | FFMPEG_SUFFIXES

CLIP_LEVEL = 0.999
"""Samples at or above this absolute value (full scale = 1) count as clipped."""


@dataclass(frozen=True)
class Audio:
    """A decoded recording.

    Attributes
    ----------
    path : str
        The file it came from.
    samples : np.ndarray, shape (n,), float32
        Mono signal at :data:`ANALYSIS_SR`, full scale ±1.
    sr : int
        Sample rate of ``samples`` in Hz (always :data:`ANALYSIS_SR`).
    source_sr : int
        The file's own sample rate in Hz.
    channels : int
        The file's channel count (the channels are averaged).
    duration_s : float
        Length of the file in seconds.
    clipped_fraction : float
        Share of the file's samples at full scale (0..1).
    peak_dbfs : float
        Highest absolute sample, in dB relative to full scale.
    """

    path: str
    samples: np.ndarray
    sr: int
    source_sr: int
    channels: int
    duration_s: float
    clipped_fraction: float
    peak_dbfs: float


def load(path: str | Path, *, sr: int = ANALYSIS_SR) -> Audio:
    """Read an audio file as a mono signal at ``sr``.

    Parameters
    ----------
    path : path-like
        The recording.
    sr : int, keyword-only
        Target sample rate in Hz.

    Returns
    -------
    Audio

    Raises
    ------
    AudioError
        Missing file, a directory, an empty or truncated file, something that is not audio,
        a container that needs ffmpeg when ffmpeg is absent, a sample rate under 8 kHz,
        or NaN/infinite samples.
    """
    p = Path(path)
    if not p.exists():
        raise AudioError(p, "file not found", code="file_not_found")
    if p.is_dir():
        raise AudioError(p, "is a folder, not an audio file", code="is_folder")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise AudioError(p, f"cannot read file ({exc.strerror})", code="cannot_read", params={"reason": str(exc.strerror)}) from None
    if size == 0:
        raise AudioError(p, "file is empty (0 bytes)", code="empty_file")

    suffix = p.suffix.lower()
    if suffix in FFMPEG_SUFFIXES:
        data, source_sr = _read_with_ffmpeg(p)
    else:
        data, source_sr = _read_with_soundfile(p)

    if data.ndim == 1:
        data = data[:, None]
    n_frames, channels = data.shape
    if n_frames == 0:
        raise AudioError(p, "holds no audio samples (empty or truncated file)", code="no_samples")
    if source_sr < MIN_SOURCE_SR:
        raise AudioError(
            p,
            f"sample rate {source_sr} Hz is too low (at least {MIN_SOURCE_SR} Hz needed)",
            code="sample_rate_too_low",
            params={"rate": int(source_sr), "min_rate": MIN_SOURCE_SR},
        )
    # one pass each, no temporary |data| array (a 10-minute file is 10 M samples)
    hi, lo = float(np.max(data)), float(np.min(data))
    if not (np.isfinite(hi) and np.isfinite(lo)):  # NaN propagates through max/min; inf shows in them
        raise AudioError(p, "contains NaN or infinite samples (corrupt file)", code="corrupt_samples")
    peak = max(hi, -lo)
    clipped = float(np.mean(np.abs(data) >= CLIP_LEVEL)) if peak >= CLIP_LEVEL else 0.0
    if channels == 1:
        mono = np.ascontiguousarray(data[:, 0], dtype=np.float32)
    else:
        mono = data.mean(axis=1, dtype=np.float64).astype(np.float32)
    samples = resample(mono, source_sr, sr)
    return Audio(
        path=str(p),
        samples=samples,
        sr=sr,
        source_sr=int(source_sr),
        channels=int(channels),
        duration_s=n_frames / float(source_sr),
        clipped_fraction=clipped,
        peak_dbfs=float(20.0 * np.log10(max(peak, 1e-10))),
    )


def resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample a mono signal with soxr (high quality, linear time).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    sr_in, sr_out : int
        Rates in Hz.

    Returns
    -------
    np.ndarray, shape (round(n * sr_out / sr_in),), float32
    """
    if sr_in == sr_out:
        return np.ascontiguousarray(y, dtype=np.float32)
    import soxr

    return soxr.resample(y.astype(np.float32, copy=False), sr_in, sr_out, quality="HQ").astype(np.float32, copy=False)


def ffmpeg_available() -> bool:
    """Whether an ``ffmpeg`` executable is on the PATH."""
    return shutil.which("ffmpeg") is not None


def _read_with_soundfile(p: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    try:
        data, source_sr = sf.read(str(p), dtype="float32", always_2d=True)
    except sf.LibsndfileError:
        raise _soundfile_error(p) from None
    except (RuntimeError, ValueError, OSError) as exc:
        raise AudioError(p, f"cannot decode audio ({_short(exc)})", code="cannot_decode", params={"detail": _short(exc)}) from None
    return data, int(source_sr)


def _soundfile_error(p: Path) -> AudioError:
    """The error for a file libsndfile refused: truncated audio, text, or an unknown format."""
    head = p.read_bytes()[:12]
    looks_like_audio = head[:4] in (b"RIFF", b"RF64", b"fLaC", b"OggS", b"FORM") or head[:3] == b"ID3"
    if looks_like_audio:
        return AudioError(p, "truncated or corrupt audio file (the header cannot be read)", code="truncated")
    if _looks_like_text(head):
        return AudioError(p, "not an audio file (it contains text)", code="not_audio_text")
    return AudioError(p, "not an audio file (format not recognised)", code="not_audio")


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(b >= 0x20 or b in (0x09, 0x0A, 0x0D) for b in head)


def _read_with_ffmpeg(p: Path) -> tuple[np.ndarray, int]:
    if not ffmpeg_available():
        raise AudioError(
            p,
            f"{p.suffix.lower()} files need ffmpeg, which is not installed (install ffmpeg or convert to WAV)",
            code="needs_ffmpeg",
            params={"suffix": p.suffix.lower()},
        )
    import librosa

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data, source_sr = librosa.load(str(p), sr=None, mono=False)
    except Exception as exc:  # audioread raises many unrelated types
        raise AudioError(p, f"cannot decode audio with ffmpeg ({_short(exc)})", code="ffmpeg_failed", params={"detail": _short(exc)}) from None
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        data = data.T  # librosa gives (channels, n)
    return data, int(source_sr)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
