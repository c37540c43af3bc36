"""What carrying the recording costs the HTML report: encoder time, size, and what plays back.

Usage::

    python -m benchmarks.report_audio [--output PATH]

Every corpus clip (and one 10-minute recording made of the clips one after the other, the long
end of a practice explanation) is compressed as :func:`speechcoach.render.media.compressed_mp3`
compresses it for the report, by each encoder it may use: ffmpeg's LAME (when ffmpeg is on the
PATH) and libsndfile's through soundfile. Reported per encoder: CPU time per minute of speech
(this process's for soundfile, the ffmpeg child's for ffmpeg: ``resource.getrusage``, never
wall clock), the bit rate and the base64 size a minute adds to the page, and the largest
difference between the decoded length and the analysed one. Writes
``benchmarks/REPORT_AUDIO_RESULTS.md``.
"""

from __future__ import annotations

import argparse
import base64
import io
import resource
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import soundfile as sf

from speechcoach.fileio import write_atomic
from speechcoach.render import media

from .corpus import REPO, SR, git_commit, machine, now, read_corpus_for

RESULTS = REPO / "benchmarks" / "REPORT_AUDIO_RESULTS.md"
LONG_S = 600.0
"""Length (s) of the long recording made of the clips end to end."""


def _cpu(children: bool) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def measure(encode: Callable[[np.ndarray, int], bytes | None], signals: list[np.ndarray], *, children: bool) -> dict[str, Any]:
    """CPU s per minute, kbit/s, base64 kB per minute and the largest length error (s) of ``encode`` over ``signals``."""
    cpu = seconds = 0.0
    size = 0
    worst = 0.0
    for y in signals:
        c0 = _cpu(children)
        data = encode(y, SR)
        cpu += _cpu(children) - c0
        if data is None:
            return {"available": False}
        seconds += len(y) / SR
        size += len(data)
        back, sr = sf.read(io.BytesIO(data), dtype="float32")
        worst = max(worst, abs(len(back) / sr - len(y) / SR))
    minutes = seconds / 60.0
    return {
        "available": True,
        "cpu_s_per_min": cpu / minutes,
        "realtime": seconds / cpu if cpu > 0 else float("inf"),
        "kbps": size * 8 / seconds / 1000,
        "page_kb_per_min": len(base64.b64encode(b"\0" * int(size / minutes))) / 1000,
        "length_error_s": worst,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns a process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", type=Path, default=RESULTS, help="where to write the results (default benchmarks/REPORT_AUDIO_RESULTS.md)")
    args = ap.parse_args(argv)
    corpus = read_corpus_for("benchmarks.report_audio")
    if corpus is None:
        return 2
    t0 = time.perf_counter()
    clips = [corpus.audio[c.id].astype(np.float32) for c in corpus.clips]
    joined = np.concatenate(clips)
    long = np.resize(joined, int(LONG_S * SR)).astype(np.float32)  # repeated as needed to 10 minutes
    encoders: list[tuple[str, Callable[[np.ndarray, int], bytes | None], bool]] = [
        ("libsndfile (soundfile)", lambda y, sr: media._soundfile_mp3(y, sr), False),
    ]
    if shutil.which("ffmpeg"):
        encoders.insert(0, ("ffmpeg (LAME)", lambda y, sr: media._ffmpeg_mp3(y, sr), True))
    rows = []
    for name, encode, children in encoders:
        for label, signals in ((f"{len(clips)} corpus clips", clips), ("one 10-minute recording", [long])):
            rows.append((name, label, measure(encode, signals, children=children)))
            print(f"{name}, {label}: done ({time.perf_counter() - t0:.0f} s)")
    total_min = sum(len(y) for y in clips) / SR / 60
    lines = [
        "# The recording inside the HTML report",
        "",
        "Written by `python -m benchmarks.report_audio`; do not edit by hand.",
        "",
        f"- date: {now()}",
        f"- commit: {git_commit()}",
        f"- machine: {machine()}",
        f"- corpus: {corpus.root} ({len(clips)} clips, {total_min:.1f} min)",
        f"- target: MP3, {media.SPEECH_KBPS} kbit/s constant, mono, 16 kHz (the analysed signal)",
        "- CPU time: `resource.getrusage` (this process for soundfile, the ffmpeg child for ffmpeg), not wall clock",
        "",
        "| encoder | input | CPU s per min of speech | × real time | kbit/s | page kB per min (base64) | largest length error (s) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, label, m in rows:
        if not m["available"]:
            lines.append(f"| {name} | {label} | not available | | | | |")
            continue
        lines.append(
            f"| {name} | {label} | {m['cpu_s_per_min']:.3f} | {m['realtime']:.0f} | {m['kbps']:.1f} | "
            f"{m['page_kb_per_min']:.0f} | {m['length_error_s']:.3f} |"
        )
    lines.append("")
    write_atomic(args.output, "\n".join(lines))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
