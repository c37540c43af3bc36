"""Evaluation of the syllable-nucleus estimator against spoken-syllable counts.

Usage::

    python benchmarks/study_syllables.py [--praat] [--no-cv] [--verbose]

Reads the shared corpus at run time from ``<repo>/../shared/corpus/real``
(never copied into the repo).  Every clip is analysed as in production:
``features.frame_features`` -> ``segmentation.segment`` -> ``syllables`` with
the pipeline's real speech runs and the same frames.  Reports

* per-clip estimate vs truth (``--verbose``),
* mean and median absolute % error per clip and the pooled bias
  (sum of estimates / sum of truths - 1), overall and per source repository,
* leave-one-source-out cross-validation (:func:`loso`): the tuned constants
  are chosen by grid search on all other sources (minimising mean absolute %
  error) and the held-out source is scored with them - the figure that
  predicts unseen recordings,
* the cost of the whole analysis (features + segmentation + nuclei) per
  10 minutes of audio,
* optionally (``--praat``) the de Jong & Wempe Praat baseline.

Truth is ``characters.count_spoken(transcript)`` (digits as read aloud), with
one correction: ``mossttsd_pod_f_enhanced`` says the English word "offer"
(2 syllables) where ``count_spoken`` counts its 5 letters (``TRUTH_FIXES``).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from speechcoach import syllables as S  # noqa: E402
from speechcoach.characters import count_spoken  # noqa: E402
from speechcoach.features import frame_features  # noqa: E402
from speechcoach.segmentation import segment  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "real"
SR = 16000

# Corrections to count_spoken for words read differently from their letters.
TRUTH_FIXES = {
    "mossttsd_pod_f_enhanced": -3,  # "offer": count_spoken counts 5 letters, 2 syllables are said
}

# Grid searched for each tuned constant in the LOSO cross-validation (3 values around
# each default, except the smoothing, whose useful range is narrow).
GRID = dict(
    smooth_s=[0.01, 0.015],
    min_prominence_db=[1.5, 2.0, 2.5],
    min_spacing_s=[0.06, 0.07, 0.08],
    floor_below_loud_db=[25.0, 30.0, 35.0],
    min_voicing=[0.2, 0.3, 0.4],
    voiced_outside_runs=[0.5, 0.6, 0.7, 2.0],  # 2.0 = strict runs
)


@dataclass
class Clip:
    id: str
    source: str
    truth: int
    duration_s: float
    y: np.ndarray
    frames: object
    runs: np.ndarray


def load_audio(path: Path) -> np.ndarray:
    """Mono float32 at 16 kHz."""
    import soundfile as sf
    from scipy.signal import resample_poly

    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != SR:
        g = np.gcd(sr, SR)
        y = resample_poly(y, SR // g, sr // g).astype(np.float32)
    return y


def load_corpus(corpus: Path = CORPUS) -> list[Clip]:
    """All manifest clips with truth, frames and the pipeline's speech runs."""
    with open(corpus / "manifest.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    clips = []
    for r in rows:
        y = load_audio(corpus / r["file"])
        frames = frame_features(y, SR)
        clips.append(Clip(r["id"], r["source_repo"], count_spoken(r["transcript"]) + TRUTH_FIXES.get(r["id"], 0),
                          len(y) / SR, y, frames, segment(frames).runs))
    return clips


def summarise(est: np.ndarray, truth: np.ndarray) -> dict:
    ape = 100.0 * np.abs(est - truth) / truth
    return dict(mean=float(ape.mean()), median=float(np.median(ape)),
                bias=float(100.0 * (est.sum() / truth.sum() - 1.0)), n=len(truth))


def fmt(s: dict) -> str:
    return f"mean {s['mean']:5.1f}%  median {s['median']:5.1f}%  pooled bias {s['bias']:+5.1f}%  (n={s['n']})"


def counts(clips: list[Clip], envs: list[np.ndarray], params: dict) -> np.ndarray:
    return np.array([len(S.pick_nuclei(c.frames, c.runs, env_db=e, **params).times) for c, e in zip(clips, envs)],
                    dtype=float)


def loso(clips: list[Clip], grid: dict = GRID, *, log=None) -> tuple[np.ndarray, dict]:
    """Leave-one-source-out estimates.

    Returns the held-out count for every clip (constants chosen by grid search on
    the other sources) and the constants chosen for each held-out source.
    """
    truth = np.array([c.truth for c in clips], dtype=float)
    srcs = np.array([c.source for c in clips])
    envs = [S.coherence_envelope(c.frames) for c in clips]
    keys = list(grid)
    table = {vals: counts(clips, envs, dict(zip(keys, vals))) for vals in itertools.product(*grid.values())}
    cv, chosen = np.zeros_like(truth), {}
    for s in dict.fromkeys(srcs):
        m = srcs == s
        best = min(table, key=lambda v: np.mean(np.abs(table[v][~m] - truth[~m]) / truth[~m]))
        cv[m] = table[best][m]
        chosen[s] = dict(zip(keys, best))
        if log:
            log(f"  held out {s[:40]:40s} -> {summarise(cv[m], truth[m])['mean']:5.1f}%  with {chosen[s]}")
    return cv, chosen


def timing(minutes: float = 10.0) -> float:
    """Seconds for features + segmentation + nuclei on ``minutes`` of real speech (corpus clips tiled)."""
    clips_y = [load_audio(CORPUS / r) for r in sorted(p.name for p in CORPUS.glob("*.wav"))[:10]]
    y = np.concatenate(clips_y)
    y = np.tile(y, int(np.ceil(minutes * 60 * SR / len(y))))[: int(minutes * 60 * SR)]
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        fr = frame_features(y, SR)
        seg = segment(fr)
        S.detect_nuclei(y, SR, runs=seg.runs, frames=fr)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--praat", action="store_true")
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    clips = load_corpus()
    truth = np.array([c.truth for c in clips], dtype=float)
    srcs = np.array([c.source for c in clips])
    ours = np.array([len(S.detect_nuclei(c.y, SR, runs=c.runs, frames=c.frames)) for c in clips], dtype=float)
    dt = timing()
    print(f"whole analysis (features + segmentation + nuclei), 10 min of audio: {dt:.2f} s "
          f"({600 / dt:.0f}x real time)")

    praat = None
    if args.praat:
        from praat_nuclei import praat_nuclei

        praat = np.array([len(praat_nuclei(c.y, SR)) for c in clips], dtype=float)

    if args.verbose:
        print(f"\n{'id':44s} {'truth':>5s} {'ours':>5s} {'err%':>6s}" + ("  praat   err%" if praat is not None else ""))
        for i, c in enumerate(clips):
            line = f"{c.id[:44]:44s} {truth[i]:5.0f} {ours[i]:5.0f} {100 * (ours[i] - truth[i]) / truth[i]:+6.1f}"
            if praat is not None:
                line += f"  {praat[i]:5.0f} {100 * (praat[i] - truth[i]) / truth[i]:+6.1f}"
            print(line)

    print("\n== In-sample (default constants) ==")
    print("ours : " + fmt(summarise(ours, truth)))
    if praat is not None:
        print("praat: " + fmt(summarise(praat, truth)))
    cv = None
    if not args.no_cv:
        print("\n== Leave-one-source-out CV (grid search on the other sources) ==")
        cv, _ = loso(clips, log=print)
        print("ours, LOSO CV: " + fmt(summarise(cv, truth)))
    print("\nper source (in-sample" + (" | LOSO" if cv is not None else "") + (" | praat" if praat is not None else "") + "):")
    for s in dict.fromkeys(srcs):
        m = srcs == s
        line = f"  {s[:44]:44s} {fmt(summarise(ours[m], truth[m]))}"
        if cv is not None:
            line += f" | {summarise(cv[m], truth[m])['mean']:5.1f}%"
        if praat is not None:
            line += f" | {summarise(praat[m], truth[m])['mean']:5.1f}%"
        print(line)


if __name__ == "__main__":
    main()
