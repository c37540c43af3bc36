"""How fast speechcoach and the Praat baseline analyse a long recording.

Usage::

    python -m benchmarks.speed [--quick]

One recording of at least 10 minutes is made by joining passages from
:mod:`benchmarks.passages` (room noise, pauses, many voices). On it, in the same run:

* speechcoach in process: :func:`speechcoach.analysis.pipeline.analyze_signal` (no script, acoustic count);
* speechcoach as a whole process: ``python -m speechcoach analyze long.wav --format json --count acoustic``
  run with ``subprocess`` from the folder of the package this process imported, so the same code is
  timed (interpreter start-up, imports and file decoding included). speechcoach's own
  modules are byte-compiled first (:func:`compile_package`), as any installed Python package is:
  an editable install on a machine that sets ``PYTHONDONTWRITEBYTECODE`` would otherwise
  recompile them on every run (~0.15 s here), which measures the machine, not the tool;
* the Praat method in process: :func:`benchmarks.praat_nuclei.praat_nuclei`.

Each is timed best of :data:`RUNS` (5), in interleaved rounds (other work may share the machine);
``--quick`` times once.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import SR, corpus_for
from .passages import Passage, build_passages

LONG_MIN_S = 600.0
SPEED_SEED = 7
"""Seed of the passages built for the long recording when none are passed in."""
RUNS = 5
"""Rounds timed; the best of each method counts (other work on the machine only slows a run)."""


@dataclass(frozen=True)
class Timing:
    """Best wall-clock time of one method on the long recording.

    Attributes
    ----------
    method : str
        What was timed.
    seconds : float
        Best of ``runs`` wall-clock times.
    audio_s : float
        Length of the recording in seconds.
    runs : int
        How many times it was run.
    """

    method: str
    seconds: float
    audio_s: float
    runs: int

    @property
    def realtime(self) -> float:
        """Seconds of audio analysed per second of computing (× real time)."""
        return self.audio_s / self.seconds

    @property
    def per_minute_s(self) -> float:
        """Seconds of computing per minute of audio."""
        return 60.0 * self.seconds / self.audio_s


def long_recording(passages: list[Passage] | None = None, *, min_s: float = LONG_MIN_S) -> np.ndarray:
    """Join passages (more are built with :data:`SPEED_SEED` if needed) into ≥ ``min_s`` seconds."""
    chunks: list[np.ndarray] = []
    total = 0.0
    pool = list(passages or [])
    extra_seed = 0
    while total < min_s:
        if not pool:
            pool = build_passages(n=4, seed=SPEED_SEED + extra_seed)
            extra_seed += 1
        p = pool.pop(0)
        chunks.append(p.y)
        total += len(p.y) / SR
    return np.concatenate(chunks)


def best_of(fn: Callable[[], object], runs: int) -> float:
    """Smallest wall-clock time in seconds of ``runs`` calls of ``fn``."""
    best = np.inf
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return float(best)


def cli_command() -> list[str]:
    """The command line that starts speechcoach from the package this process imported.

    ``python -m speechcoach`` run in the folder that holds that package, so the timed process
    runs the same code (a console script would run whichever checkout is installed, which
    need not be this one, e.g. when the benchmark runs in a second git worktree).
    """
    return [sys.executable, "-m", "speechcoach"]


def package_root() -> Path:
    """The folder holding the imported ``speechcoach`` package (the timed process starts there)."""
    import speechcoach

    return Path(speechcoach.__file__).resolve().parents[1]


def compile_package() -> None:
    """Byte-compile speechcoach's modules into their ``__pycache__``, as ``pip install`` does.

    Python reads cached bytecode even when ``PYTHONDONTWRITEBYTECODE`` stops it from writing
    any, so the timed CLI runs start like those of a normal install.
    """
    import compileall

    compileall.compile_dir(str(package_root() / "speechcoach"), quiet=1)


def run_speed(y: np.ndarray, *, runs: int = RUNS) -> list[Timing]:
    """Time the three methods on ``y`` (mono, :data:`SR`), best of ``runs``.

    The methods are run in rounds (each once per round) so that load from other processes
    falls on all of them alike.
    """
    import soundfile as sf

    from speechcoach.analysis.pipeline import analyze_signal

    from .praat_nuclei import praat_nuclei

    audio_s = len(y) / SR
    compile_package()
    with tempfile.TemporaryDirectory(prefix="speechcoach-speed-") as tmp:
        wav = Path(tmp) / "long.wav"
        sf.write(str(wav), y, SR, subtype="PCM_16")
        # the acoustic count, never precise mode: with a recogniser installed, `auto` would time it
        cmd = [*cli_command(), "analyze", str(wav), "--format", "json", "--count", "acoustic"]
        methods: dict[str, Callable[[], object]] = {
            "speechcoach, in process (analyze_signal)": lambda: analyze_signal(y, SR, count="acoustic"),
            "speechcoach, whole CLI process (python -m speechcoach analyze --format json --count acoustic)": lambda: subprocess.run(
                cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=package_root()
            ),
            "Praat syllable nuclei, in process (parselmouth)": lambda: praat_nuclei(y, SR),
        }
        best = {name: np.inf for name in methods}
        for _ in range(runs):
            for name, fn in methods.items():
                best[name] = min(best[name], best_of(fn, 1))
    return [Timing(name, float(t), audio_s, runs) for name, t in best.items()]


def speed_table(timings: list[Timing]) -> str:
    """The timings as a Markdown table."""
    lines = [
        "| method | audio (min) | best time (s) | × real time | s per minute of audio | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in timings:
        lines.append(
            f"| {t.method} | {t.audio_s / 60:.1f} | {t.seconds:.2f} | {t.realtime:.0f}× | {t.per_minute_s:.3f} | {t.runs} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: print the speed table."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.speed", description="Time speechcoach and the Praat baseline on a ≥ 10 min recording.")
    ap.add_argument("--quick", action="store_true", help=f"time each method once instead of best of {RUNS}")
    args = ap.parse_args(argv)
    if corpus_for("benchmarks.speed") is None:
        return 2
    y = long_recording()
    print(speed_table(run_speed(y, runs=1 if args.quick else RUNS)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
