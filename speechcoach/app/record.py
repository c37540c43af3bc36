"""Recording from the microphone (``speechcoach record``) through ``sounddevice``.

``sounddevice`` (and the PortAudio library under it) is an optional extra:
``pip install 'speechcoach[record]'``. Without it, or without an input device, every function
here raises :class:`RecordError` with a one-line message. Nothing here prints: the caller
gets the level through a callback and decides when to stop through an event.
"""

from __future__ import annotations

import io
import math
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import SpeechcoachError
from ..fileio import write_atomic

RECORD_SR = 16_000
"""Recordings are made at this rate (Hz), mono, 16-bit: what the analysis uses."""

QUIET_DBFS = -45.0
"""A level (RMS, dBFS) under this while speaking means the microphone is too far or muted."""

CLIP_PEAK = 0.99

NO_MICROPHONE = "no microphone found (there is no audio input device)"


class RecordError(SpeechcoachError):
    """Recording is impossible: no ``sounddevice``, no PortAudio, no input device, bad device.

    Parameters
    ----------
    message : str
        The problem in English, one line.
    code : str, keyword-only, optional
        Its template in the ``[errors]`` table of ``locales/*.toml`` (the problems a trainee
        meets: no microphone, a microphone that stays silent), so the command line words it in
        the run's language.
    params : dict, keyword-only, optional
        The values the template takes.
    """

    def __init__(self, message: str, *, code: str | None = None, params: dict[str, Any] | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.code = code
        self.params: dict[str, Any] = dict(params or {})


@dataclass(frozen=True)
class Level:
    """The input level of the last block.

    Attributes
    ----------
    rms_dbfs : float
        RMS level in dB relative to full scale.
    peak : float
        Highest absolute sample (full scale = 1).
    elapsed_s : float
        Seconds recorded so far.
    """

    rms_dbfs: float
    peak: float
    elapsed_s: float

    @property
    def clipping(self) -> bool:
        return self.peak >= CLIP_PEAK

    @property
    def quiet(self) -> bool:
        return self.rms_dbfs < QUIET_DBFS


def _sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError:
        raise RecordError("recording needs the 'sounddevice' package: pip install 'speechcoach[record]'", code="needs_sounddevice") from None
    except OSError:
        raise RecordError(
            "recording needs the PortAudio library, which is not installed (Debian/Ubuntu: apt-get install libportaudio2)",
            code="needs_portaudio",
        ) from None
    return sounddevice


def input_devices() -> list[dict[str, Any]]:
    """The input devices: ``index``, ``name``, ``channels``, ``default_samplerate``, ``default``.

    Raises
    ------
    RecordError
        ``sounddevice`` or PortAudio missing.
    """
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default_in = sd.default.device[0] if sd.default.device is not None else -1
    except Exception as exc:  # PortAudio errors have their own class per version
        raise RecordError(f"cannot list audio devices ({exc})") from None
    out = []
    for index, dev in enumerate(devices):
        if int(dev.get("max_input_channels", 0)) > 0:
            out.append(
                {
                    "index": index,
                    "name": str(dev.get("name", "")),
                    "channels": int(dev["max_input_channels"]),
                    "default_samplerate": float(dev.get("default_samplerate", 0.0)),
                    "default": index == default_in,
                }
            )
    return out


def resolve_device(device: str | None) -> int | None:
    """The input device index for ``device`` (an index, or part of a name); ``None`` = default.

    Raises
    ------
    RecordError
        No input device at all, or none matching ``device``.
    """
    devices = input_devices()
    if not devices:
        raise RecordError(NO_MICROPHONE, code="no_microphone")
    if device is None:
        return None
    if device.strip().isdigit():
        index = int(device)
        if any(d["index"] == index for d in devices):
            return index
        raise RecordError(f"device {index} is not an input device (see speechcoach record --list-devices)")
    matches = [d for d in devices if device.lower() in d["name"].lower()]
    if len(matches) != 1:
        what = "no input device" if not matches else f"{len(matches)} input devices"
        raise RecordError(f"{what} named like {device!r} (see speechcoach record --list-devices)")
    return int(matches[0]["index"])


def record(
    out: str | Path,
    *,
    seconds: float | None = None,
    device: str | None = None,
    stop: threading.Event | None = None,
    on_level: Callable[[Level], None] | None = None,
    samplerate: int = RECORD_SR,
) -> Path:
    """Record mono 16-bit audio until ``seconds`` pass or ``stop`` is set, and write a WAV.

    Parameters
    ----------
    out : path-like
        The WAV file to write (atomically).
    seconds : float, optional
        Stop after this long; without it only ``stop`` ends the recording.
    device : str, optional
        Input device index or part of its name; the system default otherwise.
    stop : threading.Event, optional
        Set it (e.g. when Enter is pressed) to end the recording.
    on_level : callable, optional
        Called about ten times a second with the current :class:`Level`.
    samplerate : int

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    RecordError
        No ``sounddevice``/PortAudio, no input device, the device refuses to open,
        or nothing was recorded.
    """
    if seconds is not None and not seconds > 0:
        raise RecordError(f"--seconds must be positive, got {seconds!r}")
    if seconds is None and stop is None:
        raise RecordError("give a duration or a way to stop the recording")
    sd = _sounddevice()
    index = resolve_device(device)
    stop = stop or threading.Event()
    blocks: "queue.Queue[np.ndarray]" = queue.Queue()

    def callback(indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        blocks.put(indata[:, 0].copy())

    chunks: list[np.ndarray] = []
    total = 0
    limit = int(seconds * samplerate) if seconds is not None else None
    try:
        stream = sd.InputStream(
            samplerate=samplerate, channels=1, dtype="float32", device=index, blocksize=samplerate // 10, callback=callback
        )
    except Exception as exc:
        reason = " ".join(str(exc).split())
        raise RecordError(f"cannot open the microphone ({reason})", code="cannot_open_microphone", params={"reason": reason}) from None
    with stream:
        started = time.monotonic()
        while not stop.is_set() and (limit is None or total < limit):
            try:
                block = blocks.get(timeout=0.5)
            except queue.Empty:
                if time.monotonic() - started > 5 and total == 0:
                    raise RecordError("the microphone delivers no sound (is it in use by another program?)", code="microphone_silent") from None
                continue
            chunks.append(block)
            total += len(block)
            if on_level is not None:
                rms = float(np.sqrt(np.mean(block.astype(np.float64) ** 2))) if block.size else 0.0
                on_level(Level(20 * math.log10(max(rms, 1e-10)), float(np.max(np.abs(block), initial=0.0)), total / samplerate))
    signal = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    if limit is not None:
        signal = signal[:limit]
    if signal.size == 0:
        raise RecordError("nothing was recorded", code="nothing_recorded")
    return write_wav(out, signal, samplerate)


def write_wav(out: str | Path, signal: np.ndarray, samplerate: int) -> Path:
    """Write a mono float signal (full scale ±1) as a 16-bit PCM WAV, atomically."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(signal, -1.0, 1.0), samplerate, format="WAV", subtype="PCM_16")
    return write_atomic(out, buf.getvalue())


def meter_line(
    level: Level, *, width: int = 30, clipping: str = "CLIPPING: speak softer or move back", quiet: str = "too quiet"
) -> str:
    """A one-line level meter such as ``00:07 [##########----] -23 dBFS``, with a warning.

    Parameters
    ----------
    level : Level
        The last block's level.
    width : int, keyword-only
        Characters of the bar.
    clipping, quiet : str, keyword-only
        The warnings shown after the bar when the input clips or is too quiet (the command line
        passes them in the run's language).
    """
    filled = int(round(min(max((level.rms_dbfs + 60.0) / 60.0, 0.0), 1.0) * width))
    minutes, secs = divmod(int(level.elapsed_s), 60)
    note = f"  {clipping}" if level.clipping else (f"  {quiet}" if level.quiet else "")
    return f"{minutes:02d}:{secs:02d} [{'#' * filled}{'-' * (width - filled)}] {level.rms_dbfs:6.1f} dBFS{note}"
