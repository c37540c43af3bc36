"""Pauses and rate when the background noise changes during a recording.

Usage::

    python -m benchmarks.background [--passages N] [--seed S] [--step-db DB] [--cap-dbfs DBFS]

Real trainees record at a desk: a fan or an air-conditioner starts, the phone is moved
closer to a noise source. The passages of :mod:`benchmarks.passages` carry one steady room
noise; here the same passages (same speech, same truth) are scored in three conditions:

* ``steady``: as built (the figures of :mod:`benchmarks.accuracy` for the same seed);
* ``step``: a second, pink noise comes in at a random time 25–40 % into the passage and
  goes again 65–80 % into it (linear amplitude ramps of :data:`STEP_RAMP_S`); its RMS level
  is the passage's own room noise plus ``--step-db`` (default :data:`STEP_DB`), but at most
  ``--cap-dbfs`` (default :data:`CAP_DBFS`, so the speech, levelled to −18 dBFS, stays
  clearly above it);
* ``ramp``: the same second noise rises from 30 dB under that level to the level, linearly
  in dB, from 20 % to 70 % of the passage, and stays to the end.

For each condition, without and with the script (:func:`speechcoach.analysis.pipeline.analyze_signal`,
acoustic count):

* pause recall and precision (both edges within 100 ms, detections inside a piece's own
  speech not scored; :func:`benchmarks.passages.score_pauses`), and the recall of the true
  pauses lying in the noisy stretch (where the second noise is at least half its full
  amplitude);
* the speaking-rate error (characters per minute of the speech span; mean absolute and mean
  signed %);
* the articulation-rate error (characters per minute of the span less its pauses), against
  the passage's characters over its span less its true pauses. The true pauses are only those
  at the joins, not those inside a clip's own speech, so even the steady condition reads high;
  what matters is the change from it.

The table goes to ``benchmarks/BACKGROUND_RESULTS.md`` (``--output``; atomic write) and to the
terminal. When the corpus is absent it says so on one line (standard error) and exits 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from speechcoach.analysis.pipeline import analyze_signal

from .accuracy import acoustic
from .corpus import REPO, corpus_for, git_commit, machine, now
from .passages import Passage, build_passages, room_noise, score_pauses

STEP_DB = 20.0
"""How far the second noise lies above the passage's own room noise (dB)."""

CAP_DBFS = -35.0
"""The second noise's RMS level never exceeds this (dBFS). Speech is levelled to −18 dBFS;
pink noise at −35 dBFS lies about 20 dB under the speech level in speechcoach's energy band, where
speechcoach starts warning that a recording is noisy. At −30 dBFS it is 15 dB under: the weak
ends of many phrases drown, and pause edges move by more than the 100 ms tolerance."""

STEP_RAMP_S = 0.5
"""Fade-in and fade-out of the stepped noise (seconds): a fan spinning up."""

CONDITIONS = ("steady", "step", "ramp")

RESULTS = REPO / "benchmarks" / "BACKGROUND_RESULTS.md"


def envelope(n: int, sr: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Amplitude envelope (0–1) of the second noise, shape (n,), for ``step`` or ``ramp``."""
    t = np.arange(n) / sr
    dur = n / sr
    if kind == "step":
        t1 = rng.uniform(0.25, 0.40) * dur
        t2 = rng.uniform(0.65, 0.80) * dur
        return np.clip(np.minimum((t - t1) / STEP_RAMP_S, (t2 - t) / STEP_RAMP_S), 0.0, 1.0)
    if kind == "ramp":
        u = np.clip((t - 0.2 * dur) / (0.5 * dur), 0.0, 1.0)
        return np.where(t < 0.2 * dur, 0.0, 10 ** (-30.0 * (1.0 - u) / 20.0))
    raise ValueError(kind)


def with_background(p: Passage, kind: str, index: int, *, step_db: float = STEP_DB, cap_dbfs: float = CAP_DBFS) -> tuple[Passage, np.ndarray]:
    """The passage with a second noise added (``kind`` ``step`` or ``ramp``), and the envelope.

    Deterministic: the noise and times are drawn from ``default_rng([seed, index, 99])``.
    """
    n = len(p.y)
    if kind == "steady":
        return p, np.zeros(n)
    rng = np.random.default_rng([p.seed[0], index, 99])
    env = envelope(n, p.sr, kind, rng)
    level = min(p.noise_dbfs + step_db, cap_dbfs)
    extra = room_noise(n, rng, level, color="pink", hum=False) * env.astype(np.float32)
    return dataclasses.replace(p, y=(p.y + extra).astype(np.float32), noise_dbfs=level), env


def _noisy(p: Passage, env: np.ndarray) -> np.ndarray:
    """Which true pauses lie where the envelope is at least 0.5 throughout, shape (n_pauses,)."""
    out = []
    for a, b, _ in p.pauses:
        lo, hi = int(a * p.sr), int(b * p.sr)
        out.append(hi > lo and env[lo:hi].min() >= 0.5)
    return np.array(out, dtype=bool)


def run(passages: list[Passage], kind: str, **kw: float) -> dict[str, float]:
    """Scores of one condition over all passages (keys ``<figure>_<est|script>``)."""
    acc: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        acc.setdefault(key, []).append(value)

    for i, p in enumerate(passages):
        q, env = with_background(p, kind, i, **kw)
        noisy = _noisy(p, env)
        true_art = 60.0 * p.n_chars / (p.span_s - sum(b - a for a, b, _ in p.pauses))
        add("n_true", len(p.pauses))
        add("noisy_n", int(noisy.sum()))
        for cond, script in (("est", None), ("script", p.script)):
            an = analyze_signal(q.y, q.sr, script=script, **acoustic())
            sc = score_pauses([(x.start_s, x.end_s) for x in an.pauses], p)
            add(f"hits_{cond}", sc.hits)
            add(f"detected_{cond}", sc.n_detected)
            add(f"noisy_hits_{cond}", sum(bool(noisy[t]) for t, _ in sc.matches))
            add(f"rate_{cond}", 100.0 * (an.rate.cpm - p.cpm) / p.cpm)
            add(f"art_{cond}", 100.0 * (an.rate.articulation_cpm - true_art) / true_art)
    out = {k: float(np.sum(v)) for k, v in acc.items() if not k.startswith(("rate_", "art_"))}
    for k, v in acc.items():
        if k.startswith(("rate_", "art_")):
            out[k + "_mae"] = float(np.mean(np.abs(v)))
            out[k + "_bias"] = float(np.mean(v))
    return out


def table(rows: dict[str, dict[str, float]]) -> str:
    """Markdown table of the conditions."""
    out = [
        "| condition | script | pause recall | pause precision | recall in the noisy stretch | rate error (signed) | articulation-rate error (signed) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, t in rows.items():
        for cond, label in (("est", "no"), ("script", "yes")):
            noisy = f"{int(t[f'noisy_hits_{cond}'])}/{int(t['noisy_n'])}" if t["noisy_n"] else "–"
            out.append(
                f"| {name} | {label} | {100 * t[f'hits_{cond}'] / max(t['n_true'], 1):.1f}% ({int(t[f'hits_{cond}'])}/{int(t['n_true'])}) "
                f"| {100 * t[f'hits_{cond}'] / max(t[f'detected_{cond}'], 1):.1f}% | {noisy} "
                f"| {t[f'rate_{cond}_mae']:.1f}% ({t[f'rate_{cond}_bias']:+.1f}%) | {t[f'art_{cond}_mae']:.1f}% ({t[f'art_{cond}_bias']:+.1f}%) |"
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the conditions and print a Markdown table."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.background", description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=12, help="number of passages (default 12)")
    ap.add_argument("--seed", type=int, default=2024, help="passage seed (default 2024)")
    ap.add_argument("--step-db", type=float, default=STEP_DB, help=f"second noise above the room noise, dB (default {STEP_DB:g})")
    ap.add_argument("--cap-dbfs", type=float, default=CAP_DBFS, help=f"highest level of the second noise, dBFS (default {CAP_DBFS:g})")
    ap.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated subset of steady,step,ramp")
    ap.add_argument("--output", type=Path, default=RESULTS, help="where to write the results (default benchmarks/BACKGROUND_RESULTS.md)")
    args = ap.parse_args(argv)
    if corpus_for("benchmarks.background") is None:
        return 2
    passages = build_passages(args.passages, args.seed)
    rows = {}
    for kind in args.conditions.split(","):
        rows[kind] = run(passages, kind, step_db=args.step_db, cap_dbfs=args.cap_dbfs)
        print(f"{kind}: done", flush=True)
    from speechcoach.fileio import write_atomic

    cmd = " ".join(["python -m benchmarks.background", *(sys.argv[1:] if argv is None else argv)])
    text = (
        "# Pauses and rate when the background changes\n\n"
        f"Written by `{cmd}` on {now()}, commit {git_commit()}, {machine()}.\n"
        f"{len(passages)} passages (seed {args.seed}); a second, pink noise +{args.step_db:g} dB over the "
        f"passage's room noise, at most {args.cap_dbfs:g} dBFS, in a stretch (`step`) or rising over the "
        "passage (`ramp`); see the module docstring.\n\n" + table(rows) + "\n"
    )
    write_atomic(args.output, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
