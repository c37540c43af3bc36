"""Evaluation of the syllable-nucleus estimator against hanzi counts.

Usage::

    python benchmarks/study_syllables.py [--no-praat] [--no-cv] [--verbose]

Reads the shared corpus at run time from ``<repo>/../shared/corpus/real``
(never copied into the repo).  Reports, for ``speechcoach.syllables`` and for
the de Jong & Wempe Praat baseline (``benchmarks/praat_nuclei.py``):

* per-clip estimate vs truth (``--verbose``),
* mean and median absolute % error per clip and the pooled bias
  (sum of estimates / sum of truths - 1),
* the same per source repository,
* leave-one-source-out cross-validation (LOSO): the tuned constants are
  chosen by grid search on all other sources (minimising mean absolute %
  error) and the held-out source is scored with them.

Truth is ``hanzi_count``; the two clips whose transcript contains digits or
Latin letters are corrected by hand for what is read aloud (see
``TRUTH_FIXES``).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from speechcoach import syllables as S  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "real"
SR = 16000

# Spoken-syllable corrections for transcripts with digits / Latin letters.
TRUTH_FIXES = {
    "sherpa_funasrnano_far_2": +1,  # "8号线": the digit 8 is read "ba" (1 syllable)
    "mossttsd_pod_f_enhanced": +2,  # "offer" is read as 2 syllables (of-fer)
}

# Grid searched for each tuned constant in the LOSO cross-validation.
GRID = dict(
    smooth_s=[0.02, 0.03, 0.04],
    min_prominence_db=[2.0, 2.5, 3.0, 3.5, 4.0],
    min_spacing_s=[0.05, 0.07, 0.09],
    local_drop_db=[10.0, 15.0, 20.0],
    floor_below_loud_db=[20.0, 25.0, 30.0],
)


def load_manifest() -> list[dict]:
    with open(CORPUS / "manifest.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        r["truth"] = int(r["hanzi_count"]) + TRUTH_FIXES.get(r["id"], 0)
    return rows


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


def summarise(est: np.ndarray, truth: np.ndarray) -> dict:
    ape = 100.0 * np.abs(est - truth) / truth
    return dict(
        mean=float(ape.mean()),
        median=float(np.median(ape)),
        bias=float(100.0 * (est.sum() / truth.sum() - 1.0)),
        n=len(truth),
    )


def fmt(s: dict) -> str:
    return f"mean {s['mean']:5.1f}%  median {s['median']:5.1f}%  pooled bias {s['bias']:+5.1f}%  (n={s['n']})"


def counts_for(feats, params) -> np.ndarray:
    return np.array([len(S.pick_nuclei(t, e, None, **params).times) for t, e in feats], dtype=float)


def mape(est, truth) -> float:
    return float(np.mean(np.abs(est - truth) / truth))


def grid_search(feats, truth, grid) -> dict:
    keys = list(grid)
    best, best_err = None, np.inf
    for vals in itertools.product(*(grid[k] for k in keys)):
        p = dict(zip(keys, vals))
        e = mape(counts_for(feats, p), truth)
        if e < best_err:
            best, best_err = p, e
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-praat", action="store_true")
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    rows = load_manifest()
    truth = np.array([r["truth"] for r in rows], dtype=float)
    srcs = np.array([r["source_repo"] for r in rows])
    audio = [load_audio(CORPUS / r["file"]) for r in rows]
    total_s = sum(len(y) for y in audio) / SR

    t0 = time.perf_counter()
    ours = np.array([len(S.detect_nuclei(y, SR)) for y in audio], dtype=float)
    dt = time.perf_counter() - t0
    print(f"speechcoach.syllables: {total_s:.0f} s audio in {dt:.2f} s "
          f"({total_s / dt:.0f}x real time; {600 * dt / total_s:.3f} s per 10 min)")

    praat = None
    if not args.no_praat:
        from praat_nuclei import praat_nuclei

        praat = np.array([len(praat_nuclei(y, SR)) for y in audio], dtype=float)

    if args.verbose:
        print(f"\n{'id':44s} {'truth':>5s} {'ours':>5s} {'err%':>6s}" + ("  praat   err%" if praat is not None else ""))
        for i, r in enumerate(rows):
            line = f"{r['id'][:44]:44s} {truth[i]:5.0f} {ours[i]:5.0f} {100 * (ours[i] - truth[i]) / truth[i]:+6.1f}"
            if praat is not None:
                line += f"  {praat[i]:5.0f} {100 * (praat[i] - truth[i]) / truth[i]:+6.1f}"
            print(line)

    print("\n== In-sample (default constants) ==")
    print("ours : " + fmt(summarise(ours, truth)))
    if praat is not None:
        print("praat: " + fmt(summarise(praat, truth)))
    print("\nper source (ours | praat):")
    for s in dict.fromkeys(srcs):
        m = srcs == s
        line = f"  {s[:44]:44s} {fmt(summarise(ours[m], truth[m]))}"
        if praat is not None:
            line += f" | {summarise(praat[m], truth[m])['mean']:5.1f}%"
        print(line)

    if args.no_cv:
        return
    feats = [S.vowel_envelope(y, SR) for y in audio]
    print("\n== Leave-one-source-out CV (grid search on the other sources) ==")
    cv = np.zeros_like(truth)
    for s in dict.fromkeys(srcs):
        m = srcs == s
        best = grid_search([f for f, k in zip(feats, ~m) if k], truth[~m], GRID)
        cv[m] = counts_for([f for f, k in zip(feats, m) if k], best)
        print(f"  held out {s[:40]:40s} -> {summarise(cv[m], truth[m])['mean']:5.1f}%  with {best}")
    best_all = grid_search(feats, truth, GRID)
    tuned = counts_for(feats, best_all)
    print("\nours, LOSO CV          : " + fmt(summarise(cv, truth)))
    print("ours, in-sample default: " + fmt(summarise(ours, truth)))
    print(f"ours, in-sample best   : {fmt(summarise(tuned, truth))}  with {best_all}")
    if praat is not None:
        print("praat (untuned)        : " + fmt(summarise(praat, truth)))


if __name__ == "__main__":
    main()
