"""Evaluation of the syllable-nucleus estimator against spoken-syllable counts.

Usage::

    python benchmarks/study_syllables.py [--praat] [--no-cv] [--verbose]

Reads the shared corpus at run time from ``<repo>/../shared/corpus/real`` (or
``$SPEECHCOACH_CORPUS``; never copied into the repo) through ``benchmarks/corpus.py``, audio
read as the pipeline reads it, like the accuracy benchmark.  Every clip is analysed as in production:
``features.frame_features`` -> ``segmentation.segment`` -> ``syllables`` with
the pipeline's real speech runs and the same frames.  Reports

* per-clip estimate vs truth (``--verbose``),
* mean and median absolute % error per clip and the pooled bias
  (sum of estimates / sum of truths - 1), overall and per source repository,
* leave-one-source-out cross-validation (:func:`loso`): the tuned constants
  (the nucleus picker's six, the rate calibration's three and the crowding weight,
  :func:`speechcoach.analysis.syllables.estimate_count`) are chosen by grid search on
  all other sources and the held-out source is scored with them - the figure
  that predicts unseen recordings.  The picker's constants minimise the mean
  absolute % error on the clips as recorded; the rate calibration's then
  minimise the characters miscounted over each clip *and* its copies
  compressed (x0.78) and slowed (x1.12) in time by WSOLA
  (:mod:`benchmarks.stretch`; weights 1, 1/2, 1/2).  Truth is the same at every
  rate, so the copies show how the count falls as speech gets faster, which the
  corpus's mostly moderate clips cannot; counting characters rather than % per
  clip lets a 140-character clip weigh more than a 9-character one, where one
  character is 11 % - the calibration is for recordings of minutes.  Each clip
  is calibrated as a whole; the pipeline calibrates long recordings stretch by
  stretch (:func:`speechcoach.analysis.syllables.estimate_count_runs`, stretches of at
  least 20 nuclei), which changes 2 of the 165 clip versions by one character,
* the cost of the whole analysis (features + segmentation + nuclei) per
  10 minutes of audio,
* optionally (``--praat``) the de Jong & Wempe Praat baseline.

Truth is ``characters.count_spoken(transcript)`` (digits as read aloud), with
one correction: ``mossttsd_pod_f_enhanced`` says the English word "offer"
(2 syllables) where ``count_spoken`` counts its 5 letters (``TRUTH_FIXES``).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from speechcoach.analysis import syllables as S  # noqa: E402
from speechcoach.analysis.features import frame_features  # noqa: E402
from speechcoach.analysis.segmentation import segment  # noqa: E402

from corpus import SR, corpus_dir, corpus_location, missing_message, read_corpus  # noqa: E402  (benchmarks/corpus.py)

CORPUS = corpus_location()

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


# The rate calibration's grid: (pivot, exponent, shrink) triples; exponent 0 is "no correction".
RATE_GRID = [(5.0, 0.0, 25.0)] + [(p, e, k) for e in (0.1, 0.2, 0.3, 0.4, 0.5)
                                  for p in (4.5, 4.75, 5.0, 5.25, 5.5, 5.75) for k in (25.0, 50.0, 100.0)]

# The crowding term's weight (characters per crowded pair beyond the usual share,
# :func:`speechcoach.analysis.syllables.estimate_count`); 0 is "no crowding term".
CROWD_GRID = (0.0, 0.5, 1.0, 1.5)

# Time-scale copies in the LOSO objective: duration factors and their weights.
STRETCHES = (1.0, 0.78, 1.12)
STRETCH_WEIGHTS = (1.0, 0.5, 0.5)


@dataclass
class Version:
    """One clip at one duration factor: its frames, speech runs and seconds of speech."""

    factor: float
    frames: object
    runs: np.ndarray
    speech_s: float


@dataclass
class Clip:
    id: str
    source: str
    truth: int
    duration_s: float
    y: np.ndarray
    frames: object
    runs: np.ndarray
    versions: tuple[Version, ...]
    """The clip at each duration factor asked of :func:`load_corpus` (1.0: the clip itself)."""


def load_corpus(corpus: Path | None = None, factors: tuple[float, ...] = (1.0,)) -> list[Clip]:
    """All manifest clips (the excluded one too, its truth fixed) with frames and the pipeline's
    speech runs, read as the pipeline reads them (:func:`corpus.read_corpus`; rows it cannot use are left out).

    ``corpus``: the corpus folder (default :func:`corpus.corpus_location`). ``factors``: duration
    factors of the time-scaled copies to analyse too (``Clip.versions``, in this order; 1.0 is
    the clip itself).
    """
    from stretch import wsola

    clips = []
    listed, audio, _skipped = read_corpus(corpus or CORPUS, include_excluded=True)  # unusable rows left out
    for c in listed:
        y = audio[c.id]
        frames = frame_features(y, SR)
        seg = segment(frames)
        versions = []
        for fac in factors:
            fr = frames if fac == 1.0 else frame_features(wsola(y, fac, SR), SR)
            sg = seg if fac == 1.0 else segment(fr)
            versions.append(Version(fac, fr, sg.runs, sg.phonation_s))
        clips.append(Clip(c.id, c.source, c.n_chars + TRUTH_FIXES.get(c.id, 0),
                          len(y) / SR, y, frames, seg.runs, tuple(versions)))
    return clips


def summarise(est: np.ndarray, truth: np.ndarray) -> dict:
    ape = 100.0 * np.abs(est - truth) / truth
    return dict(mean=float(ape.mean()), median=float(np.median(ape)),
                bias=float(100.0 * (est.sum() / truth.sum() - 1.0)), n=len(truth))


def fmt(s: dict) -> str:
    return f"mean {s['mean']:5.1f}%  median {s['median']:5.1f}%  pooled bias {s['bias']:+5.1f}%  (n={s['n']})"


def loso(clips: list[Clip], grid: dict = GRID, rate_grid: list = RATE_GRID, crowd_grid: tuple = CROWD_GRID, *,
         log=None) -> tuple[np.ndarray, dict]:
    """Leave-one-source-out estimates.

    For each held-out source, in two steps on the other sources: the nucleus picker's
    constants (``grid``) minimise the mean absolute % error on the clips as recorded, without
    rate calibration; then, with those, the rate calibration (``rate_grid``, whose first entry
    must be "no correction", times the crowding weights of ``crowd_grid``, whose first entry must
    be 0; the crowding share is the training clips' own, and so is the width scale of the rate, see below) minimises the characters miscounted over each clip and its
    time-scaled copies (:data:`STRETCHES`, weighted by :data:`STRETCH_WEIGHTS`; from
    ``load_corpus(..., factors=STRETCHES)``; clips loaded without copies are scored as they are).
    Ties go to the earlier grid entry. The production constants are the same two steps on every
    source (``chosen["(all sources)"]``).

    The calibration's rate is the lobe-width rate (:func:`speechcoach.analysis.syllables.width_rate`), its
    scale (``WIDTH_SCALE``) measured on the training clips as recorded: the median of the
    ``WIDTH_QUANTILE`` lobe width times the nucleus rate (``width_scale`` in ``chosen``).

    Returns
    -------
    cv : np.ndarray, shape (n_clips,) or (n_factors, n_clips)
        The held-out estimate for every clip (constants chosen by grid search on the other
        sources), one row per version when the clips have versions.
    chosen : dict
        The constants chosen for each held-out source.
    """
    truth = np.array([c.truth for c in clips], dtype=float)
    srcs = np.array([c.source for c in clips])
    versions = [c.versions for c in clips]
    n_v = len(versions[0])
    weights = np.array(STRETCH_WEIGHTS[:n_v] if n_v > 1 else (1.0,))[:, None]
    envs = [[S.coherence_envelope(v.frames) for v in vs] for vs in versions]
    speech = np.array([[v.speech_s for v in vs] for vs in versions]).T  # (n_v, n_clips)
    keys = list(grid)
    raw, crowd = {}, {}  # picker constants -> nucleus counts, crowded pairs; shape (n_v, n_clips)
    wq = {}  # picker constants -> WIDTH_QUANTILE of the lobe widths (s), nan without nuclei; shape (n_v, n_clips)
    for vals in itertools.product(*grid.values()):
        params = dict(zip(keys, vals))
        tracks = [[S.pick_nuclei(vs[i].frames, vs[i].runs, env_db=envs[j][i], **params)
                   for j, vs in enumerate(versions)] for i in range(n_v)]
        times = [[t.times for t in row] for row in tracks]
        wq[vals] = np.array([[np.quantile(t.width_s, S.WIDTH_QUANTILE) if len(t.times) else np.nan for t in row]
                             for row in tracks])
        raw[vals] = np.array([[len(t) for t in row] for row in times])
        crowd[vals] = np.array([[int(S.crowded(t, vs[i].runs).sum()) for t, vs in zip(row, versions)]
                                for i, row in enumerate(times)])
    ape = {k: np.abs(v[0] - truth) / truth for k, v in raw.items()}
    names = keys + ["pivot", "exponent", "shrink", "crowd_weight", "crowd_share", "width_scale"]

    def estimate(key: tuple) -> np.ndarray:
        picker, (pivot, exponent, shrink, weight, share, scale) = key[:-6], key[-6:]
        rate = scale / np.maximum(wq[picker], S.WIDTH_FLOOR_S)  # nan (no nuclei): the nucleus rate
        return S.estimate_count(raw[picker], speech, crowded=crowd[picker], rate=rate, pivot=pivot,
                                exponent=exponent, shrink=shrink, crowd_weight=weight, crowd_share=share)

    def two_steps(train: np.ndarray) -> tuple:
        # 1. the picker's constants, on the training clips as recorded, uncorrected
        picker = min(raw, key=lambda v: float(np.sum(ape[v][train])))
        # 2. the rate calibration, with that picker, on the clips and their time-scaled copies,
        #    in characters miscounted; the crowding term is zero at the training clips' own
        #    share of crowded pairs (as recorded), so only its weight is searched
        share = round(float(crowd[picker][0, train].sum() / max(raw[picker][0, train].sum(), 1)), 3)
        # the width scale: lobe width (quantile) x nucleus rate, median over the training clips as recorded
        scale = round(float(np.nanmedian((np.maximum(wq[picker], S.WIDTH_FLOOR_S) * raw[picker] / speech)[0, train])), 3)
        return min((picker + tuple(r) + (w, share, scale) for w in crowd_grid for r in rate_grid),
                   key=lambda k: float(np.sum(weights * np.abs(estimate(k) - truth)[:, train])))

    cv, chosen = np.zeros((n_v, len(truth))), {}
    for s in dict.fromkeys(srcs):
        m = srcs == s
        best = two_steps(~m)
        cv[:, m] = estimate(best)[:, m]
        chosen[s] = dict(zip(names, best))
        if log:
            log(f"  held out {s[:40]:40s} -> {summarise(cv[0, m], truth[m])['mean']:5.1f}%  with {chosen[s]}")
    chosen["(all sources)"] = dict(zip(names, two_steps(np.ones(len(truth), dtype=bool))))
    if log:
        log(f"  all sources -> {chosen['(all sources)']}")
    return (cv if n_v > 1 else cv[0]), chosen


def timing(clips: list[Clip], minutes: float = 10.0) -> float:
    """Seconds for features + segmentation + nuclei on ``minutes`` of real speech (the first ten
    clips of :func:`load_corpus`, tiled)."""
    y = np.concatenate([c.y for c in clips[:10]])
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
    if corpus_dir() is None:
        print(missing_message())
        return

    clips = load_corpus(factors=STRETCHES)
    truth = np.array([c.truth for c in clips], dtype=float)
    srcs = np.array([c.source for c in clips])
    picked = [[S.pick_nuclei(c.versions[i].frames, c.versions[i].runs) for c in clips] for i in range(len(STRETCHES))]
    tracks = [[p.times for p in row] for row in picked]
    ours_v = np.array([[S.estimate_count(len(p.times), c.versions[i].speech_s, crowded=int(S.crowded(p.times, c.versions[i].runs).sum()),
                                         rate=S.width_rate(p.width_s))
                        for p, c in zip(row, clips)] for i, row in enumerate(picked)], dtype=float)
    scale = np.median([np.quantile(p.width_s, S.WIDTH_QUANTILE) * len(p.times) / c.versions[0].speech_s
                       for p, c in zip(picked[0], clips) if len(p.times)])
    print(f"width scale (WIDTH_SCALE): lobe width ({S.WIDTH_QUANTILE:.2f} quantile) x nucleus rate, median over the clips: {scale:.3f}")
    ours = ours_v[0]
    for i, fac in enumerate(STRETCHES):
        share = sum(int(S.crowded(t, c.versions[i].runs).sum()) for t, c in zip(tracks[i], clips)) / sum(len(t) for t in tracks[i])
        print(f"crowded pairs per nucleus, x{fac}: {share:.3f}")
    dt = timing(clips)
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
    for i, fac in enumerate(STRETCHES[1:], start=1):
        print(f"ours, WSOLA x{fac}: " + fmt(summarise(ours_v[i], truth)))
    if praat is not None:
        print("praat: " + fmt(summarise(praat, truth)))
    cv = None
    if not args.no_cv:
        print("\n== Leave-one-source-out CV (grid search on the other sources) ==")
        cv_v, _ = loso(clips, log=print)
        cv = cv_v[0]
        print("ours, LOSO CV: " + fmt(summarise(cv, truth)))
        for i, fac in enumerate(STRETCHES[1:], start=1):
            print(f"ours, LOSO CV, WSOLA x{fac}: " + fmt(summarise(cv_v[i], truth)))
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
