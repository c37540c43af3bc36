"""The recording as the HTML report carries it: compressed speech, embedded in the page.

A report that only links to its recording plays nothing once it is mailed, moved or zipped.
:func:`embedded_recording` compresses the analysed signal (mono, 16 kHz: what the analysis
heard, so every time in the report points at the same moment of what plays) to MP3 at
:data:`SPEECH_KBPS`, which every browser plays and seeks exactly (constant bit rate), and
returns it as a ``data:`` URI: about 240 kB a minute, a third more as base64.

The encoder is ffmpeg's LAME where ffmpeg is installed (about 700 times real time; the samples
are piped in, no file is read), else libsndfile's own MP3 encoder through soundfile (about 150
times real time). Where neither can encode, there is nothing to embed (``None``): the page then
links to the recording and says plainly when it is not beside it.
"""

from __future__ import annotations

import base64
import io
import subprocess
from typing import Any

import numpy as np

SPEECH_KBPS = 32
"""Bit rate of the embedded recording (kbit/s, constant): at a 16 kHz sampling rate MP3 (MPEG-2
layer III) keeps speech clear from 24 kbit/s; 32 leaves room for a noisy counter."""
MP3_MIME = "audio/mpeg"
_SOUNDFILE_LEVEL = 0.85
"""soundfile's ``compression_level`` that gives :data:`SPEECH_KBPS` at 16 kHz (libsndfile maps
0-1 onto the MPEG-2 bit rates, 160 down to 8 kbit/s; 0.8 gives 40, 0.85 gives 32)."""
_LAME_SPEED = "7"
"""ffmpeg's ``-compression_level`` for LAME: its faster search (``-q 7``), twice as fast as the
default at the same constant bit rate, with no audible loss for speech."""


def embedded_recording(samples: np.ndarray, sr: int) -> str | None:
    """The recording as a ``data:audio/mpeg;base64,…`` URI for the report's player, or ``None``
    when no MP3 encoder is at hand.

    Parameters
    ----------
    samples : np.ndarray, shape (n,)
        The analysed signal, mono, full scale ±1.
    sr : int
        Its sample rate in Hz.
    """
    data = compressed_mp3(samples, sr)
    if data is None:
        return None
    return f"data:{MP3_MIME};base64,{base64.b64encode(data).decode('ascii')}"


def compressed_mp3(samples: np.ndarray, sr: int) -> bytes | None:
    """``samples`` (mono, ``sr`` Hz) as an MP3 file at :data:`SPEECH_KBPS`: by ffmpeg when it is
    installed, else by soundfile; ``None`` when neither can."""
    y = np.clip(np.nan_to_num(np.asarray(samples, dtype=np.float32).reshape(-1)), -1.0, 1.0)
    if not len(y):
        return None
    from ..audio import ffmpeg_available

    if ffmpeg_available():
        data = _ffmpeg_mp3(y, sr)
        if data:
            return data
    return _soundfile_mp3(y, sr)


def _ffmpeg_mp3(y: np.ndarray, sr: int) -> bytes | None:
    cmd = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
        "-f", "f32le", "-ar", str(int(sr)), "-ac", "1", "-i", "pipe:0",
        "-c:a", "libmp3lame", "-b:a", f"{SPEECH_KBPS}k", "-compression_level", _LAME_SPEED, "-f", "mp3", "pipe:1",
    ]
    try:
        done = subprocess.run(cmd, input=y.astype("<f4").tobytes(), capture_output=True, check=False, timeout=_timeout(len(y) / sr))
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def _soundfile_mp3(y: np.ndarray, sr: int) -> bytes | None:
    try:
        import soundfile as sf

        buf = io.BytesIO()
        options: dict[str, Any] = {"compression_level": _SOUNDFILE_LEVEL, "bitrate_mode": "CONSTANT"}
        sf.write(buf, y, int(sr), format="MP3", subtype="MPEG_LAYER_III", **options)
    except Exception:  # an older libsndfile without MP3, or soundfile without these options
        return None
    return buf.getvalue() or None


def _timeout(seconds: float) -> float:
    """How long ffmpeg may take for a recording of ``seconds`` (s): far beyond its speed, so
    that only a hung encoder is given up on."""
    return 30.0 + seconds / 10.0
