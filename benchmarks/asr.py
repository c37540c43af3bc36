"""Benchmark: character counts from the speech recogniser, fused with the sound, against the truth.

For every clip of the real-speech corpus (``../shared/corpus/real/manifest.tsv``, or
``$SPEECHCOACH_CORPUS``) the truth is :func:`speechcoach.characters.count_spoken` of the
manifest transcript. Three counts are compared:

* ``acoustic`` — the syllable-nucleus estimate (``syllables.detect_nuclei``), the no-script
  default;
* ``asr`` — spoken characters of the recogniser's whole transcript (precise mode's decoding:
  the recording from the first speech onset to the last offset, beam 5, temperature 0);
* ``fused`` — the count precise mode reports (:func:`speechcoach.asr.fuse_counts`): the
  recogniser's, without text placed in silence, with the nuclei standing in for decoding
  loops and for runs where the two disagree strongly, plus vocal hesitations the recogniser
  leaves out;
* ``plain`` (``--reference``) — plain faster-whisper on the whole clip,
  ``transcribe(audio, language="zh", beam_size=5)`` with its defaults (temperature fallback,
  conditioning on previous text), counted with ``count_spoken``: the reference that the
  guarded path has to match.

Reported: per-clip mean absolute relative error (MAE), the worst clip, pooled bias
(sum of counts / sum of truths − 1) and speed (seconds of recogniser compute per second of
audio on :data:`speechcoach.asr.THREADS` threads, wall clock; and process CPU time / threads,
which a shared machine's load disturbs less). Writes ``benchmarks/ASR_RESULTS.md`` atomically.

Run: ``python -m benchmarks.asr [--model DIR] [--out PATH] [--reference]``
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speechcoach import asr, fillers
from speechcoach.audio import load
from speechcoach.characters import count_spoken
from speechcoach.features import frame_features
from speechcoach.fileio import write_atomic
from speechcoach.model import resolve_model_dir
from speechcoach.segmentation import segment
from speechcoach.syllables import detect_nuclei

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "real"

EXCLUDED = {
    "mossttsd_pod_f_enhanced": "transcript holds the English word 'offer' (5 letters counted, 2 syllables said)",
}
"""Clips whose truth the counting rule gets wrong, left out with the reason."""

TARGET_MAE = 0.03
TARGET_BIAS = 0.02
TARGET_SPEED = 0.25


@dataclass(frozen=True)
class Row:
    """One clip's counts and timing."""

    id: str
    duration_s: float
    truth: int
    acoustic: int
    asr: int
    fused: int
    flagged_runs: int
    vocal: int
    compute_s: float
    cpu_s: float
    text: str
    source: str = ""
    plain: int | None = None
    plain_s: float | None = None


def corpus_dir() -> Path:
    """The corpus folder (``$SPEECHCOACH_CORPUS`` or ``../shared/corpus/real``)."""
    env = os.environ.get("SPEECHCOACH_CORPUS")
    return Path(env) if env else DEFAULT_CORPUS


def read_manifest(folder: Path) -> list[dict[str, str]]:
    """Rows of ``manifest.tsv`` as dictionaries."""
    with open(folder / "manifest.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def plain_count(y: np.ndarray, model_dir: Path) -> tuple[int, float]:
    """The reference: plain faster-whisper (beam 5, its defaults) on the whole clip; count and seconds."""
    model = asr.load_model(str(model_dir))
    t0 = time.perf_counter()
    segs, _ = model.transcribe(np.asarray(y, dtype=np.float32), language="zh", beam_size=5)
    text = "".join(s.text for s in segs)
    return count_spoken(text), time.perf_counter() - t0


def run_clip(path: Path, truth_text: str, model_dir: Path, source: str = "", reference: bool = False) -> Row:
    """Analyse one clip the way precise mode does and return its counts."""
    a = load(path)
    frames = frame_features(a.samples, a.sr)
    seg = segment(frames)
    nuclei = detect_nuclei(a.samples, a.sr, runs=seg.runs)
    t0 = time.perf_counter()
    c0 = time.process_time()
    tr = asr.transcribe(a.samples, a.sr, seg.runs, model_dir=model_dir)
    fused = asr.fuse_counts(tr, seg.runs, nuclei)
    vocal = fillers.vocal_hesitations(a.samples, a.sr, seg.runs, words=tr.words)
    compute = time.perf_counter() - t0
    cpu = time.process_time() - c0
    plain, plain_s = plain_count(a.samples, model_dir) if reference else (None, None)
    return Row(
        id=path.stem,
        duration_s=a.duration_s,
        truth=count_spoken(truth_text),
        acoustic=int(len(nuclei)),
        asr=fused.asr,
        fused=fused.fused + len(vocal),
        flagged_runs=len(fused.flagged),
        vocal=len(vocal),
        compute_s=compute,
        cpu_s=cpu,
        text=tr.text,
        source=source,
        plain=plain,
        plain_s=plain_s,
    )


def summarise(rows: list[Row], attr: str) -> dict[str, float]:
    """MAE, worst clip, pooled bias and share of clips within 3% for one count."""
    rows = [r for r in rows if getattr(r, attr) is not None]
    est = np.array([getattr(r, attr) for r in rows], dtype=float)
    truth = np.array([r.truth for r in rows], dtype=float)
    rel = est / truth - 1
    return {
        "mae": float(np.mean(np.abs(rel))),
        "median": float(np.median(np.abs(rel))),
        "worst": float(np.max(np.abs(rel))),
        "bias": float(est.sum() / truth.sum() - 1),
        "within3": float(np.mean(np.abs(rel) <= 0.03)),
    }


def _pct(n: int | None, truth: int) -> str:
    return "–" if n is None else f"{n} ({100 * (n / truth - 1):+.0f}%)"


NOTES = """Where the error comes from (read the per-clip table). Decoding: the whole stretch from the
first speech onset to the last offset is decoded as one piece (Whisper reads natural audio with
its pauses better than cut-out runs joined by silence, which is what the first version did);
beam 5 instead of greedy decoding; temperature 0 without Whisper's sampling fallback (the
fallback is not reproducible — the plain reference row moves by ±1 point of MAE and several
points of bias between runs — and costs up to 20 s on a short clip); no initial prompt (with
the Simplified prompt, temperature-0 decoding looped on many clips); repeated 4-token sequences
blocked. Guards (`fuse_counts`): text placed outside the speech runs counts only where a
syllable nucleus lies within 0.4 s (a far-field clip whose speech the segmentation half misses
keeps its text; text invented in a silent pause is dropped); a decoding loop (one phrase of
≥ 3 characters three times in a row) counts the nuclei of its own stretch; a run ≥ 2 s with
fewer than 60% or more than 180% of its nuclei takes the nuclei (the first version's values;
on this decoding neither fires on the corpus — they guard against dropped or invented
stretches). Two choices were made after looking at this corpus, and are stated as such: the
0.4 s tolerance (0.1 s dropped real far-field words in `sherpa_funasrnano_far_2`) and not
using Whisper's compression-ratio loop criterion (it flagged a repetitive poem whose text was
right). A leave-one-source-out choice of the drop ratio from 0.5–0.95 picks 0.5–0.6 for every
held-out source (same figures as 0.6); higher ratios, or scaling the count up, trade MAE for
bias (ratio 0.9: MAE 4.0%, bias −1.1%; ×1.03: MAE 3.3%, bias −1.1%), so neither is used.
What remains is the recogniser writing fluent text: spontaneous speech loses its repetitions
(这这个, 有有) and fillers (啊, 嗯), so the pooled bias is negative and concentrated in a few
spontaneous clips (MOSS-TTSD, FireRedTTS2, CosyVoice rows); the nuclei cannot restore them
because on fast or spontaneous speech they undercount too (`mossttsd_single_reference`:
truth 145, nuclei 104, recogniser 115). Speed is wall time on a shared 2-core machine and
varies with its load; the CPU-time figure is the steadier one."""


def report(rows: list[Row], model_dir: Path, wall_s: float) -> str:
    """The Markdown results page."""
    audio_s = sum(r.duration_s for r in rows)
    compute_s = sum(r.compute_s for r in rows)
    cpu_s = sum(r.cpu_s for r in rows)
    speed = compute_s / audio_s
    cpu_speed = cpu_s / asr.THREADS / audio_s
    has_plain = any(r.plain is not None for r in rows)
    lines = [
        "# Precise mode: recogniser character counts on the real-speech corpus",
        "",
        f"Generated by `python -m benchmarks.asr{' --reference' if has_plain else ''}` ({len(rows)} clips, "
        f"{audio_s:.0f} s of audio; model `{model_dir.name}`, {asr.COMPUTE_TYPE} on {asr.THREADS} CPU threads, "
        f"beam {asr.BEAM_SIZE}, temperature 0, no-repeat {asr.NO_REPEAT_NGRAM}-grams, prompt "
        f"{'none' if not asr.PROMPT else repr(asr.PROMPT)}; {platform.machine()}, Python {platform.python_version()}).",
        "",
        "Truth: `count_spoken(transcript)` of the manifest. Relative error = count / truth − 1.",
        "",
        "| count | per-clip MAE | median | worst clip | pooled bias | clips within 3% |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    counts = [("acoustic", "acoustic nuclei (no script)")]
    if has_plain:
        counts.append(("plain", "plain faster-whisper, beam 5 (reference)"))
    counts += [("asr", "recogniser alone (precise decoding)"), ("fused", "fused (reported)")]
    for attr, label in counts:
        s = summarise(rows, attr)
        lines.append(
            f"| {label} | {100 * s['mae']:.1f}% | {100 * s['median']:.1f}% | {100 * s['worst']:.1f}% | "
            f"{100 * s['bias']:+.1f}% | {100 * s['within3']:.0f}% |"
        )
    f = summarise(rows, "fused")
    lines += [
        "",
        f"Speed: {speed:.3f} s of recogniser compute per s of audio, wall clock (transcription, run "
        f"check and vocal hesitations; {compute_s:.1f} s for {audio_s:.0f} s); {cpu_speed:.3f} by process "
        f"CPU time / {asr.THREADS} threads. Whole benchmark {wall_s:.0f} s wall.",
    ]
    if has_plain:
        plain_s = sum(r.plain_s or 0.0 for r in rows)
        lines[-1] += f" Plain reference: {plain_s / audio_s:.3f} s per s of audio (wall)."
    lines += [
        "",
        "Targets: per-clip error ≤ 3% "
        f"({'met' if f['mae'] <= TARGET_MAE else 'not met'} on average), pooled bias within ±2% "
        f"({'met' if abs(f['bias']) <= TARGET_BIAS else 'not met'}), ≤ 0.25 s compute per s of audio "
        f"({'met' if speed <= TARGET_SPEED else 'not met'}).",
        "",
        "### By source (fused count; each source is a different recording setup)",
        "",
        "| source | clips | MAE | pooled bias |",
        "| --- | --- | --- | --- |",
    ]
    for src in sorted({r.source for r in rows}):
        sub = [r for r in rows if r.source == src]
        s = summarise(sub, "fused")
        lines.append(f"| {src or '?'} | {len(sub)} | {100 * s['mae']:.1f}% | {100 * s['bias']:+.1f}% |")
    lines += ["", NOTES, ""]
    if EXCLUDED:
        lines.append("Excluded: " + "; ".join(f"`{k}` ({v})" for k, v in EXCLUDED.items()) + ".")
        lines.append("")
    head = "| clip | s | truth | acoustic |" + (" plain |" if has_plain else "") + " asr | fused | runs overruled | vocal | compute s |"
    lines += ["## Per clip", "", head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        lines.append(
            f"| {r.id} | {r.duration_s:.1f} | {r.truth} | {_pct(r.acoustic, r.truth)} |"
            + (f" {_pct(r.plain, r.truth)} |" if has_plain else "")
            + f" {_pct(r.asr, r.truth)} | {_pct(r.fused, r.truth)} | {r.flagged_runs} | {r.vocal} | {r.compute_s:.2f} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns a process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="CTranslate2 Whisper folder (default: installed model)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "ASR_RESULTS.md")
    ap.add_argument("--limit", type=int, default=0, help="only the first N clips (quick look)")
    ap.add_argument("--reference", action="store_true", help="also decode plainly (beam 5, faster-whisper defaults) for comparison")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    folder = corpus_dir()
    if not (folder / "manifest.tsv").is_file():
        print(f"benchmarks.asr: corpus not found at {folder}", file=sys.stderr)
        return 2
    if not asr.available():
        print("benchmarks.asr: faster-whisper not installed (pip install 'speechcoach[asr]')", file=sys.stderr)
        return 2
    model_dir = resolve_model_dir(args.model, required=True)
    assert model_dir is not None
    asr.load_model(str(model_dir))  # load once, outside the timing
    rows = []
    t0 = time.perf_counter()
    manifest = [m for m in read_manifest(folder) if m["id"] not in EXCLUDED]
    if args.limit:
        manifest = manifest[: args.limit]
    for m in manifest:
        r = run_clip(folder / m["file"], m["transcript"], model_dir, m.get("source_repo", ""), args.reference)
        rows.append(r)
        if args.verbose:
            print(f"{r.id:45s} truth {r.truth:4d} ac {r.acoustic:4d} asr {r.asr:4d} fused {r.fused:4d} "
                  f"v{r.vocal} f{r.flagged_runs} {r.compute_s:5.2f}s {r.text}", file=sys.stderr)
    md = report(rows, model_dir, time.perf_counter() - t0)
    write_atomic(args.out, md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
