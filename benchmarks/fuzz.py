"""Hostile input: thousands of mutated recordings through the analysis and the command line.

Usage::

    python -m benchmarks.fuzz [--cases N] [--cli N] [--seed S] [--hour] [--output PATH]

Seed recordings are synthesised here (syllable-like bursts, 6 s) and written in every format
libsndfile reads and the issue names (WAV of eleven sample formats, RF64, FLAC, OGG Vorbis and
Opus, MP3), then mutated by :func:`mutate`, a seeded generator over

- ``header bytes``: 1-8 bytes of the first 128 replaced by random ones;
- ``header fields``: one field of the format's own header set to an extreme or random value
  (WAV ``fmt``/``data``/RIFF sizes, rates, channels, bits; FLAC STREAMINFO; MP3 frame header
  and Xing counts; OGG granule positions and the Vorbis/Opus identification header, with the
  page checksum recomputed so the lie is read);
- ``truncation``: the file cut at a random length (half of the cuts inside the first 256 bytes);
- ``body bytes``: bytes past the header flipped;
- ``sample values``: a float WAV's or PCM WAV's samples replaced by NaN, infinities, 1e18,
  the largest float, denormals, full-scale squares, random bit patterns;
- ``splice``: random bytes or another seed appended or inserted.

Each mutated input is analysed in a forked child process (:func:`analyse_forked`, as
``analyze --count acoustic`` does: :func:`speechcoach.analysis.pipeline.analyze_file`) whose
peak resident memory the kernel reports (``wait4``), and a sample of them (``--cli``) through
``speechcoach analyze`` and one ``speechcoach check`` over a folder of them, in subprocesses:
exit codes, tracebacks, and whether a refusal is one line naming the file. The bombs the issue
names (:func:`bombs`: a 954 KB FLAC holding 10 minutes of silence at 192 kHz on 8 channels,
STREAMINFO claiming 2^36-1 samples, an MP3 whose Xing frame count is huge, a WAV header
claiming 3 GB over 0.38 MB, float samples at 1e18 and at the largest float, a GSM 6.10 WAV)
go through the command line too, and with ``--hour`` a one-hour 48 kHz stereo WAV built from
the corpus (or synthetic speech where it is absent) through ``analyze --count acoustic`` (and
the other modes ``--hour-counts`` names: ``auto`` runs the speech recogniser, about an hour of
CPU). Writes ``benchmarks/FUZZ_RESULTS.md``.

Memory is the peak resident set size (``ru_maxrss``) of the process that analysed the input,
the interpreter, numpy and speechcoach included (~45-60 MB for a small input); time is CPU time.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from speechcoach.fileio import write_atomic

from .corpus import REPO, git_commit, machine, now

RESULTS = REPO / "benchmarks" / "FUZZ_RESULTS.md"

MEMORY_TARGET_MB = 2000.0
"""Issue 23: peak memory under 2 GB for every input."""
BOMB_TARGET_MB = 1500.0
"""Issue 23: under 1.5 GB for the two FLAC bombs and the one-hour 48 kHz stereo WAV."""
CHILD_ADDRESS_LIMIT = 8 << 30
"""Address space a fuzzing child may take (bytes): a regression stops there as a MemoryError
instead of taking the shared machine's memory."""


# --------------------------------------------------------------------------- seeds


def speechlike(seconds: float, sr: int, *, seed: int = 0) -> np.ndarray:
    """Syllable-like bursts (a 140 Hz buzz with two formants, ~4 a second, pauses between
    phrases) at ``sr``, peak 0.3: enough for the analysis to find speech in."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    env = np.maximum(np.sin(2 * np.pi * 4.0 * t), 0.0) ** 0.7
    env *= (np.sin(2 * np.pi * 0.33 * t) > -0.5)  # a pause every 3 s
    y = buzz * env + rng.normal(0, 1e-3, n)
    return (0.3 * y / np.max(np.abs(y))).astype(np.float32)


SEED_FORMATS: tuple[tuple[str, str, str, str | None, int, int], ...] = (
    # (name, class, format, subtype, rate, channels)
    ("pcm16.wav", "WAV", "WAV", "PCM_16", 16_000, 1),
    ("pcm24_48k_stereo.wav", "WAV", "WAV", "PCM_24", 48_000, 2),
    ("u8_8k.wav", "WAV", "WAV", "PCM_U8", 8_000, 1),
    ("float.wav", "WAV", "WAV", "FLOAT", 16_000, 1),
    ("double_44k.wav", "WAV", "WAV", "DOUBLE", 44_100, 1),
    ("pcm32_6ch.wav", "WAV", "WAV", "PCM_32", 16_000, 6),
    ("gsm610.wav", "WAV", "WAV", "GSM610", 8_000, 1),
    ("ima_adpcm.wav", "WAV", "WAV", "IMA_ADPCM", 16_000, 1),
    ("ms_adpcm.wav", "WAV", "WAV", "MS_ADPCM", 16_000, 2),
    ("ulaw.wav", "WAV", "WAV", "ULAW", 8_000, 1),
    ("rf64.wav", "WAV", "RF64", "PCM_16", 22_050, 1),
    ("pcm16.flac", "FLAC", "FLAC", "PCM_16", 44_100, 2),
    ("pcm24_96k.flac", "FLAC", "FLAC", "PCM_24", 96_000, 1),
    ("vorbis.ogg", "OGG", "OGG", "VORBIS", 44_100, 2),
    ("opus.ogg", "OGG", "OGG", "OPUS", 48_000, 1),
    ("mono.mp3", "MP3", "MP3", "MPEG_LAYER_III", 16_000, 1),
    ("stereo_44k.mp3", "MP3", "MP3", "MPEG_LAYER_III", 44_100, 2),
)
"""The seed recordings: every format the issue names, in the sample formats trainees' tools
write (and GSM 6.10, ADPCM, µ-law: formats libsndfile reads that phones and telephony use)."""


def write_seeds(folder: Path, seconds: float = 6.0) -> dict[str, tuple[str, bytes]]:
    """Write the seeds into ``folder``; returns name -> (input class, bytes). With ``ffmpeg`` on
    the PATH an AAC ``.m4a`` (a phone's memo) joins them, decoded through ffmpeg."""
    import soundfile as sf
    import soxr

    base = speechlike(seconds, 48_000)
    seeds: dict[str, tuple[str, bytes]] = {}
    for name, kind, fmt, subtype, sr, ch in SEED_FORMATS:
        y = soxr.resample(base, 48_000, sr).astype(np.float32)
        data = np.stack([y * (0.9 ** c) for c in range(ch)], axis=1) if ch > 1 else y
        path = folder / name
        sf.write(str(path), data, sr, format=fmt, subtype=subtype)
        seeds[name] = (kind, path.read_bytes())
    if shutil.which("ffmpeg") is not None:
        m4a = folder / "aac.m4a"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(folder / "pcm16.wav"), "-c:a", "aac", "-b:a", "48k",
                        str(m4a)], check=True)
        seeds[m4a.name] = ("M4A (ffmpeg)", m4a.read_bytes())
    return seeds


# --------------------------------------------------------------------------- mutations

INTERESTING = (0, 1, 2, 3, 6, 7, 8, 15, 16, 0x11, 0x31, 0x50, 0x55, 0x7F, 0x80, 0xFF, 0x100, 0x3E80, 0x7FFF, 0x8000,
               0xFFFE, 0xFFFF, 0x10000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 3_000_000_000,
               (1 << 36) - 1)
"""Values a header field is set to: edges of signed and unsigned widths, WAV format tags (A-law,
µ-law, IMA ADPCM, GSM 6.10, MPEG, MPEG layer 3, extensible), a 16 kHz rate, a 3 GB size,
FLAC's largest sample count; plus random values (:func:`_value`)."""


def _value(rng: random.Random, bits: int) -> int:
    v = rng.choice(INTERESTING) if rng.random() < 0.7 else rng.getrandbits(bits)
    return v & ((1 << bits) - 1)


def _put(data: bytearray, pos: int, value: int, size: int, order: str) -> None:
    if 0 <= pos and pos + size <= len(data):
        data[pos : pos + size] = value.to_bytes(size, order)  # type: ignore[arg-type]


def _wav_fields(data: bytes) -> list[tuple[int, int, str]]:
    """(position, size, byte order) of the fields of a RIFF/RF64 WAV header worth lying in."""
    found = [(4, 4, "little")]
    pos = 12
    while pos + 8 <= min(len(data), 4096):
        cid, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        found.append((pos + 4, 4, "little"))
        if cid == b"fmt ":
            found += [(pos + 8, 2, "little"), (pos + 10, 2, "little"), (pos + 12, 4, "little"), (pos + 16, 4, "little"),
                      (pos + 20, 2, "little"), (pos + 22, 2, "little")]
        elif cid == b"ds64":
            found += [(pos + 8, 8, "little"), (pos + 16, 8, "little"), (pos + 24, 8, "little")]
        elif cid == b"fact":
            found.append((pos + 8, 4, "little"))
        if cid == b"data":
            break
        pos += 8 + size + (size & 1)
    return found


def _flac_field(data: bytearray, rng: random.Random) -> None:
    """Set one STREAMINFO field: block sizes, frame sizes, rate (20 bits), channels (3), bits
    (5) or total samples (36)."""
    if data[:4] != b"fLaC" or len(data) < 42:
        return
    which = rng.randrange(5)
    if which == 0:
        _put(data, 8 + 2 * rng.randrange(2), _value(rng, 16), 2, "big")
    elif which == 1:
        _put(data, 12 + 3 * rng.randrange(2), _value(rng, 24), 3, "big")
    else:
        word = int.from_bytes(data[18:26], "big")
        shift, bits = {2: (44, 20), 3: (41, 3)}.get(which, (36, 5) if rng.random() < 0.3 else (0, 36))
        mask = ((1 << bits) - 1) << shift
        word = (word & ~mask) | (_value(rng, bits) << shift)
        data[18:26] = word.to_bytes(8, "big")


def _mp3_field(data: bytearray, rng: random.Random) -> None:
    """Lie in an MP3: the first frame header's bitrate/rate/mode bits, or the Xing/Info counts."""
    start = 0
    if data[:3] == b"ID3" and len(data) > 10:
        start = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F))
    tag = max(data.find(b"Xing", start, start + 200), data.find(b"Info", start, start + 200))
    if tag > 0 and rng.random() < 0.6:
        _put(data, tag + 8 + 4 * rng.randrange(2), _value(rng, 32), 4, "big")
    elif start + 4 <= len(data):
        data[start + 1 + rng.randrange(3)] = rng.getrandbits(8)


def _ogg_crc(page: bytes) -> int:
    crc = 0
    for b in page:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFF_FFFF if crc & 0x8000_0000 else (crc << 1) & 0xFFFF_FFFF
    return crc


def _ogg_pages(data: bytes) -> list[tuple[int, int]]:
    """(start, length) of each whole Ogg page."""
    pages, pos = [], 0
    while pos + 27 <= len(data) and data[pos : pos + 4] == b"OggS":
        nseg = data[pos + 26]
        body = sum(data[pos + 27 : pos + 27 + nseg])
        length = 27 + nseg + body
        if pos + length > len(data):
            break
        pages.append((pos, length))
        pos += length
    return pages


def _ogg_field(data: bytearray, rng: random.Random) -> None:
    """Lie in an Ogg stream with a valid checksum: a page's granule position (the length a
    reader takes from the last page), or the identification header's channels, rate or block
    sizes (Vorbis) / channels, pre-skip, rate (Opus)."""
    pages = _ogg_pages(bytes(data))
    if not pages:
        return
    if rng.random() < 0.5:
        start, length = rng.choice([pages[-1], pages[-1], *pages])
        _put(data, start + 6, _value(rng, 64), 8, "little")
    else:
        start, length = pages[0]
        body = start + 27 + data[start + 26]
        if data[body : body + 7] == b"\x01vorbis":
            pos, size = rng.choice([(body + 11, 1), (body + 12, 4), (body + 28, 1)])
        elif data[body : body + 8] == b"OpusHead":
            pos, size = rng.choice([(body + 9, 1), (body + 10, 2), (body + 12, 4)])
        else:
            return
        _put(data, pos, _value(rng, 8 * size), size, "little")
    data[start + 22 : start + 26] = b"\x00\x00\x00\x00"
    data[start + 22 : start + 26] = _ogg_crc(bytes(data[start : start + length])).to_bytes(4, "little")


def _sample_region(data: bytes) -> tuple[int, int] | None:
    """(start, end) of a WAV's sample bytes."""
    pos = data.find(b"data", 12, 4096)
    return (pos + 8, len(data)) if pos > 0 else None


SAMPLE_PATTERNS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "nan": lambda n, g: np.where(g.random(n) < 0.01, np.nan, 0.1).astype(np.float32),
    "inf": lambda n, g: np.where(g.random(n) < 0.001, np.inf, -0.1).astype(np.float32),
    "1e18": lambda n, g: np.full(n, 1e18, np.float32),
    "float_max": lambda n, g: np.full(n, np.finfo(np.float32).max, np.float32),
    "alternating_max": lambda n, g: np.where(np.arange(n) % 2 == 0, 1, -1).astype(np.float32) * np.finfo(np.float32).max,
    "denormal": lambda n, g: np.full(n, 1e-44, np.float32),
    "int16_scale": lambda n, g: (np.sin(np.arange(n) * 0.05) * 32767).astype(np.float32),
    "random_bits": lambda n, g: g.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32).view(np.float32),
    "full_scale_square": lambda n, g: np.where((np.arange(n) // 40) % 2 == 0, 1.0, -1.0).astype(np.float32),
}
"""What a float WAV's samples are replaced by (PCM WAVs get the same bits, read as integers)."""


def mutate(name: str, data: bytes, kind: str, rng: random.Random, others: list[bytes]) -> tuple[str, bytes]:
    """One mutation of a seed's bytes; returns (mutation class, bytes)."""
    out = bytearray(data)
    wav = name.endswith(".wav")
    choices = ["header bytes", "header fields", "truncation", "body bytes", "splice"] + (["sample values"] * 2 if wav else [])
    how = rng.choice(choices)
    if how == "header bytes":
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(min(128, len(out)))] = rng.getrandbits(8)
    elif how == "header fields":
        if wav:
            for _ in range(rng.randint(1, 2)):
                pos, size, order = rng.choice(_wav_fields(data))
                _put(out, pos, _value(rng, 8 * size), size, order)
        elif kind == "FLAC":
            _flac_field(out, rng)
        elif kind == "MP3":
            _mp3_field(out, rng)
        elif kind == "OGG":
            _ogg_field(out, rng)
    elif how == "truncation":
        cut = rng.randrange(min(256, len(out))) if rng.random() < 0.5 else rng.randrange(len(out))
        del out[cut:]
    elif how == "body bytes":
        for _ in range(rng.randint(1, 64)):
            out[rng.randrange(min(128, len(out) - 1), len(out))] = rng.getrandbits(8)
    elif how == "sample values":
        region = _sample_region(data)
        if region is not None:
            a, b = region
            pattern = rng.choice(sorted(SAMPLE_PATTERNS))
            values = SAMPLE_PATTERNS[pattern]((b - a) // 4 + 1, np.random.default_rng(rng.getrandbits(32)))
            out[a:b] = values.tobytes()[: b - a]
    else:  # splice
        extra = rng.choice(others) if rng.random() < 0.5 else rng.randbytes(rng.randint(1, 4096))
        pos = len(out) if rng.random() < 0.5 else rng.randrange(len(out))
        out[pos:pos] = extra
    return how, bytes(out)


# --------------------------------------------------------------------------- running one input


@dataclass
class Outcome:
    """What became of one input: ``ok`` (a report), ``refused`` (an AudioError/ScriptError/…
    naming the file, on one line) or ``crash`` (anything else, or a bad message)."""

    status: str
    code: str | None
    message: str
    peak_mb: float
    cpu_s: float


def analyse_forked(path: Path, *, max_minutes: float | None = None) -> Outcome:
    """Analyse ``path`` as ``analyze --count acoustic`` does, in a forked child process, and
    judge the outcome; the child's peak memory comes from ``wait4``."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: analyse, write one line, exit without cleanup
        os.close(r)
        status, code, message = "crash", None, ""
        try:
            resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_LIMIT, CHILD_ADDRESS_LIMIT))
            from speechcoach.analysis.pipeline import analyze_file
            from speechcoach.errors import InputError, SpeechcoachError
            from speechcoach.render.report import to_dict
            from speechcoach.settings import Settings

            settings = Settings(count="acoustic") if max_minutes is None else Settings(count="acoustic", max_minutes=max_minutes)
            try:
                to_dict(analyze_file(path, settings=settings))
                status = "ok"
            except SpeechcoachError as exc:
                text = str(exc)
                named = isinstance(exc, InputError) and exc.path == str(path)
                status = "refused" if named and "\n" not in text and text.startswith(f"{path}: ") else "crash"
                code, message = getattr(exc, "code", None), text
        except BaseException as exc:  # noqa: BLE001 - the point is to catch everything
            message = f"{type(exc).__name__}: {exc}"
        line = f"{status}\t{code or ''}\t{' '.join(message.split())[:300]}\n".encode()
        os.write(w, line)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        raw = fh.read().decode(errors="replace")
    _, _, usage = os.wait4(pid, 0)
    parts = raw.rstrip("\n").split("\t") if raw else ["crash", "", "child died without a word"]
    status, code, message = (parts + ["", ""])[:3]
    return Outcome(status, code or None, message, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime)


@dataclass
class CliRun:
    """One ``speechcoach`` run in a subprocess."""

    exit_code: int
    stderr: str
    stdout_lines: int
    peak_mb: float
    cpu_s: float

    def problems(self, path: Path, *, lines: int = 1) -> list[str]:
        """What is wrong with this run: an exit code other than 0/1/2, a traceback, a refusal
        that is not exactly ``lines`` line(s) naming the file, chatter beside a report."""
        found = []
        if self.exit_code not in (0, 1, 2):
            found.append(f"exit {self.exit_code}")
        if "Traceback" in self.stderr:
            found.append("traceback")
        err = [line for line in self.stderr.splitlines() if line.strip()]
        if self.exit_code == 2:
            if len(err) != lines or not all(path.name in line for line in err):
                found.append(f"refusal not {lines} line(s) naming the file: {err[:3]!r}")
        elif self.exit_code == 0 and err:
            found.append(f"stderr beside a report: {err[:3]!r}")
        return found


def run_cli_measured(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 3600.0) -> CliRun:
    """``python -m speechcoach ARGS`` in a child process started by ``fork`` + ``exec`` and
    reaped with ``wait4``, which gives its own peak memory and CPU time."""
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w_out, 1)
        os.dup2(w_err, 2)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        for fd in (r_out, r_err, w_out, w_err, devnull):
            os.close(fd)
        try:
            os.execve(sys.executable, [sys.executable, "-m", "speechcoach", *args], env if env is not None else dict(os.environ))
        finally:
            os._exit(127)
    os.close(w_out)
    os.close(w_err)
    import threading

    chunks: dict[int, list[bytes]] = {r_out: [], r_err: []}

    def pump(fd: int) -> None:
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            chunks[fd].append(b)
        os.close(fd)

    threads = [threading.Thread(target=pump, args=(fd,)) for fd in (r_out, r_err)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    out = b"".join(chunks[r_out])
    return CliRun(code, b"".join(chunks[r_err]).decode(errors="replace"), out.count(b"\n"), usage.ru_maxrss / 1024.0,
                  usage.ru_utime + usage.ru_stime)


# --------------------------------------------------------------------------- bombs


def bombs(folder: Path) -> dict[str, Path]:
    """The inputs issue 23 names, built here: name -> file."""
    import soundfile as sf

    made: dict[str, Path] = {}
    p = folder / "flac_10min_192k_8ch_silence.flac"
    with sf.SoundFile(str(p), "w", 192_000, 8, format="FLAC", subtype="PCM_16") as f:
        z = np.zeros((192_000 * 10, 8), np.int16)
        for _ in range(60):
            f.write(z)
    made["FLAC 10 min of silence, 192 kHz x 8 channels"] = p
    y = speechlike(5.0, 16_000)
    small = folder / "small.flac"
    sf.write(str(small), y, 16_000)
    b = bytearray(small.read_bytes())
    b[18:26] = (int.from_bytes(b[18:26], "big") | ((1 << 36) - 1)).to_bytes(8, "big")
    p = folder / "flac_streaminfo_2p36.flac"
    p.write_bytes(b)
    made["FLAC STREAMINFO claiming 2^36-1 samples"] = p
    mp3 = folder / "small.mp3"
    sf.write(str(mp3), y, 16_000, format="MP3")
    b = bytearray(mp3.read_bytes())
    tag = max(b.find(b"Xing"), b.find(b"Info"))
    b[tag + 8 : tag + 12] = (0xFFFF_FFF0).to_bytes(4, "big")
    p = folder / "mp3_xing_frames_huge.mp3"
    p.write_bytes(b)
    made["MP3 whose Xing frame count is huge"] = p
    wav = folder / "w.wav"
    sf.write(str(wav), np.tile(y, 3)[: 12 * 16_000], 16_000, subtype="PCM_16")
    b = bytearray(wav.read_bytes())
    pos = b.find(b"data")
    b[pos + 4 : pos + 8] = (3_000_000_000).to_bytes(4, "little")
    b[4:8] = (3_000_000_036).to_bytes(4, "little")
    p = folder / "wav_header_3gb.wav"
    p.write_bytes(b)
    made["WAV header claiming 3 GB over 0.38 MB"] = p
    for label, value in (("1e18", 1e18), ("largest float", float(np.finfo(np.float32).max))):
        p = folder / f"float_{label.replace(' ', '_')}.wav"
        sf.write(str(p), np.full(3 * 16_000, value, np.float32), 16_000, subtype="FLOAT")
        made[f"float WAV, samples at {label}"] = p
    p = folder / "gsm610.wav"
    sf.write(str(p), speechlike(8.0, 8_000), 8_000, format="WAV", subtype="GSM610")
    made["GSM 6.10 WAV (valid)"] = p
    riff = folder / "riff_named.mp3"
    riff.write_bytes(wav.read_bytes())
    made["WAV bytes named .mp3"] = riff
    return made


def hour_wav(path: Path) -> str:
    """A one-hour 48 kHz stereo 16-bit WAV (691 MB) of corpus speech (clips in turn, 0.5 s
    apart; synthetic speech without the corpus), written in blocks. Returns what it holds."""
    import soundfile as sf
    import soxr

    from .corpus import corpus_dir

    root = corpus_dir()
    clips: list[np.ndarray] = []
    if root is not None:
        for f in sorted(root.glob("*.wav"))[:40]:
            y, sr = sf.read(str(f), dtype="float32", always_2d=True)
            clips.append(soxr.resample(y.mean(axis=1), sr, 48_000).astype(np.float32))
    what = f"{len(clips)} corpus clips in turn" if clips else "synthetic speech"
    if not clips:
        clips = [speechlike(20.0, 48_000, seed=s) for s in range(4)]
    gap = np.zeros(24_000, np.float32)
    total, target, i = 0, 3600 * 48_000, 0
    with sf.SoundFile(str(path), "w", 48_000, 2, subtype="PCM_16") as out:
        while total < target:
            c = np.concatenate([clips[i % len(clips)], gap])[: target - total]
            out.write(np.stack([c, 0.8 * c], axis=1))
            total += len(c)
            i += 1
    return what


# --------------------------------------------------------------------------- the run


@dataclass
class Tally:
    """One input class's figures."""

    inputs: int = 0
    ok: int = 0
    refused: int = 0
    crashes: int = 0
    peak_mb: float = 0.0
    codes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)

    def add(self, o: Outcome, label: str) -> None:
        self.inputs += 1
        self.peak_mb = max(self.peak_mb, o.peak_mb)
        if o.status == "ok":
            self.ok += 1
        elif o.status == "refused":
            self.refused += 1
            self.codes[o.code or "(no code)"] += 1
        else:
            self.crashes += 1
            if len(self.examples) < 5:
                self.examples.append(f"{label}: {o.message}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns a process exit code (1 when a target is missed)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=3000, help="mutated inputs analysed (default 3000)")
    ap.add_argument("--cli", type=int, default=240, help="of them, how many also go through 'speechcoach analyze' (default 240)")
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--hour", action="store_true", help="also the one-hour 48 kHz stereo WAV (691 MB of disk; minutes)")
    ap.add_argument("--hour-counts", default="acoustic",
                    help="the --count modes the one-hour WAV is analysed with, comma-separated (default acoustic; "
                         "'acoustic,auto' adds the speech recogniser: about an hour of CPU on 2 cores)")
    ap.add_argument("--output", type=Path, default=RESULTS, help="where to write the results (default benchmarks/FUZZ_RESULTS.md)")
    args = ap.parse_args(argv)
    import speechcoach.analysis.pipeline  # noqa: F401 - loaded once here, shared by every forked child
    import speechcoach.render.report  # noqa: F401

    rng = random.Random(args.seed)
    t0 = time.process_time()
    by_class: dict[tuple[str, str], Tally] = defaultdict(Tally)
    cli_tally = {"runs": 0, "bad": 0, "peak_mb": 0.0, "exit": defaultdict(int)}
    cli_bad: list[str] = []
    env = dict(os.environ, SPEECHCOACH_CACHE="off")
    with tempfile.TemporaryDirectory(prefix="speechcoach-fuzz-") as tmp:
        folder = Path(tmp)
        seeds = write_seeds(folder)
        names = sorted(seeds)
        others = [seeds[n][1] for n in names]
        cli_every = max(1, args.cases // max(args.cli, 1)) if args.cli else 0
        check_dir = folder / "check"
        check_dir.mkdir()
        for i in range(args.cases):
            name = names[i % len(names)]
            kind, data = seeds[name]
            how, mutated = mutate(name, data, kind, rng, others)
            path = folder / f"case{i:05d}_{name}"
            path.write_bytes(mutated)
            outcome = analyse_forked(path)
            by_class[(kind, how)].add(outcome, path.name)
            if cli_every and i % cli_every == 0 and cli_tally["runs"] < args.cli:
                run = run_cli_measured(["analyze", "--lang", "en" if i % 2 else "zh", "--count", "acoustic", str(path)], env=env)
                cli_tally["runs"] += 1
                cli_tally["exit"][run.exit_code] += 1
                cli_tally["peak_mb"] = max(cli_tally["peak_mb"], run.peak_mb)
                bad = run.problems(path)
                if bad:
                    cli_tally["bad"] += 1
                    cli_bad.append(f"{path.name}: {'; '.join(bad)}")
            if i % 50 == 0 and len(list(check_dir.iterdir())) < 60:
                shutil.copy(path, check_dir / path.name)
            path.unlink()
            if (i + 1) % 500 == 0:
                print(f"benchmarks.fuzz: {i + 1} inputs ({time.process_time() - t0:.0f} s CPU here)", flush=True)
        check_names = sorted(p.name for p in check_dir.iterdir())
        check = run_cli_measured(["check", "--lang", "en", "--count", "acoustic", str(check_dir)], env=env)
        check_bad = _check_problems(check, check_names)
        batch = run_cli_measured(["batch", "--lang", "en", "--count", "acoustic", "-j", "2", "--out", str(folder / "batch-out"),
                                  str(check_dir)], env=env)
        check_bad += [f"batch: {b}" for b in _batch_problems(batch, check_names)]
        bomb_rows: list = []
        hour_rows: list = []

        def write() -> str:  # after each stage, so a long run leaves what it measured
            text = _report(args, by_class, cli_tally, cli_bad, check, check_bad, len(check_names), bomb_rows, hour_rows,
                           time.process_time() - t0)
            write_atomic(args.output, text)
            return text

        for label, p in bombs(folder).items():
            run = run_cli_measured(["analyze", "--lang", "en", "--count", "acoustic", str(p)], env=env)
            line = run.stderr.strip().splitlines()[0] if run.stderr.strip() else "(report written)"
            bomb_rows.append((label, p.stat().st_size, run, run.problems(p), line))
        report = write()
        if args.hour:
            big = folder / "hour_48k_stereo.wav"
            what = hour_wav(big)
            for count in [c.strip() for c in args.hour_counts.split(",") if c.strip()]:
                run = run_cli_measured(["analyze", "--lang", "en", "--count", count, str(big)], env=env)
                hour_rows.append((f"1-hour 48 kHz stereo WAV ({what}), --count {count}", big.stat().st_size, run, run.problems(big), ""))
                report = write()
    print(report)
    missed = any(t.crashes or t.peak_mb >= MEMORY_TARGET_MB for t in by_class.values()) or cli_tally["bad"] or check_bad
    missed = missed or any(bad or run.peak_mb >= MEMORY_TARGET_MB for _, _, run, bad, _ in bomb_rows + hour_rows)
    return 1 if missed else 0


def _check_problems(run: CliRun, names: list[str]) -> list[str]:
    """``check`` over a folder of mutated inputs: exit 0, 1 or 2, no traceback, and an ERROR
    line naming each input it could not judge (stdout: one line per recording)."""
    found = []
    if run.exit_code not in (0, 1, 2):
        found.append(f"exit {run.exit_code}")
    if "Traceback" in run.stderr:
        found.append("traceback")
    if run.stdout_lines != len(names):
        found.append(f"{run.stdout_lines} lines for {len(names)} recordings")
    return found


def _batch_problems(run: CliRun, names: list[str]) -> list[str]:
    """``batch`` over the same folder: exit 0 or 2, no traceback, each stderr line naming an input."""
    found = []
    if run.exit_code not in (0, 2):
        found.append(f"exit {run.exit_code}")
    if "Traceback" in run.stderr:
        found.append("traceback")
    lines = [line for line in run.stderr.splitlines() if line.strip() and "error" in line]
    stray = [line for line in lines if not any(n in line for n in names)]
    if stray:
        found.append(f"error lines naming no input: {stray[:3]!r}")
    return found


def _report(args, by_class, cli_tally, cli_bad, check, check_bad, n_check, bomb_rows, hour_rows, cpu_s) -> str:  # type: ignore[no-untyped-def]
    total = sum(t.inputs for t in by_class.values())
    crashes = sum(t.crashes for t in by_class.values())
    lines = [
        "# Hostile input (issue 23)",
        "",
        f"Written by `python -m benchmarks.fuzz --cases {args.cases} --cli {args.cli} --seed {args.seed}"
        f"{' --hour' if args.hour else ''}{f' --hour-counts {args.hour_counts}' if args.hour and args.hour_counts != 'acoustic' else ''}`;"
        " do not edit by hand.",
        "",
        f"- date: {now()}",
        f"- commit: {git_commit()}",
        f"- machine: {machine()}",
        f"- CPU time of the harness and its children: {cpu_s + _children_cpu():.0f} s",
        "",
        "Peak memory is the peak resident set size of the process that analysed the input (interpreter,",
        "numpy and speechcoach included: ~45-60 MB for a small input), from `wait4`. Targets: no exit code but 0, 1, 2; no",
        f"traceback; every refusal one line naming the file; under {MEMORY_TARGET_MB:.0f} MB for every input, under",
        f"{BOMB_TARGET_MB:.0f} MB for the FLAC bombs and the one-hour WAV.",
        "",
        f"## Mutated inputs: {total} analysed, {crashes} crashes",
        "",
        "Each analysed in a forked process as `analyze --count acoustic` does (`analyze_file`, then the",
        "report): *ok* a report, *refused* an error naming the file on one line, *crash* anything else.",
        "",
        "| input class | mutation | inputs | ok | refused | crashes | peak memory (MB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (kind, how), t in sorted(by_class.items()):
        lines.append(f"| {kind} | {how} | {t.inputs} | {t.ok} | {t.refused} | {t.crashes} | {t.peak_mb:.0f} |")
    per_kind: dict[str, Tally] = defaultdict(Tally)
    for (kind, _), t in by_class.items():
        k = per_kind[kind]
        k.inputs += t.inputs
        k.ok += t.ok
        k.refused += t.refused
        k.crashes += t.crashes
        k.peak_mb = max(k.peak_mb, t.peak_mb)
    for kind, k in sorted(per_kind.items()):
        lines.append(f"| **{kind}** | all | **{k.inputs}** | {k.ok} | {k.refused} | **{k.crashes}** | **{k.peak_mb:.0f}** |")
    codes: dict[str, int] = defaultdict(int)
    for t in by_class.values():
        for c, n in t.codes.items():
            codes[c] += n
    lines += ["", "Refusals by code: " + ", ".join(f"{c} {n}" for c, n in sorted(codes.items(), key=lambda x: -x[1])) + "."]
    examples = [e for t in by_class.values() for e in t.examples]
    if examples:
        lines += ["", "Crashes (first few):", ""] + [f"- `{e}`" for e in examples[:20]]
    exits = ", ".join(f"exit {k}: {v}" for k, v in sorted(cli_tally["exit"].items()))
    lines += [
        "",
        f"## Through the command line: {cli_tally['runs']} `speechcoach analyze` runs, {cli_tally['bad']} with a problem",
        "",
        f"Every {max(1, args.cases // max(args.cli, 1))}th input, alternately `--lang zh` and `--lang en`, `--count acoustic`,",
        f"in a subprocess. {exits}. Peak memory {cli_tally['peak_mb']:.0f} MB.",
    ]
    if cli_bad:
        lines += [""] + [f"- `{b}`" for b in cli_bad[:20]]
    lines += [
        "",
        f"`speechcoach check` and `speechcoach batch -j 2` over {n_check} of the mutated inputs in one folder: check exit "
        f"{check.exit_code}, {check.stdout_lines} result lines, peak memory {check.peak_mb:.0f} MB; "
        + ("no problem." if not check_bad else "problems: " + "; ".join(check_bad)),
        "",
        "## The inputs the issue names",
        "",
        "`speechcoach analyze --lang en --count acoustic FILE` in a subprocess.",
        "",
        "| input | file size | exit | peak memory (MB) | CPU (s) | what it said | problems |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for label, size, run, bad, line in bomb_rows + hour_rows:
        said = line.split(": ", 3)[3] if line.count(": ") >= 3 else (line or f"(report, {run.stdout_lines} lines)")
        lines.append(f"| {label} | {_size(size)} | {run.exit_code} | {run.peak_mb:.0f} | {run.cpu_s:.1f} | {said} | "
                     f"{'; '.join(bad) or 'none'} |")
    if not hour_rows:
        lines += ["", "The one-hour WAV was not run (give `--hour`)." if not args.hour else "The one-hour WAV: still running."]
    elif args.hour and len(hour_rows) < len([c for c in args.hour_counts.split(",") if c.strip()]):
        lines += ["", "The one-hour WAV: still running with the next --count mode."]
    return "\n".join(lines) + "\n"


def _children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} KB"


if __name__ == "__main__":
    raise SystemExit(main())
