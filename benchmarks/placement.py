"""Pause placement on passages built from the real corpus, with and without the script.

Usage::

    python -m benchmarks.placement [--passages N] [--seed S] [--long-s SECONDS]
    python -m benchmarks.placement --seeds 2024,7,101,202,303 --tune 2024,7 --passages 8

With ``--seeds`` every seed is scored on its own and the seeds are pooled into two groups: the
tuning seeds (``--tune``, the ones the DP costs were chosen on) and the held-out rest, which
is the figure to trust for unseen passages.

Passages come from :func:`benchmarks.passages.build_passages`: joins between clips are sentence
ends, gaps cut inside a clip are mid-phrase. For every passage the full analysis runs twice,
with the script and without it (acoustic placement), and reports

* pause recall and precision: a detected pause matches a true one when both edges are within
  100 ms (detections inside a piece's own speech are not scored, as in
  :func:`benchmarks.passages.score_pauses`);
* placement correct for matched pauses: a true sentence end placed ``sentence`` or
  ``clause``, a true mid-phrase gap placed ``mid_phrase``; without a script ``unknown`` counts
  as not correct, and the share decided and the accuracy among decided pauses are given too;
* with the script, the character index of the pause against the truth at clip joins, and at
  cuts made at a THCHS TextGrid word boundary (caution: those TextGrids do not match their
  audio — their silences fall on speech — so the audio cut is often not where the TextGrid
  says, and that count measures the truth more than the alignment);
* the placement step's share of analysis time, and its time on a recording of ``--long-s``
  seconds (passages joined end to end).

When the corpus is absent it says so on one line (standard error) and exits 2.
"""

from __future__ import annotations

import argparse
import inspect
import time
from dataclasses import dataclass

import numpy as np

from speechcoach.analysis.pipeline import analyze_signal
from speechcoach.analysis.placement import place

from .corpus import corpus_for
from .passages import TOLERANCE_S, Passage, build_passages

TARGETS = {"recall": 0.95, "precision": 0.85, "placement": 0.90}


@dataclass
class Tally:
    """Counts over passages for one condition (with or without the script)."""

    n_true: int = 0
    n_detected: int = 0
    hits: int = 0
    correct: int = 0
    decided: int = 0
    correct_decided: int = 0
    index_checked: int = 0
    index_exact: int = 0
    cut_checked: int = 0
    cut_exact: int = 0
    t_analysis_s: float = 0.0
    t_place_s: float = 0.0

    def line(self, name: str) -> str:
        rec = self.hits / max(self.n_true, 1)
        prec = self.hits / max(self.n_detected, 1)
        ok = self.correct / max(self.hits, 1)
        s = (
            f"{name:<15} recall {rec:.3f}  precision {prec:.3f}  placement correct {ok:.1%}"
            f"  (decided {self.decided}/{self.hits}, correct among decided {self.correct_decided / max(self.decided, 1):.1%})"
        )
        if self.index_checked:
            s += (
                f"\n{'':<15} char_index exact at clip joins {self.index_exact}/{self.index_checked} "
                f"({self.index_exact / self.index_checked:.1%}); at TextGrid cuts {self.cut_exact}/{self.cut_checked}"
            )
        s += f"\n{'':<15} placement step {1000 * self.t_place_s:.1f} ms of {1000 * self.t_analysis_s:.0f} ms analysis ({self.t_place_s / max(self.t_analysis_s, 1e-9):.1%})"
        return s


def match(detected: np.ndarray, passage: Passage, tol: float = TOLERANCE_S) -> tuple[dict[int, int], int]:
    """One-to-one matches ``{true index: detected index}`` (both edges within ``tol``), greedy by
    total edge error, and the number of scored detections (those not inside a piece's speech)."""
    inside = [any(s <= a and b <= e for s, e in passage.speech) for a, b in detected]
    pairs = []
    for i, (ta, tb, _) in enumerate(passage.pauses):
        for j, (da, db) in enumerate(detected):
            if not inside[j] and abs(da - ta) <= tol and abs(db - tb) <= tol:
                pairs.append((abs(da - ta) + abs(db - tb), i, j))
    got: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in got and j not in used:
            got[i] = j
            used.add(j)
    return got, sum(not x for x in inside)


def _analyse(p: Passage, script: str | None):  # noqa: ANN202 - Analysis
    kw = {"count": "acoustic"} if "count" in inspect.signature(analyze_signal).parameters else {}
    t = time.perf_counter()
    an = analyze_signal(p.y, p.sr, script=script, **kw)
    return an, time.perf_counter() - t


def _time_place(an, script: str | None, repeat: int = 3) -> float:  # noqa: ANN001
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        place(an.audio.samples, an.audio.sr, an.segmentation.runs, an.nuclei, script)
        best = min(best, time.perf_counter() - t)
    return float(best)


def score(passages: list[Passage]) -> dict[str, Tally]:
    """Tallies with the script (``script``) and without (``acoustic``)."""
    out = {"script": Tally(), "acoustic": Tally()}
    for p in passages:
        for cond, script in (("script", p.script), ("acoustic", None)):
            an, t_an = _analyse(p, script)
            tl = out[cond]
            tl.t_analysis_s += t_an
            tl.t_place_s += _time_place(an, script)
            det = np.array([[q.start_s, q.end_s] for q in an.pauses]).reshape(-1, 2)
            got, n_scored = match(det, p)
            tl.n_true += len(p.pauses)
            tl.n_detected += n_scored
            tl.hits += len(got)
            for i, j in got.items():
                kind = p.pauses[i][2]
                pred = an.pauses[j].placement
                good = pred in ("sentence", "clause") if kind == "sentence" else pred == "mid_phrase"
                tl.correct += good
                if pred != "unknown":
                    tl.decided += 1
                    tl.correct_decided += good
                if script is not None and p.cut_exact[i]:
                    same = an.pauses[j].char_index == p.pause_char_index[i]
                    if kind == "sentence":
                        tl.index_checked += 1
                        tl.index_exact += same
                    else:
                        tl.cut_checked += 1
                        tl.cut_exact += same
    return out


def long_timing(passages: list[Passage], seconds: float) -> tuple[float, float, int, int, int, int]:
    """Placement time (s) and total analysis time (s) on passages joined to at least ``seconds``,
    with the number of characters and pauses detected, and of true pauses (the passages' own and
    the silences where two passages meet) and how many of them were found (both edges within
    :data:`TOLERANCE_S`). The passages differ in room noise, so the recording's background
    changes at every join."""
    ys, script, total = [], "", 0.0
    truth: list[tuple[float, float]] = []
    prev_end: float | None = None
    while total < seconds:
        for p in passages:
            ys.append(p.y)
            script += p.script if p.script.rstrip()[-1:] in "。？！?!" else p.script + "。"
            if prev_end is not None:
                truth.append((prev_end, total + p.span[0]))
            truth += [(total + a, total + b) for a, b, _ in p.pauses]
            prev_end = total + p.span[1]
            total += p.duration_s
            if total >= seconds:
                break
    y = np.concatenate(ys)
    kw = {"count": "acoustic"} if "count" in inspect.signature(analyze_signal).parameters else {}
    t = time.perf_counter()
    an = analyze_signal(y, passages[0].sr, script=script, **kw)
    t_an = time.perf_counter() - t
    found = sum(
        any(abs(d.start_s - a) <= TOLERANCE_S and abs(d.end_s - b) <= TOLERANCE_S for d in an.pauses) for a, b in truth
    )
    return _time_place(an, script), t_an, an.char_count, len(an.pauses), len(truth), found


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=12, help="number of passages (default 12)")
    ap.add_argument("--seed", type=int, default=2024, help="passage seed (default 2024)")
    ap.add_argument("--seeds", type=str, default="", help="comma-separated seeds, scored one by one and pooled")
    ap.add_argument("--tune", type=str, default="2024,7", help="seeds the costs were tuned on (with --seeds)")
    ap.add_argument("--long-s", type=float, default=600.0, help="length of the timing recording (default 600 s)")
    args = ap.parse_args(argv)
    if corpus_for("benchmarks.placement") is None:
        return 2
    if args.seeds:
        return _multi_seed([int(x) for x in args.seeds.split(",")], {int(x) for x in args.tune.split(",") if x}, args.passages)
    passages = build_passages(args.passages, args.seed)
    n_mid = sum(k == "mid_phrase" for p in passages for *_, k in p.pauses)
    n_all = sum(len(p.pauses) for p in passages)
    dur = sum(p.duration_s for p in passages)
    print(f"{len(passages)} passages (seed {args.seed}), {dur / 60:.1f} min, {n_all} true pauses ({n_mid} mid-phrase)")
    res = score(passages)
    for cond in ("script", "acoustic"):
        print(res[cond].line("with script" if cond == "script" else "without script"))
    s = res["script"]
    checks = {
        "recall": s.hits / max(s.n_true, 1),
        "precision": s.hits / max(s.n_detected, 1),
        "placement": s.correct / max(s.hits, 1),
    }
    print("targets (with script): " + ", ".join(f"{k} {v:.3f} {'≥' if v >= TARGETS[k] else '<'} {TARGETS[k]}" for k, v in checks.items()))
    t_pl, t_an, n_chars, n_pauses, n_true, n_found = long_timing(passages, args.long_s)
    print(
        f"{args.long_s / 60:.0f}-minute recording ({n_chars} characters, {n_pauses} pauses detected; "
        f"{n_found} of its {n_true} true pauses found): "
        f"placement {1000 * t_pl:.1f} ms of {1000 * t_an:.0f} ms analysis ({t_pl / t_an:.1%})"
    )
    return 0


def _pool(tallies: list[Tally]) -> Tally:
    out = Tally()
    for t in tallies:
        for f in vars(out):
            setattr(out, f, getattr(out, f) + getattr(t, f))
    return out


def _multi_seed(seeds: list[int], tune: set[int], n: int) -> int:
    """Score every seed on its own, then pool the tuning seeds and the held-out ones."""
    per: dict[int, Tally] = {}
    for seed in seeds:
        res = score(build_passages(n, seed))
        per[seed] = res["script"]
        tag = "tuning" if seed in tune else "held-out"
        print(res["script"].line(f"seed {seed} ({tag})"), flush=True)
    for name, group in (("tuning", [s for s in seeds if s in tune]), ("held-out", [s for s in seeds if s not in tune])):
        if group:
            t = _pool([per[s] for s in group])
            print(t.line(f"{name} pooled") + f"\n{'':<15} seeds {','.join(map(str, group))}, {n} passages each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
