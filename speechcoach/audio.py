"""Reading audio files: the only module that opens audio.

:func:`load` turns any supported file into a mono ``float32`` signal at the analysis rate
(16 kHz) and refuses unusable input with an :class:`~speechcoach.errors.AudioError` whose
message names the file and the problem.

WAV, FLAC, OGG and MP3 (and every other format libsndfile reads: AIFF, GSM 6.10 or ADPCM WAV,
…) are read by libsndfile (``soundfile``); phone and browser containers (m4a, aac, amr, webm,
…) are decoded by ``ffmpeg`` on a pipe, which must be on the machine; so is a file whose first
bytes are such a container's whatever its name (an m4a renamed ``.wav``).

Files are decoded in blocks (:data:`BLOCK_SAMPLES`), each checked, mixed to one channel and
resampled before the next is read: memory follows the analysed form (16 kHz mono float32), not
the file's rate, channels or claimed length, and a recording longer than ``max_minutes`` is
refused before the rest of it is decoded. Channels are averaged into one; where that would
cancel them (speech in opposite phase on two channels) the loudest channel is used alone
(:func:`downmix`, the same rule on whole-file sums). A DC offset is removed. Whatever the
decoders print on the process's stderr is kept off it. NaN, infinite and absurd samples
(:data:`ABSURD_PEAK`) are refused.

A WAV or MP3 file holding less audio than its own header announces (a copy or upload cut
short, or a header forged to claim gigabytes) is refused as truncated rather than analysed as
if it were the whole recording; a WAV whose data size is a streaming writer's placeholder (0,
0xFFFFFFFF, …: :data:`WAV_PLACEHOLDER_SIZES`) is read as far as it goes.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generator, Iterator

import numpy as np

from .errors import AudioError
from .settings import DEFAULT_MAX_MINUTES

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


MAX_SOURCE_SR = 768_000
"""Files sampled above this rate (Hz) are refused: no recorder samples faster (768 kHz is the
highest rate audio interfaces offer), and a header claiming more is damaged or forged."""

ABSURD_PEAK = 1e5
"""A floating-point file with a sample beyond this magnitude (full scale 1: +100 dBFS) is
refused as corrupt. Float files may go past ±1 (an unnormalised export), and some tools write
floats on the 16-bit scale (±32768, +90 dBFS), which still reads; nothing records louder, and
the squares of samples near 1e18 overflow the analysis's float32 energies (such a file was
analysed as 0 characters)."""

BLOCK_SAMPLES = 1 << 20
"""Samples (all channels together) decoded at a time: 4 MB of float32. A file is decoded,
checked, mixed to one channel and resampled block by block, so the memory a recording takes
follows its analysed form (16 kHz mono float32, 64 KB a second), not its own rate and
channels, nor the length its header claims."""


def load(path: str | Path, *, sr: int = ANALYSIS_SR, max_minutes: float | None = DEFAULT_MAX_MINUTES) -> Audio:
    """Read an audio file as a mono signal at ``sr``.

    The file is decoded in blocks of :data:`BLOCK_SAMPLES` (each checked, mixed to one channel
    and resampled before the next is read), so memory stays a small multiple of the result
    whatever the file's rate, channels or header claim.

    Parameters
    ----------
    path : path-like
        The recording.
    sr : int, keyword-only
        Target sample rate in Hz.
    max_minutes : float or None, keyword-only
        The longest recording accepted, in minutes (default
        :data:`speechcoach.settings.DEFAULT_MAX_MINUTES`, 120;
        ``None``: no limit). A longer one is refused (``code="too_long"``) as soon as its
        header or its decoding shows it, before the rest is decoded.

    Returns
    -------
    Audio

    Raises
    ------
    AudioError
        Missing file (or a broken link), a directory, an empty or truncated file (a WAV, or an
        MP3 with a Xing/Info header, shorter than its header says: ``code="truncated_audio"``),
        something that is not audio, a container that needs ffmpeg when ffmpeg is absent, a
        sample rate under 8 kHz or over 768 kHz, NaN, infinite or absurd samples (a float file
        past :data:`ABSURD_PEAK`), a recording over ``max_minutes``, a file whose decoding ran
        out of memory or failed in any other way. Every failure of the file is an
        :class:`AudioError` naming it.
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
    try:
        container = ffmpeg_container(head)  # a phone's m4a renamed .wav is still an m4a
        if p.suffix.lower() in FFMPEG_SUFFIXES or container is not None:
            source = _ffmpeg_source(p, container if p.suffix.lower() not in FFMPEG_SUFFIXES else None)
        else:
            wav = _wav_data(head, size)  # read once: for the truncation check and the reader
            _check_not_truncated(p, head, size, wav)
            source = _soundfile_source(p, wav, quiet=not head.startswith(SNDFILE_SIGNATURES))
        _check_rate(p, source.sr)
        with np.errstate(all="ignore"):  # no numpy warning reaches a terminal: every check is explicit
            return _decode(p, source, sr=sr, max_minutes=max_minutes)
    except AudioError:
        raise
    except MemoryError:
        raise AudioError(p, "out of memory while analysing", code="out_of_memory") from None
    except Exception as exc:  # a decoder's own failure, whatever its type: the file is at fault
        raise AudioError(p, f"cannot decode audio ({_short(exc)})", code="cannot_decode", params={"detail": _short(exc)}) from None


@dataclass(frozen=True)
class _Source:
    """A file opened for decoding.

    ``blocks()`` decodes it from the start, as ``(n, channels)`` float32 blocks of at most
    :data:`BLOCK_SAMPLES` samples; it may be called again for a second pass. ``frames`` is what
    the header announces (``None``: unknown), a hint only, unless ``exact``: counted from the
    bytes present (PCM WAV).
    """

    sr: int
    channels: int
    unbounded: bool  # floating-point samples, which may go past ±1 without clipping
    frames: int | None
    exact: bool
    blocks: Callable[[], Generator[np.ndarray, None, None]]


def _check_rate(p: Path, source_sr: int) -> None:
    if source_sr < MIN_SOURCE_SR:
        raise AudioError(
            p,
            f"sample rate {source_sr} Hz is too low (at least {MIN_SOURCE_SR} Hz needed)",
            code="sample_rate_too_low",
            params={"rate": int(source_sr), "min_rate": MIN_SOURCE_SR},
        )
    if source_sr > MAX_SOURCE_SR:
        raise AudioError(
            p,
            f"sample rate {source_sr} Hz is not a recording's (at most {MAX_SOURCE_SR} Hz; the header is damaged)",
            code="sample_rate_too_high",
            params={"rate": int(source_sr), "max_rate": MAX_SOURCE_SR},
        )


def _too_long(p: Path, max_minutes: float) -> AudioError:
    return AudioError(
        p,
        f"is longer than {max_minutes:g} minutes, the longest recording analysed (--max-minutes)",
        code="too_long",
        params={"limit_min": max_minutes},
    )


class _Stats:
    """What :func:`load` reports about the whole file, gathered block by block: sample frames,
    extremes, clipped samples, and each channel's and the channel average's sum and sum of
    squares (for :func:`downmix`'s choice and the DC offset)."""

    def __init__(self, channels: int) -> None:
        self.frames = 0
        self.hi = -np.inf
        self.lo = np.inf
        self.clipped = 0  # samples at or past CLIP_LEVEL
        self.sums = np.zeros(channels)
        self.squares = np.zeros(channels)
        self.mono_sum = 0.0
        self.mono_square = 0.0

    def add(self, p: Path, block: np.ndarray, mono: np.ndarray, *, unbounded: bool) -> None:
        """Count one block; refuse NaN, infinite and (float files) absurd samples."""
        hi, lo = float(np.max(block)), float(np.min(block))  # NaN propagates through max/min; inf shows in them
        if not (np.isfinite(hi) and np.isfinite(lo)):
            raise AudioError(p, "contains NaN or infinite samples (corrupt file)", code="corrupt_samples")
        if max(hi, -lo) > ABSURD_PEAK:  # only a float file can hold such values
            raise AudioError(
                p,
                f"contains samples {max(hi, -lo):.3g} times full scale (corrupt file)",
                code="absurd_samples",
                params={"peak": float(f"{max(hi, -lo):.3g}"), "limit": ABSURD_PEAK},
            )
        self.frames += len(block)
        self.hi, self.lo = max(self.hi, hi), min(self.lo, lo)
        if max(hi, -lo) >= CLIP_LEVEL:
            self.clipped += int(np.count_nonzero(np.abs(block) >= CLIP_LEVEL))
        if block.shape[1] > 1:
            self.sums += np.sum(block, axis=0, dtype=np.float64)
            self.squares += np.einsum("ij,ij->j", block, block).astype(np.float64)
        self.mono_sum += float(np.sum(mono, dtype=np.float64))
        self.mono_square += float(np.dot(mono, mono))

    def cancelled_channel(self) -> int | None:
        """The loudest channel when the channel average keeps less than :data:`CANCEL_SHARE` of
        the channels' mean power (:func:`downmix`'s rule), else ``None``."""
        if len(self.sums) < 2 or self.frames == 0:
            return None
        n = self.frames
        power = np.maximum(self.squares / n - (self.sums / n) ** 2, 0.0)
        mono_power = max(self.mono_square / n - (self.mono_sum / n) ** 2, 0.0)
        if mono_power >= CANCEL_SHARE * float(np.mean(power)):
            return None
        return int(np.argmax(power))


def _mono(block: np.ndarray) -> np.ndarray:
    """The channel average of one ``(n, channels)`` block, float32 (as :func:`downmix`)."""
    if block.shape[1] == 1:
        return np.ascontiguousarray(block[:, 0])
    mono = np.add.reduce(block, axis=1, dtype=np.float32)
    mono *= np.float32(1.0 / block.shape[1])
    return mono


class _Resampled:
    """Collects a mono signal block by block at ``sr_out`` (soxr's stream gives the same samples
    as :func:`resample` on the whole signal), into one array sized from the header's length
    where it announces one."""

    def __init__(self, sr_in: int, sr_out: int, frames_hint: int | None) -> None:
        import soxr

        self.stream = None if sr_in == sr_out else soxr.ResampleStream(sr_in, sr_out, 1, dtype="float32", quality="HQ")
        expected = 0 if frames_hint is None else int(min(frames_hint, PREALLOCATE_S * sr_in) * sr_out / sr_in) + 64
        self.buf = np.empty(max(expected, 0), dtype=np.float32)  # pages untouched until written
        self.filled = 0
        self.rest: list[np.ndarray] = []

    def add(self, mono: np.ndarray, *, last: bool = False) -> None:
        y = mono if self.stream is None else self.stream.resample_chunk(mono, last=last)
        room = len(self.buf) - self.filled
        if not self.rest and len(y) <= room:
            self.buf[self.filled : self.filled + len(y)] = y
            self.filled += len(y)
        else:
            self.rest.append(np.array(y, dtype=np.float32))  # a copy: the stream may reuse its buffer

    def result(self) -> np.ndarray:
        if self.stream is not None:
            self.add(np.zeros(0, dtype=np.float32), last=True)
        head = self.buf[: self.filled]
        if self.rest:
            return np.concatenate([head, *self.rest])
        return head.copy() if self.filled < len(self.buf) // 2 else head


PREALLOCATE_S = 2 * 3600
"""At most this much of the result (seconds) is set aside from a header's claim before decoding;
the rest, if any, is gathered as it comes."""


def _decode(p: Path, source: _Source, *, sr: int, max_minutes: float | None) -> Audio:
    """Decode ``source`` block by block into an :class:`Audio` (the body of :func:`load`)."""
    limit = None if max_minutes is None else int(max_minutes * 60.0 * source.sr)
    if limit is not None and source.exact and source.frames is not None and source.frames > limit:
        raise _too_long(p, max_minutes)  # type: ignore[arg-type]
    hint = source.frames if limit is None or source.frames is None else min(source.frames, limit)
    stats = _Stats(source.channels)
    out = _Resampled(source.sr, sr, hint)
    with contextlib.closing(source.blocks()) as blocks:
        for block in blocks:
            mono = _mono(block)
            stats.add(p, block, mono, unbounded=source.unbounded)
            if limit is not None and stats.frames > limit:
                raise _too_long(p, max_minutes)  # type: ignore[arg-type]
            out.add(mono)
    n_frames, channels = stats.frames, source.channels
    if n_frames == 0:
        raise AudioError(p, "holds no audio samples (empty or truncated file)", code="no_samples")
    samples = out.result()
    del out
    offset = stats.mono_sum / n_frames
    channel_used = stats.cancelled_channel()
    if channel_used is not None:  # the average is silence: the loudest channel alone, a second pass
        again = _Resampled(source.sr, sr, n_frames)
        del samples
        with contextlib.closing(source.blocks()) as blocks:
            for block in blocks:
                again.add(np.ascontiguousarray(block[:, channel_used]))
        samples = again.result()
        offset = float(stats.sums[channel_used]) / n_frames
    if abs(offset) >= DC_OFFSET_MIN:  # as remove_dc, after resampling (which keeps a constant)
        samples -= np.float32(offset)
    peak = max(stats.hi, -stats.lo)
    # full scale is ±1, except in a float file that goes past it: nothing clipped it there, so
    # only samples flat at its own peak count
    rail = max(peak, 1.0) if source.unbounded else 1.0
    clipped = 0
    if peak >= CLIP_LEVEL * rail:
        if rail == 1.0:
            clipped = stats.clipped
        else:  # the file's own peak is known only now: count again
            with contextlib.closing(source.blocks()) as blocks:
                clipped = sum(int(np.count_nonzero(np.abs(b) >= CLIP_LEVEL * rail)) for b in blocks)
    return Audio(
        path=str(p),
        samples=samples,
        sr=sr,
        source_sr=int(source.sr),
        channels=int(channels),
        duration_s=n_frames / float(source.sr),
        clipped_fraction=clipped / float(n_frames * channels),
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


_EXACT_SUBTYPES = ("PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW")
"""Sample formats whose frame count in a WAV follows from the bytes present (one frame a fixed
number of bytes), so a length over ``max_minutes`` is refused before decoding."""


def _soundfile_source(p: Path, wav: _WavData | None, *, quiet: bool = False) -> _Source:
    """A file libsndfile reads (WAV and its relatives, FLAC, OGG, MP3, AIFF, …: every format it
    knows, GSM 6.10 and ADPCM WAV included). ``wav``: its :func:`_wav_data`. ``quiet``: keep what
    the decoders print off the process's stderr while reading too (libmpg123 reports every file
    it fails to find an MP3 frame in on its own line); opening is always kept quiet."""
    import soundfile as sf

    patches = _known_length_patches(wav)

    def open_() -> sf.SoundFile:
        return sf.SoundFile(_Patched(p, patches) if patches else str(p))

    try:
        with _native_stderr_silenced(), open_() as f:
            sr, channels, subtype, seekable = int(f.samplerate), int(f.channels), f.subtype, f.seekable()
            frames = int(f.frames) if seekable and 0 < f.frames < (1 << 62) else None
            quiet = quiet or f.format == "MP3" or subtype.startswith("MPEG")  # MPEG in a WAV too
    except sf.LibsndfileError:
        raise _soundfile_error(p) from None
    except (RuntimeError, ValueError, OSError) as exc:
        raise AudioError(p, f"cannot decode audio ({_short(exc)})", code="cannot_decode", params={"detail": _short(exc)}) from None
    if channels < 1:
        raise AudioError(p, "holds no audio samples (empty or truncated file)", code="no_samples")
    per_block = max(1, BLOCK_SAMPLES // channels)

    def blocks() -> Generator[np.ndarray, None, None]:
        with _native_stderr_silenced():  # opening probes formats, and libmpg123 prints while it does
            f = open_()
        got = 0
        try:
            while True:
                try:
                    with _native_stderr_silenced() if quiet else contextlib.nullcontext():
                        block = f.read(per_block, dtype="float32", always_2d=True)
                except sf.LibsndfileError:  # the decoder lost its way: a file cut short, or a header that lies
                    raise _cut_short(p, open_, got, frames, sr) from None
                if not len(block):
                    return
                got += len(block)
                yield block
        finally:
            f.close()

    exact = wav is not None and subtype in _EXACT_SUBTYPES
    return _Source(sr, channels, subtype in ("FLOAT", "DOUBLE"), frames, exact and frames is not None, blocks)


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


def _known_length_patches(wav: _WavData | None) -> dict[int, bytes]:
    """For a plain WAV whose data size is 0 (a recorder that never came back to fill it in) with
    sample bytes after it: the header bytes to read instead (the data and RIFF sizes counting
    those bytes; libsndfile would read 0 frames). Empty for every other file. ``wav``: its
    :func:`_wav_data`."""
    if wav is None or wav.rf64 or wav.declared != 0 or wav.block_align <= 0 or wav.present < wav.block_align:
        return {}
    present = min(wav.present - wav.present % wav.block_align, 0xFFFF_FFFF - wav.offset)
    present -= present % wav.block_align
    return {
        wav.size_field: present.to_bytes(4, "little"),
        4: min(wav.offset + present - 8, 0xFFFF_FFFF).to_bytes(4, "little"),
    }


def _cut_short(p: Path, open_: Callable[[], Any], good: int, frames: int | None, sr: int) -> AudioError:
    """The error for a file whose decoding failed after ``good`` sample frames: truncated (its
    header announced ``frames``; the frames that do decode are counted, in small reads from
    ``good`` on, for the message), else corrupt."""
    if frames is None or frames <= good:
        return _soundfile_error(p)
    present = good
    try:
        with _native_stderr_silenced(), open_() as f:
            f.seek(good)
            while present < min(frames, good + BLOCK_SAMPLES):  # the failure lay within the block that met it
                n = len(f.read(4096, dtype="float32", always_2d=True))
                if not n:
                    break
                present += n
    except Exception:  # the failure met again: what came before it is what is present
        pass
    header_s, present_s = frames / sr, present / sr
    return AudioError(
        p,
        f"the file is truncated: its header says {header_s:.1f} s, only {present_s:.1f} s present",
        code="truncated_audio",
        params={"header_s": round(header_s, 3), "present_s": round(present_s, 3)},
    )


class _Patched(io.RawIOBase):
    """A file read as it is but for a few bytes (``patches``: position -> bytes), without a copy
    of it in memory: libsndfile reads the WAV through it (:func:`_known_length_patches`)."""

    def __init__(self, path: Path, patches: dict[int, bytes]) -> None:
        super().__init__()
        self._fh = path.open("rb")
        self._patches = patches
        self.name = str(path)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        start = self._fh.tell()
        n = self._fh.readinto(buffer)
        if not n:
            return 0
        view = memoryview(buffer).cast("B")
        for pos, data in self._patches.items():
            lo, hi = max(pos, start), min(pos + len(data), start + n)
            if lo < hi:
                view[lo - start : hi - start] = data[lo - pos : hi - pos]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


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

WAV_PLACEHOLDER_SIZES = ((0x7FFF_0000, 0x7FFF_FFFF), (0xFFFF_0000, 0xFFFF_FFFF))
"""WAV data-chunk sizes (bytes, inclusive ranges; and 0) that are placeholders written by a
streaming tool that could not seek back to fill in the length: 0xFFFFFFFF (ffmpeg on a pipe),
0x7FFFFFFF, SoX's 0x7FFFF000, and their like just under 2 or 4 GiB. Such a file is read as far
as it goes. Any other size is a claim: a file holding less than it claims (a 3 GB header on
0.38 MB of samples) is refused as truncated."""

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
        """A placeholder size (0, or just under 2 or 4 GiB in a plain RIFF file): a streaming writer's."""
        return self.declared == 0 or (not self.rf64 and any(lo <= self.declared <= hi for lo, hi in WAV_PLACEHOLDER_SIZES))

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


def _ffmpeg_source(p: Path, container: str | None = None) -> _Source:
    """A phone or browser container, decoded by ffmpeg (``container``: what the file holds when
    its name says otherwise); what libsndfile reads (a WAV called .m4a) libsndfile reads."""
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
    try:
        return _soundfile_source(p, None, quiet=True)
    except AudioError:  # not a format libsndfile knows: ffmpeg's turn
        pass
    started = _FfmpegPipe(p)  # started here: its header gives the rate and channels
    first: _FfmpegPipe | None = started

    def blocks() -> Generator[np.ndarray, None, None]:
        nonlocal first
        pipe, first = (first, None) if first is not None else (_FfmpegPipe(p), None)
        try:
            yield from pipe.blocks()
        finally:
            pipe.close()

    return _Source(started.sr, started.channels, False, None, False, blocks)


class _FfmpegPipe:
    """ffmpeg decoding a file to 16-bit PCM WAV on a pipe, read as it comes: the pipe holds what
    ffmpeg is ahead by, so memory stays a block however large the decoded audio. The same
    samples as librosa's audioread route this replaced (which queued all of ffmpeg's output in
    memory, and whose first use compiled librosa's numba functions for ~15 s)."""

    def __init__(self, p: Path) -> None:
        import subprocess
        import tempfile

        self.path = p
        self._err = tempfile.TemporaryFile()
        cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", str(p), "-map", "0:a:0", "-f", "wav", "-c:a", "pcm_s16le", "-"]
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err)
        except OSError as exc:
            self._err.close()
            raise AudioError(p, f"cannot decode audio with ffmpeg ({_short(exc)})", code="ffmpeg_failed", params={"detail": _short(exc)}) from None
        try:
            self.sr, self.channels = self._header()
        except BaseException:
            self.close()
            raise

    def _read(self, n: int) -> bytes:
        assert self.proc.stdout is not None
        return self.proc.stdout.read(n)

    def _header(self) -> tuple[int, int]:
        """The rate and channels from the WAV header ffmpeg writes, read up to the data chunk."""
        riff = self._read(12)
        fmt: bytes | None = None
        if len(riff) == 12 and riff[:4] == b"RIFF" and riff[8:12] == b"WAVE":
            while True:
                chunk = self._read(8)
                if len(chunk) < 8:
                    break
                cid, (csize,) = chunk[:4], struct.unpack("<I", chunk[4:])
                if cid == b"data":
                    if fmt is not None and len(fmt) >= 16:
                        channels, rate = struct.unpack_from("<HI", fmt, 2)
                        if channels > 0:
                            return int(rate), int(channels)
                    break
                body = self._read(csize + (csize & 1))
                if cid == b"fmt ":
                    fmt = body
        raise self._failure()

    def _failure(self) -> AudioError:
        """The error for a file ffmpeg gave no audio for: text, else an unknown format."""
        self.close()
        return _ffmpeg_error(self.path)

    def blocks(self) -> Iterator[np.ndarray]:
        size = max(1, BLOCK_SAMPLES // self.channels) * self.channels * 2
        while True:
            raw = self._read(size)
            whole = len(raw) - len(raw) % (2 * self.channels)  # a frame cut off at the end is dropped
            if whole <= 0:
                return
            pcm = np.frombuffer(raw[:whole], dtype="<i2").reshape(-1, self.channels)
            yield pcm.astype(np.float32) * np.float32(1.0 / 32768.0)

    def close(self) -> None:
        """Stop ffmpeg (if it is still running) and release its pipe and error file."""
        proc = getattr(self, "proc", None)
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            if proc.stdout is not None:
                proc.stdout.close()
            proc.wait()
        self._err.close()


def _ffmpeg_error(p: Path) -> AudioError:
    """The error for a file neither libsndfile nor ffmpeg could decode: text, else "not a
    recognised audio format" (what ffmpeg says of it is no help to a trainee)."""
    try:
        head = _head(p, 512)
    except OSError:
        head = b""
    if head and _looks_like_text(head):
        return AudioError(p, "not an audio file (it contains text)", code="not_audio_text")
    return AudioError(p, "cannot decode audio: not a recognised audio format (or the file is damaged)", code="unrecognised_format")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
