"""How ``speechcoach batch`` scales: throughput with 1 and 2 workers, and whether memory stays flat.

Builds N recordings in a temporary folder (symlinks to the seven samples with their scripts,
plus trimmed variants without scripts, so the no-script estimate runs too), spread over
trainee folders, then runs the real command line (``speechcoach batch``) as a subprocess:

- for each ``--jobs`` value: a small run (``--small`` recordings) and the full run (N), each
  into a fresh output folder, then a re-run of the full batch (everything unchanged: skipped);
- while a run goes, ``/proc/<pid>/status`` of the command and all its descendants is sampled
  (``VmHWM``: the peak resident memory of each process), so the peak per worker process is
  known; ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is reported as a cross-check;
- memory is "flat" when the full run's peaks stay within 15 % (+20 MB) of the small run's.

Results go to ``benchmarks/BATCH_RESULTS.md`` (written atomically).

Usage::

    python benchmarks/batch_scale.py --n 1000 --small 100 --jobs 1,2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .speed import cli_command, package_root

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
RESULTS = Path(__file__).resolve().parent / "BATCH_RESULTS.md"
TRIM_FRACTIONS = (0.6, 0.8)


def build_corpus(root: Path, n: int, per_trainee: int = 10) -> Path:
    """``n`` recordings under ``root/in/trainee_XXX/``: symlinked samples and trimmed variants.

    Returns the input folder.
    """
    import soundfile as sf

    sources = root / "sources"
    sources.mkdir(parents=True)
    variants: list[tuple[Path, Path | None]] = []
    for wav in sorted(SAMPLES.glob("*.wav")):
        variants.append((wav, wav.with_suffix(".txt")))
        y, sr = sf.read(wav, dtype="float32")
        for frac in TRIM_FRACTIONS:
            p = sources / f"{wav.stem}_trim{int(frac * 100)}.wav"
            sf.write(p, y[: int(len(y) * frac)], sr)
            variants.append((p, None))  # no script: the character count is estimated
    inp = root / "in"
    for i in range(n):
        audio, script = variants[i % len(variants)]
        d = inp / f"trainee_{i // per_trainee:03d}"
        d.mkdir(parents=True, exist_ok=True)
        name = f"take{i:05d}_{audio.stem}"
        (d / f"{name}.wav").symlink_to(audio)
        if script is not None:
            (d / f"{name}.txt").symlink_to(script)
    return inp


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _descendants(pid: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of every process below ``pid``."""
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append((c, p))
            todo.append(c)
    return out


def _status(pid: int) -> tuple[int, str]:
    """(VmHWM in kB, command line) of a process, (0, "") when gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            hwm = next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), 0)
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except (OSError, ValueError):
        return 0, ""
    return hwm, cmd


@dataclass
class Run:
    """One measured ``speechcoach batch`` invocation."""

    jobs: int
    n: int
    kind: str
    wall_s: float = 0.0
    batch_s: float = 0.0
    exit_code: int = 0
    counts: dict = field(default_factory=dict)
    parent_peak_mb: float = 0.0
    worker_peak_mb: float = 0.0
    workers_seen: int = 0
    rusage_children_mb: float = 0.0
    load_avg: float = 0.0
    analysis_s: float = 0.0

    @property
    def per_min(self) -> float:
        return 60.0 * self.n / self.wall_s if self.wall_s else 0.0


def measure(inp: Path, out: Path, jobs: int, n: int, kind: str, interval_s: float = 0.1) -> Run:
    """Run the batch as a subprocess and sample the memory of it and its workers."""
    cmd = [*cli_command(), "batch", str(inp), "--out", str(out), "--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            cwd=package_root())  # this checkout's speechcoach, as benchmarks.speed runs it
    peaks: dict[int, tuple[int, str, int]] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for pid, ppid in [(proc.pid, os.getpid()), *_descendants(proc.pid)]:
                hwm, c = _status(pid)
                if hwm and hwm >= peaks.get(pid, (0, "", 0))[0]:
                    peaks[pid] = (hwm, c, ppid)
            stop.wait(interval_s)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        _, err = proc.communicate()
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait()
        raise
    finally:
        stop.set()
        th.join()
    run = Run(jobs=jobs, n=n, kind=kind, wall_s=time.perf_counter() - t0, exit_code=proc.returncode)
    if proc.returncode not in (0, 2):
        raise SystemExit(f"batch failed ({proc.returncode}): {err.decode(errors='replace')[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run.rusage_children_mb = max(after, before) / 1024
    log = json.loads((out / ".speechcoach-state" / "last-run.json").read_text(encoding="utf-8"))
    run.batch_s = float(log["elapsed_s"])
    run.load_avg = os.getloadavg()[0]
    run.analysis_s = _analysis_seconds(out, log)
    run.counts = log["counts"]
    run.parent_peak_mb = peaks.get(proc.pid, (0, "", 0))[0] / 1024
    # workers are forked by the fork server (a child of the command), so they are grandchildren
    workers = {pid: kb for pid, (kb, _c, ppid) in peaks.items() if pid != proc.pid and ppid != proc.pid}
    run.workers_seen = len(workers)
    run.worker_peak_mb = max(workers.values(), default=0) / 1024
    if jobs == 1:  # analysed in the command's own process
        run.worker_peak_mb = run.parent_peak_mb
    return run


def _analysis_seconds(out: Path, log: dict) -> float:
    """Sum of the per-recording analysis times (in the workers) of the recordings analysed in this run."""
    if not log["counts"].get("analysed"):
        return 0.0
    total = 0.0
    for f in (out / ".speechcoach-state").glob("*.json"):
        if f.name != "last-run.json":
            total += float(json.loads(f.read_text(encoding="utf-8")).get("seconds", 0.0))
    return total


def flat(small: Run, big: Run) -> bool:
    """Peaks of the big run within 15 % (+20 MB) of the small run's."""
    ok = big.worker_peak_mb <= small.worker_peak_mb * 1.15 + 20
    return ok and big.parent_peak_mb <= small.parent_peak_mb * 1.15 + 20


def _speed_notes(runs: list[Run], n: int) -> list[str]:
    """Speed-up from 1 to 2 workers, and how many recordings were really analysed at once."""
    full = {r.jobs: r for r in runs if r.kind == f"fresh {n}"}
    out: list[str] = []
    if 1 in full and 2 in full and full[1].per_min:
        out += ["", f"Speed-up from 1 to 2 workers: ×{full[2].per_min / full[1].per_min:.2f}."]
    for jobs, r in sorted(full.items()):
        if r.batch_s and r.counts.get("analysed"):
            per = 1000 * r.analysis_s / r.counts["analysed"]
            out.append(
                f"- `--jobs {jobs}`: {r.analysis_s / r.batch_s:.2f} recordings in analysis at any moment on average, "
                f"{per:.0f} ms per recording inside a worker (load average {r.load_avg:.1f} on {os.cpu_count()} cores)."
            )
    if 1 in full and 2 in full and full[2].analysis_s > 1.5 * full[1].analysis_s:
        out.append(
            "- Both workers were busy throughout, but each recording took far longer than with one worker: the cores were "
            "shared with other processes, so the second worker found little free CPU."
        )
    return out


def report(runs: list[Run], n: int, small: int, corpus_note: str) -> str:
    lines = [
        "# Batch scaling: `speechcoach batch`",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()} with {os.cpu_count()} cores "
        f"(Python {platform.python_version()}); the machine was shared with other work, so times are indicative.",
        "",
        f"Corpus: {corpus_note}",
        "",
        "Throughput is recordings per minute of wall time for the whole command (start-up, hashing, "
        "workers, summaries); *batch s* is the time inside the batch after discovery. Memory: *worker peak* is the "
        "largest `VmHWM` of any analysis process (with `--jobs 1` the command itself), *parent peak* the command's "
        "own `VmHWM`, sampled from `/proc` every 0.1 s; *rusage* is `getrusage(RUSAGE_CHILDREN).ru_maxrss` of the "
        "benchmark (largest process ever reaped, cumulative across runs). *analysis s* sums the per-recording "
        "times the workers measured (read, analyse, render, write); *load avg* is the 1-minute load average at the end of the run "
        "(the machine has 2 cores: above ~2, the workers were competing with other processes).",
        "",
        "| jobs | run | recordings | analysed | skipped | failed | wall s | batch s | rec/min | analysis s (sum) | worker peak MB | parent peak MB | workers seen | rusage MB | load avg |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        c = r.counts
        lines.append(
            f"| {r.jobs} | {r.kind} | {r.n} | {c.get('analysed', 0)} | {c.get('skipped', 0)} | {c.get('failed', 0)} | "
            f"{r.wall_s:.1f} | {r.batch_s:.1f} | {r.per_min:.0f} | {r.analysis_s:.1f} | {r.worker_peak_mb:.0f} | {r.parent_peak_mb:.0f} | "
            f"{(r.workers_seen or '–') if r.jobs > 1 else 1} | {r.rusage_children_mb:.0f} | {r.load_avg:.1f} |"
        )
    lines += ["", "## Memory flat?", ""]
    for jobs in sorted({r.jobs for r in runs}):
        s = next((r for r in runs if r.jobs == jobs and r.kind == f"fresh {small}"), None)
        b = next((r for r in runs if r.jobs == jobs and r.kind == f"fresh {n}"), None)
        if s and b:
            lines.append(
                f"- `--jobs {jobs}`: worker peak {s.worker_peak_mb:.0f} MB at {small} recordings vs {b.worker_peak_mb:.0f} MB at {n}; "
                f"parent {s.parent_peak_mb:.0f} → {b.parent_peak_mb:.0f} MB: **{'flat' if flat(s, b) else 'GROWS'}**"
            )
    lines += _speed_notes(runs, n)
    lines += [
        "",
        "Workers are replaced after 100 recordings (`max_tasks_per_child`) and started from a fork server with "
        "the analysis preloaded, so a replacement is cheap and a worker's memory cannot creep; the parent keeps only "
        "one small summary row per recording.",
        "",
        f"Reproduce: `python benchmarks/batch_scale.py --n {n} --small {small} --jobs {','.join(str(j) for j in sorted({r.jobs for r in runs}))}`",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="recordings in the full run (default 1000)")
    ap.add_argument("--small", type=int, default=100, help="recordings in the small run for the memory comparison")
    ap.add_argument("--jobs", default="1,2", help="comma-separated --jobs values (default 1,2)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--results", type=Path, default=RESULTS, help="where to write the Markdown results")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from speechcoach.fileio import write_atomic

    jobs_list = [int(j) for j in args.jobs.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="speechcoach-batch-scale-"))
    try:
        big_in = build_corpus(tmp / "big", args.n)
        small_in = build_corpus(tmp / "small", args.small)
        note = (
            f"{args.n} recordings in {(args.n + 9) // 10} trainee folders: symlinks to the 7 samples (19–46 s, with scripts) "
            f"and to trimmed variants at {', '.join(f'{int(f * 100)} %' for f in TRIM_FRACTIONS)} of their length (no script, "
            "characters estimated from the sound)."
        )
        runs: list[Run] = []
        for jobs in jobs_list:
            for inp, n, kind in ((small_in, args.small, f"fresh {args.small}"), (big_in, args.n, f"fresh {args.n}")):
                out = tmp / f"out_j{jobs}_{n}"
                r = measure(inp, out, jobs, n, kind)
                runs.append(r)
                print(f"jobs={jobs} {kind}: {r.wall_s:.1f} s, {r.per_min:.0f}/min, worker peak {r.worker_peak_mb:.0f} MB, parent {r.parent_peak_mb:.0f} MB", file=sys.stderr)
                if n == args.n:
                    r2 = measure(inp, out, jobs, n, "re-run (unchanged)")
                    runs.append(r2)
                    print(f"jobs={jobs} re-run: {r2.wall_s:.1f} s", file=sys.stderr)
                shutil.rmtree(out / "reports", ignore_errors=True)
        text = report(runs, args.n, args.small, note)
        write_atomic(args.results, text)
        print(text)
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
