"""Reading audio files: the only module that opens audio.

:func:`load` turns any supported file into a mono ``float32`` signal at the analysis rate
(16 kHz) and refuses unusable input with an :class:`~speechcoach.errors.AudioError` whose
message names the file and the problem.

WAV, FLAC, OGG and MP3 are read by libsndfile (``soundfile``); phone and browser containers
(m4a, aac, amr, webm, …) are decoded through librosa's audioread fallback, which needs
``ffmpeg`` on the machine; so is a file whose first bytes are such a container's whatever its
name (an m4a renamed ``.wav``).

Channels are averaged into one; where that would cancel them (speech in opposite phase on two
channels) the loudest channel is used alone (:func:`downmix`). A DC offset is removed.

A WAV or MP3 file holding less audio than its own header announces (a copy or upload cut
short) is refused as truncated rather than analysed as if it were the whole recording; a WAV
whose data size is a streaming writer's placeholder (0, 0xFFFFFFFF, …) is read as far as it
goes.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import shutil
import struct
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

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

DC_OFFSET_MIN = 1e-3
"""A mean sample value (DC offset) at least this far from 0 (full scale 1: -60 dBFS, 33 steps of
16-bit audio) is subtracted. A large one leaks into the band energy of silences and moved the
speech runs (an offset of 0.45: 20 ms, the sample's estimate 122 -> 130 cpm). Smaller ones are
left alone: they cannot matter, and the recogniser's text changes with any change of the samples
(subtracting offsets of 1e-5 changed 5 of 52 corpus clips' counts by 1-7 characters)."""

CANCEL_SHARE = 0.1
"""A multichannel file whose channel average keeps less power than this share of the channels'
mean power (channels in opposite phase cancel) is analysed from its loudest channel alone
(:func:`downmix`). Identical channels keep 1, one silent channel 0.5, unrelated channels about
0.5, exactly inverted ones 0."""


@dataclass(frozen=True)
class Audio:
    """A decoded recording.

    Attributes
    ----------
    path : str
        The file it came from.
    samples : np.ndarray, shape (n,), float32
        Mono signal at :data:`ANALYSIS_SR`, full scale ±1, its DC offset removed (from
        :data:`DC_OFFSET_MIN`).
    sr : int
        Sample rate of ``samples`` in Hz (always :data:`ANALYSIS_SR`).
    source_sr : int
        The file's own sample rate in Hz.
    channels : int
        The file's channel count (averaged into one, or the loudest alone where averaging
        cancels them: :func:`downmix`).
    duration_s : float
        Length of the file in seconds.
    clipped_fraction : float
        Share of the file's samples at full scale (0..1).
    peak_dbfs : float
        Highest absolute sample, in dB relative to full scale.
    channel_used : int or None
        The channel (0-based) analysed alone because averaging the channels cancelled them
        (opposite phase, :func:`downmix`); ``None`` when they were averaged, or for a mono file.
    """

    path: str
    samples: np.ndarray
    sr: int
    source_sr: int
    channels: int
    duration_s: float
    clipped_fraction: float
    peak_dbfs: float
    channel_used: int | None = None


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
        Missing file (or a broken link), a directory, an empty or truncated file (a WAV, or an MP3 with a
        Xing/Info header, shorter than its header says: ``code="truncated_audio"``),
        something that is not audio, a container that needs ffmpeg when ffmpeg is absent,
        a sample rate under 8 kHz, or NaN/infinite samples.
    """
    p = Path(path)
    if not p.exists():
        raise missing_file_error(p)
    if p.is_dir():
        raise AudioError(p, "is a folder, not an audio file (speechcoach batch analyses a folder)", code="is_folder")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise AudioError(p, f"cannot read file ({exc.strerror})", code="cannot_read", params={"reason": str(exc.strerror)}) from None
    if size == 0:
        raise AudioError(p, "file is empty (0 bytes)", code="empty_file")

    try:
        head = _head(p, HEADER_BYTES)
    except OSError:
        head = b""  # the decoder names the problem
    container = ffmpeg_container(head)  # a phone's m4a renamed .wav is still an m4a
    unbounded = False  # a float file, whose samples may go past ±1 without clipping
    if p.suffix.lower() in FFMPEG_SUFFIXES or container is not None:
        data, source_sr = _read_with_ffmpeg(p, container if p.suffix.lower() not in FFMPEG_SUFFIXES else None)
    else:
        wav = _wav_data(head, size)  # read once: for the truncation check and the reader
        _check_not_truncated(p, head, size, wav)
        data, source_sr, unbounded = _read_with_soundfile(p, wav, quiet=not head.startswith(SNDFILE_SIGNATURES))

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
    # full scale is ±1, except in a float file that goes past it: nothing clipped it there, so
    # only samples flat at its own peak count
    rail = max(peak, 1.0) if unbounded else 1.0
    clipped = float(np.mean(np.abs(data) >= CLIP_LEVEL * rail)) if peak >= CLIP_LEVEL * rail else 0.0
    mono, channel_used = downmix(data)
    del data
    samples = resample(remove_dc(mono), source_sr, sr)
    return Audio(
        path=str(p),
        samples=samples,
        sr=sr,
        source_sr=int(source_sr),
        channels=int(channels),
        duration_s=n_frames / float(source_sr),
        clipped_fraction=clipped,
        peak_dbfs=float(20.0 * np.log10(max(peak, 1e-10))),
        channel_used=channel_used,
    )


def remove_dc(mono: np.ndarray) -> np.ndarray:
    """``mono`` without its DC offset, when that is at least :data:`DC_OFFSET_MIN`.

    A DC offset (a cheap sound card's) is no sound, but it raises every frame's energy alike
    and so flattens the envelope. Smaller offsets are left alone, so an ordinary file reads bit
    for bit as it is.

    Parameters
    ----------
    mono : np.ndarray, shape (n,), float32
        Left as it is.

    Returns
    -------
    np.ndarray, shape (n,), float32
        ``mono`` itself when its offset is negligible, else a new array.
    """
    offset = float(np.mean(mono, dtype=np.float64)) if mono.size else 0.0
    if abs(offset) < DC_OFFSET_MIN:
        return mono
    return mono - np.float32(offset)


def missing_file_error(p: Path) -> AudioError:
    """The error for a path with no file behind it: "file not found", or for a symbolic link
    whose target was moved or deleted, "is a broken link" naming the target."""
    if p.is_symlink():
        target = os.readlink(p)
        return AudioError(p, f"is a broken link: its target {target} does not exist", code="broken_link", params={"target": target})
    return AudioError(p, "file not found", code="file_not_found")


def downmix(data: np.ndarray) -> tuple[np.ndarray, int | None]:
    """One channel of speech from a file's channels: their average, unless that cancels them.

    Averaging is right for the usual files (the same speech on every channel, or speech on
    one and silence or noise on the others: the level drops, which the analysis does not
    mind). It is wrong when the channels hold the speech in opposite phase (a microphone wired
    with one leg inverted, a stereo track with one channel flipped): the average is silence.
    So when the average keeps less than :data:`CANCEL_SHARE` of the channels' mean power
    (DC left out), the loudest channel is analysed alone.

    Parameters
    ----------
    data : np.ndarray, shape (n, channels), float32
        The file's samples, full scale ±1. May be returned (as a view) or overwritten.

    Returns
    -------
    mono : np.ndarray, shape (n,), float32
        May be a view of ``data``.
    channel_used : int or None
        The channel (0-based) analysed alone, or ``None`` when the channels were averaged.
    """
    channels = data.shape[1]
    if channels == 1:
        return np.ascontiguousarray(data[:, 0], dtype=np.float32), None
    mono = np.add.reduce(data, axis=1, dtype=np.float32)  # a few channels: float32 is exact enough, and no float64 copy
    mono *= np.float32(1.0 / channels)
    power = np.array([_ac_power(data[:, c]) for c in range(channels)])
    if _ac_power(mono) >= CANCEL_SHARE * float(np.mean(power)):
        return mono, None
    loudest = int(np.argmax(power))
    return np.ascontiguousarray(data[:, loudest], dtype=np.float32), loudest


def _ac_power(x: np.ndarray) -> float:
    """Mean power of ``x`` around its mean (its variance), in full-scale units squared."""
    if len(x) == 0:
        return 0.0
    m = float(np.mean(x, dtype=np.float64))
    return max(float(np.dot(x, x)) / len(x) - m * m, 0.0)


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


def _read_with_soundfile(p: Path, wav: _WavData | None, *, quiet: bool = False) -> tuple[np.ndarray, int, bool]:
    """Samples (n, channels), the sample rate (Hz) and whether they are floating point (may
    exceed ±1). ``quiet``: silence what the decoders print on the process's stderr (libmpg123
    reports every file it fails to find an MP3 frame in on its own line)."""
    import soundfile as sf

    try:
        source: str | io.BytesIO = _with_known_length(p, wav) or str(p)
        with _native_stderr_silenced() if quiet else contextlib.nullcontext(), sf.SoundFile(source) as f:
            unbounded = f.subtype in ("FLOAT", "DOUBLE")
            source_sr = f.samplerate
            data = f.read(dtype="float32", always_2d=True)
    except sf.LibsndfileError:
        raise _soundfile_error(p) from None
    except (RuntimeError, ValueError, OSError) as exc:
        raise AudioError(p, f"cannot decode audio ({_short(exc)})", code="cannot_decode", params={"detail": _short(exc)}) from None
    return data, int(source_sr), unbounded


SNDFILE_SIGNATURES = (b"RIFF", b"RF64", b"RIFX", b"FORM", b"fLaC", b"OggS", b"riff", b".snd", b"caff")
"""How the files libsndfile reads by their header begin (WAV, RF64, AIFF, FLAC, OGG, W64, AU,
CAF). A file beginning otherwise is an MP3 or not audio; libmpg123 prints on stderr while it
looks, so its reading is silenced (:func:`_native_stderr_silenced`)."""

_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at the null device while a C library may print there.

    Process-wide (a lock keeps two threads from swapping it at once); used only around reading
    a file that is no WAV/FLAC/OGG/AIFF, for the fraction of a second that takes.
    """
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no stderr at all: nothing to silence
            yield
            return
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 2)
            finally:
                os.close(null)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _with_known_length(p: Path, wav: _WavData | None) -> io.BytesIO | None:
    """A plain WAV whose data size is 0 (a recorder that never came back to fill it in) with
    sample bytes after it, as an in-memory copy whose header counts those bytes (libsndfile
    would read 0 frames); ``None`` for every other file. ``wav``: its :func:`_wav_data`."""
    if wav is None or wav.rf64 or wav.declared != 0 or wav.block_align <= 0 or wav.present < wav.block_align:
        return None
    raw = bytearray(p.read_bytes())
    present = wav.present - wav.present % wav.block_align
    raw[wav.size_field : wav.size_field + 4] = present.to_bytes(4, "little")
    raw[4:8] = min(wav.offset + present - 8, 0xFFFF_FFFF).to_bytes(4, "little")
    return io.BytesIO(bytes(raw))


def _soundfile_error(p: Path) -> AudioError:
    """The error for a file libsndfile refused: truncated audio, text, or an unknown format."""
    head = _head(p, 12)
    looks_like_audio = head[:4] in (b"RIFF", b"RF64", b"fLaC", b"OggS", b"FORM") or head[:3] == b"ID3"
    if looks_like_audio:
        return AudioError(p, "truncated or corrupt audio file (the header cannot be read)", code="truncated")
    if _looks_like_text(head):
        return AudioError(p, "not an audio file (it contains text)", code="not_audio_text")
    return AudioError(p, "not an audio file (format not recognised)", code="not_audio")


def _looks_like_text(head: bytes) -> bool:
    """Whether a file's first bytes are UTF-8 text (a character cut off at the end is allowed)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return all(b >= 0x20 or b in (0x09, 0x0A, 0x0D) for b in head)


def _head(p: Path, n: int) -> bytes:
    """The first ``n`` bytes of a file (fewer if it is shorter)."""
    with p.open("rb") as fh:
        return fh.read(n)


# -- truncation: the header's length against the bytes present -------------------------------

WAV_UNKNOWN_SIZE = 0x7FFF_F000
"""A WAV data-chunk size at or above this (or 0) is a placeholder written by a streaming tool
that could not seek back to fill in the length (0xFFFFFFFF, 0x7FFFFFFF, SoX's 0x7FFFF000): the
length is unknown, so the file is read as far as it goes."""

MP3_TRUNCATED_SHARE = 0.99
"""An MP3 whose Xing/Info header announces more bytes than are present by more than 1 % (the
margin mpg123 itself warns at) counts as truncated."""


def _check_not_truncated(p: Path, head: bytes, size: int, wav: _WavData | None) -> None:
    """Refuse a WAV or MP3 file that holds less audio than its own header announces.

    ``head`` is the file's first :data:`HEADER_BYTES` bytes, ``size`` its length in bytes and
    ``wav`` :func:`_wav_data` of them.

    Raises
    ------
    AudioError
        ``code="truncated_audio"``, naming the length the header announces and the length present.
    """
    lengths = wav.truncated() if wav is not None else _mp3_lengths(head, size) if _is_mpeg(p) else None
    if lengths is not None:
        header_s, present_s = lengths
        raise AudioError(
            p,
            f"the file is truncated: its header says {header_s:.1f} s, only {present_s:.1f} s present",
            code="truncated_audio",
            params={"header_s": round(header_s, 3), "present_s": round(present_s, 3)},
        )


HEADER_BYTES = 1 << 16
"""How much of a file is searched for the WAV data chunk or the MP3 Xing/Info header."""


@dataclass(frozen=True)
class _WavData:
    """Where a RIFF/RF64 WAV file's sample data starts, and how long its header says it is."""

    offset: int  # file position of the first sample byte
    size_field: int  # file position of the data chunk's 32-bit size
    declared: int  # bytes the header announces (RF64: from the ds64 chunk)
    present: int  # bytes from ``offset`` to the end of the file
    byte_rate: int  # bytes per second (fmt chunk)
    block_align: int  # bytes per sample frame (fmt chunk)
    rf64: bool

    @property
    def unknown_length(self) -> bool:
        """A placeholder size (0, or near 4 GB in a plain RIFF file): a streaming writer's."""
        return self.declared == 0 or (not self.rf64 and self.declared >= WAV_UNKNOWN_SIZE)

    def truncated(self) -> tuple[float, float] | None:
        """(announced s, present s) when at least one whole sample frame is missing, else ``None``."""
        if self.unknown_length or self.byte_rate <= 0 or self.declared - self.present < max(self.block_align, 1):
            return None
        return self.declared / self.byte_rate, self.present / self.byte_rate


def _wav_data(head: bytes, size: int) -> _WavData | None:
    """The data chunk of a RIFF/RF64 WAV file from its first bytes; ``None`` when the file is not
    one or its chunks cannot be walked within ``head`` (libsndfile then has its say)."""
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    rf64 = head[:4] == b"RF64"
    pos, byte_rate, block_align, ds64_data = 12, 0, 0, 0
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (chunk_size,) = struct.unpack_from("<I", head, pos + 4)
        body = pos + 8
        if chunk_id == b"ds64" and body + 16 <= len(head):
            ds64_data = struct.unpack_from("<Q", head, body + 8)[0]
        elif chunk_id == b"fmt " and body + 16 <= len(head):
            byte_rate, block_align = struct.unpack_from("<IH", head, body + 8)
        elif chunk_id == b"data":
            declared = ds64_data if rf64 and chunk_size == 0xFFFF_FFFF else chunk_size
            return _WavData(body, pos + 4, declared, max(size - body, 0), byte_rate, block_align, rf64)
        pos = body + chunk_size + (chunk_size & 1)  # chunks are padded to an even length
    return None


_MPEG_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}


def _mp3_lengths(head: bytes, size: int) -> tuple[float, float] | None:
    """(announced s, present s) of a truncated MP3 with a Xing/Info header, else ``None``
    (complete, or no such header: an MP3 without one does not state its length)."""
    start = 0
    if head[:3] == b"ID3" and len(head) >= 10:  # ID3v2 tag: a 28-bit "synchsafe" size
        start = 10 + ((head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F))
        start += 10 if head[5] & 0x10 else 0  # footer
    if start + 4 > len(head) or head[start] != 0xFF or head[start + 1] & 0xE0 != 0xE0:
        return None
    version = (head[start + 1] >> 3) & 3  # 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    layer = (head[start + 1] >> 1) & 3  # 1 = Layer III
    rate_index = (head[start + 2] >> 2) & 3
    if version not in _MPEG_RATES or layer != 1 or rate_index == 3:
        return None
    rate = _MPEG_RATES[version][rate_index]
    mono = (head[start + 3] >> 6) & 3 == 3
    side_info = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    tag = start + 4 + side_info
    if head[tag : tag + 4] not in (b"Xing", b"Info") or tag + 16 > len(head):
        return None
    flags, = struct.unpack_from(">I", head, tag + 4)
    if flags & 3 != 3:  # needs both the frame count and the byte count
        return None
    frames, declared = struct.unpack_from(">II", head, tag + 8)
    present = size - start  # trailing tags only make this larger
    if declared <= 0 or frames <= 0 or present >= MP3_TRUNCATED_SHARE * declared:
        return None
    header_s = frames * (1152 if version == 3 else 576) / rate
    return header_s, header_s * present / declared


def _is_mpeg(p: Path) -> bool:
    return p.suffix.lower() == ".mp3"


_CONTAINERS: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "M4A (MP4)"),
    (0, b"\x1a\x45\xdf\xa3", "WebM"),
    (0, b"#!AMR", "AMR"),
    (0, bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"), "WMA"),
)


def ffmpeg_container(head: bytes) -> str | None:
    """The name of the phone or browser container (M4A, WebM, AMR, WMA) whose signature starts
    ``head``, a file's first bytes, or ``None``: such a file is decoded by ffmpeg whatever its
    name says (a recording renamed ``.wav`` or ``.mp3``)."""
    for offset, magic, name in _CONTAINERS:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def _read_with_ffmpeg(p: Path, container: str | None = None) -> tuple[np.ndarray, int]:
    """Decode through ffmpeg; ``container``: what the file holds when its name says otherwise."""
    if not ffmpeg_available():
        if container is not None:
            raise AudioError(
                p,
                f"holds {container} audio, whatever its name says, which needs ffmpeg: it is not installed (install ffmpeg or convert to WAV)",
                code="needs_ffmpeg_content",
                params={"kind": container},
            )
        raise AudioError(
            p,
            f"{p.suffix.lower()} files need ffmpeg, which is not installed (install ffmpeg or convert to WAV)",
            code="needs_ffmpeg",
            params={"suffix": p.suffix.lower()},
        )
    import soundfile as sf

    try:  # what libsndfile reads (a WAV called .m4a) it reads; libmpg123 prints while it looks for MP3 frames
        with _native_stderr_silenced(), sf.SoundFile(str(p)) as f:
            return f.read(dtype="float32", always_2d=True), int(f.samplerate)
    except Exception:  # not a format libsndfile knows: ffmpeg's turn
        pass
    import librosa
    from audioread.ffdec import FFmpegAudioFile

    try:
        with warnings.catch_warnings(), FFmpegAudioFile(str(p)) as decoder:  # straight to ffmpeg: librosa would try libsndfile again
            warnings.simplefilter("ignore")
            data, source_sr = librosa.load(decoder, sr=None, mono=False)
    except Exception as exc:  # audioread raises many unrelated types
        raise _ffmpeg_error(p, exc) from None
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        data = data.T  # librosa gives (channels, n)
    return data, int(source_sr)


def _ffmpeg_error(p: Path, exc: BaseException) -> AudioError:
    """The error for a file neither libsndfile nor ffmpeg could decode: text, else an unknown format.

    audioread's own errors (``NoBackendError``: no decoder took the file) say nothing a trainee
    can use, so they, and errors without a message, become "not a recognised audio format";
    any other error (an unreadable file, say) keeps its message.
    """
    try:
        head = _head(p, 512)
    except OSError:
        head = b""
    if head and _looks_like_text(head):
        return AudioError(p, "not an audio file (it contains text)", code="not_audio_text")
    if not str(exc).strip() or _is_audioread_error(exc):
        return AudioError(
            p, "cannot decode audio: not a recognised audio format (or the file is damaged)", code="unrecognised_format"
        )
    return AudioError(p, f"cannot decode audio with ffmpeg ({_short(exc)})", code="ffmpeg_failed", params={"detail": _short(exc)})


def _is_audioread_error(exc: BaseException) -> bool:
    try:
        from audioread.exceptions import DecodeError
    except ImportError:
        return False
    return isinstance(exc, DecodeError)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
