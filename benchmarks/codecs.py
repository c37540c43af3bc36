"""Does the count without a script survive the formats trainees actually record in?

Usage::

    python -m benchmarks.codecs [--output PATH]

Trainers collect recordings from phones and laptops: AAC in ``.m4a``, MP3, Opus, telephone-rate
WAV. Every corpus clip is re-encoded by ``ffmpeg`` into each format below, read back through
:func:`speechcoach.audio.load` (as the command line reads it) and counted as in
:mod:`benchmarks.accuracy` (:func:`~benchmarks.accuracy.speechcoach_estimate`). Reported per
format: the mean absolute error per clip against the transcript, the pooled bias, and how far
the count moved from the original file's (mean absolute change per clip). Writes
``benchmarks/CODEC_RESULTS.md``; needs ``ffmpeg`` on the PATH (skips with a message otherwise).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from speechcoach.fileio import write_atomic

from .corpus import REPO, SR, corpus_for, git_commit, machine, now, read_corpus_for

RESULTS = REPO / "benchmarks" / "CODEC_RESULTS.md"

FORMATS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("WAV, 8 kHz (telephone rate)", "wav", ("-ar", "8000")),
    ("AAC 32 kbit/s (.m4a, phone memo)", "m4a", ("-c:a", "aac", "-b:a", "32k")),
    ("MP3 48 kbit/s, 44.1 kHz stereo", "mp3", ("-ar", "44100", "-ac", "2", "-b:a", "48k")),
    ("Opus 16 kbit/s (.ogg)", "ogg", ("-c:a", "libopus", "-b:a", "16k")),
)
"""(label, file suffix, ffmpeg output options) of each format a clip is re-encoded into."""


def encode(src: Path, dst: Path, options: tuple[str, ...]) -> None:
    """Re-encode ``src`` into ``dst`` with ``ffmpeg`` (``options`` go before the output name)."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-nostdin", "-y", "-i", str(src), *options, str(dst)], check=True)


def summary(est: np.ndarray, truth: np.ndarray, base: np.ndarray) -> dict[str, float]:
    """:func:`benchmarks.accuracy.summary` against ``truth`` (MAE per clip as ``mean``, pooled
    bias), and ``moved``: the mean absolute change from ``base``, all in %."""
    from .accuracy import summary as against_truth

    return {**against_truth(est, truth), "moved": float(100 * np.mean(np.abs(est - base) / np.maximum(base, 1)))}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns a process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", type=Path, default=RESULTS, help="where to write the results (default benchmarks/CODEC_RESULTS.md)")
    args = ap.parse_args(argv)
    root = corpus_for("benchmarks.codecs")
    if root is None:
        return 2
    if shutil.which("ffmpeg") is None:
        print("benchmarks.codecs: ffmpeg not found on the PATH; nothing to benchmark")
        return 0
    from speechcoach.audio import load

    from .accuracy import speechcoach_estimate

    t0 = time.perf_counter()
    corpus = read_corpus_for("benchmarks.codecs", root)  # found before ffmpeg is looked for
    if corpus is None:
        return 2
    clips, audio = corpus.clips, corpus.audio
    truth = np.array([c.n_chars for c in clips], float)
    base = np.array([speechcoach_estimate(audio[c.id], SR)[0] for c in clips], float)
    rows = [("original file", summary(base, truth, base))]
    with tempfile.TemporaryDirectory() as tmp:
        for label, suffix, options in FORMATS:
            est = []
            for c in clips:
                dst = Path(tmp) / f"clip.{suffix}"
                encode(c.path, dst, options)
                est.append(speechcoach_estimate(load(dst, sr=SR).samples, SR)[0])
            rows.append((label, summary(np.array(est, float), truth, base)))
            print(f"{label}: done ({time.perf_counter() - t0:.0f} s)")
    lines = [
        "# Recording formats",
        "",
        "Written by `python -m benchmarks.codecs`; do not edit by hand.",
        "",
        f"- date: {now()}",
        f"- commit: {git_commit()}",
        f"- machine: {machine()}",
        f"- ffmpeg: {_ffmpeg_version()}",
        "",
        f"Every corpus clip ({len(clips)}) re-encoded by ffmpeg and counted without a script, as in "
        "`benchmarks.accuracy`. Moved: mean absolute change of a clip's count from the original file's.",
        "",
        "| format | MAE per clip | pooled bias | moved from the original |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, s in rows:
        lines.append(f"| {label} | {s['mean']:.1f}% | {s['bias']:+.1f}% | {s['moved']:.1f}% |")
    write_atomic(args.output, "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written: {args.output}")
    return 0


def _ffmpeg_version() -> str:
    try:
        out = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.split("\n", 1)[0].replace("ffmpeg version ", "").split(" Copyright")[0]


if __name__ == "__main__":
    raise SystemExit(main())
