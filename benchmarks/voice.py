"""The voice measures against Praat and against known manipulations of real speech; writes ``VOICE_RESULTS.md``.

Usage::

    python -m benchmarks.voice [--quick] [--output benchmarks/VOICE_RESULTS.md]

Both shared corpora are read at run time (``<repo>/../shared/corpus/real`` and ``…/wide``; never
copied here): every clip of ``real`` and the ``kind == real`` clips of ``wide`` (its synthetic
clips are reported apart where it matters). Four studies, each with a table:

1. **Pitch against Praat.** speechcoach's F0 (:func:`speechcoach.analysis.voice.pitch_track`,
   on the frames the pipeline computes) against Praat's ``To Pitch (ac)`` with its defaults
   (75–600 Hz, 10 ms) through parselmouth, on the same 16 kHz samples: the median absolute
   difference (semitones) on the frames both call voiced, the share of those frames more than
   1 semitone and more than 9 semitones (an octave error) apart, and the voicing agreement: the
   share of frames both call voiced or both unvoiced, inside speechcoach's speech runs (where it
   looks for a voice at all) and over the whole clip.
2. **Monotone.** Each clip resynthesised with its pitch range compressed to 100, 50, 25 and 0 %
   of the original: Praat's Manipulation (10 ms, 75–600 Hz), its pitch tier mapped to
   ``median · (f / median)^k`` (``k`` the share; the median of Praat's pitch), overlap-add
   resynthesis, the timing untouched. The whole analysis runs on each (no script) and on the
   original: the monotone measure (:attr:`speechcoach.analysis.voice.Voice.range_st`) should fall
   steadily with ``k``; the finding should fire at 0–25 % and not on the originals (nor at 100 %).
   The limit is chosen on one corpus (the largest that flags at most 10 % of its originals) and
   the rates are given on both, in both directions.
3. **Trailing off.** With the clip's transcript as the script: each sentence end (the script's
   sentences placed by the analysis of the original, at a speech run's end when within
   0.35 s) is located acoustically (its *audible end*: the last frame no more than 25 dB under
   the 90th percentile of its phrase's frame energy), and the 0.3 s before that point lowered by
   10 dB (10 ms ramps; at a run's end the silence after it too). That is the truth. The
   attenuated clip is analysed again with the script: recall is the share of attenuated ends
   found trailing off (a judged end within 0.5 s of the truth); the originals give the false
   alarms (share of judged ends, share of clips with any). Without a script the ends are the
   speech runs' ends, reported too. A threshold sweep shows the trade-off.
4. **Speed.** The whole analysis (voice included) on the ≥ 10-minute recording of
   :mod:`benchmarks.speed`, CPU time of the process (``time.process_time``: every thread's time
   counted, so the figure is what one core would need), best of a few runs; and the share the
   voice adds.

When a corpus is absent it says so on standard error and goes on with the other; with neither
it exits 2.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from speechcoach.fileio import write_atomic

from .corpus import REPO, SR, git_commit, machine, now, read_corpus, uncommitted

RESULTS = REPO / "benchmarks" / "VOICE_RESULTS.md"
CORPORA = ("real", "wide")
LEVELS = (1.0, 0.5, 0.25, 0.0)
"""Shares of the original pitch range kept in the resynthesised copies."""
ATTENUATION_DB = 10.0
ATTENUATED_S = 0.3
RAMP_S = 0.01
AUDIBLE_DB = 25.0
"""The truth's audible end of a sentence: its last frame within this many dB of the 90th
percentile of the frame energy of its phrase (the 3 s before it): a run's end as the segmentation
finds it can carry a low tail of breath or room (down to 45 dB under the speech level), and
lowering that tail would lower nothing of the last syllable."""
MATCH_S = 0.5
SWEEP_DB = (6.0, 8.0, 10.0, 12.0, 14.0)
ORIGINALS_FLAGGED = 0.10
"""The monotone limit chosen on a corpus is the largest that flags at most this share of its originals."""


def corpus_root(name: str) -> Path:
    return REPO.parent / "shared" / "corpus" / name


def kinds(root: Path) -> dict[str, tuple[str, str]]:
    """``id`` → (``kind``, ``transcript_kind``) from a manifest (``real``/``human`` where absent)."""
    with open(root / "manifest.tsv", newline="", encoding="utf-8") as fh:
        return {r["id"]: (r.get("kind") or "real", r.get("transcript_kind") or "human") for r in csv.DictReader(fh, delimiter="\t")}


@dataclass
class Clip:
    corpus: str
    id: str
    y: np.ndarray
    transcript: str
    kind: str
    transcript_kind: str


def load_clips(quick: bool) -> list[Clip]:
    """The clips of both corpora (every tenth when ``quick``), with their kinds."""
    out: list[Clip] = []
    for name in CORPORA:
        root = corpus_root(name)
        if not (root / "manifest.tsv").is_file():
            print(f"benchmarks.voice: corpus {name} not found at {root} (skipped)", file=sys.stderr)
            continue
        clips, audio, skipped = read_corpus(root, include_excluded=True)
        for s in skipped:
            print(f"skipped {name}/{s.id}: {s.reason}", file=sys.stderr)
        k = kinds(root)
        for i, c in enumerate(clips):
            if quick and i % 10:
                continue
            kind, tkind = k.get(c.id, ("real", "human"))
            out.append(Clip(name, c.id, audio[c.id], c.transcript, kind, tkind))
    return out


# --- 1. pitch against Praat ---------------------------------------------------------------------


@dataclass
class PitchRow:
    corpus: str
    kind: str
    n_both: int
    abs_st: np.ndarray
    agree_runs: float
    agree_all: float


def praat_pitch(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Praat's ``To Pitch (ac)`` with its defaults: frame times (s) and F0 (Hz, 0 unvoiced)."""
    import parselmouth

    p = parselmouth.Sound(y.astype(np.float64), sampling_frequency=SR).to_pitch_ac()
    return p.xs(), p.selected_array["frequency"]


def ours(y: np.ndarray, **kw: object):  # type: ignore[no-untyped-def]
    """speechcoach's frames, segmentation and pitch of ``y`` (as the pipeline computes them)."""
    from speechcoach.analysis.features import frame_features
    from speechcoach.analysis.segmentation import segment
    from speechcoach.analysis.voice import pitch_track, run_mask

    frames = frame_features(y, SR)
    seg = segment(frames)
    pitch = pitch_track(frames, seg, **kw)  # type: ignore[arg-type]
    return frames, seg, pitch, run_mask(frames.n_frames, frames.hop_s, seg.runs) >= 0


def compare_pitch(c: Clip) -> PitchRow | None:
    from speechcoach.analysis.segmentation import NoSpeechError

    try:
        frames, seg, pitch, inrun = ours(c.y)
    except NoSpeechError:
        return None
    px, pf = praat_pitch(c.y)
    t = np.arange(frames.n_frames) * frames.hop_s
    idx = np.clip(np.round((t - px[0]) / (px[1] - px[0])).astype(int), 0, len(px) - 1)
    near = np.abs(px[idx] - t) <= 0.0051  # frames Praat also analysed
    pv = near & (pf[idx] > 0)
    mv = pitch.voiced & near
    both = mv & pv
    d = np.abs(12 * np.log2(pitch.f0_hz[both] / pf[idx][both]))
    return PitchRow(
        c.corpus,
        c.kind,
        int(both.sum()),
        d,
        float(np.mean((mv == pv)[inrun & near])) if np.any(inrun & near) else float("nan"),
        float(np.mean((mv == pv)[near])),
    )


def pitch_table(rows: list[PitchRow]) -> str:
    lines = [
        "| corpus | clips | frames both voiced | median abs. difference (st) | > 1 st | octave errors (> 9 st) | voicing agreement in speech runs | voicing agreement, whole clip |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, sel in _groups(rows):
        if not sel:
            continue
        d = np.concatenate([r.abs_st for r in sel])
        lines.append(
            f"| {label} | {len(sel)} | {len(d)} | {np.median(d):.2f} | {100 * np.mean(d > 1):.1f}% | {100 * np.mean(d > 9):.1f}% | "
            f"{100 * np.nanmean([r.agree_runs for r in sel]):.1f}% (min {100 * np.nanmin([r.agree_runs for r in sel]):.0f}%) | "
            f"{100 * np.mean([r.agree_all for r in sel]):.1f}% |"
        )
    return "\n".join(lines)


def _groups(rows: list):  # type: ignore[no-untyped-def]
    """(label, rows) for ``real``, ``wide`` (real speakers), both, and ``wide`` synthetic."""
    return [
        ("real", [r for r in rows if r.corpus == "real"]),
        ("wide, real speakers", [r for r in rows if r.corpus == "wide" and r.kind == "real"]),
        ("both (real speakers)", [r for r in rows if r.kind == "real"]),
        ("wide, synthetic (apart)", [r for r in rows if r.corpus == "wide" and r.kind != "real"]),
    ]


# --- 2. monotone --------------------------------------------------------------------------------


def compress_range(y: np.ndarray, k: float) -> np.ndarray:
    """``y`` resynthesised with its pitch range compressed to the share ``k`` around its median
    (Praat Manipulation, pitch tier ``median · (f / median)^k``, overlap-add)."""
    import parselmouth
    from parselmouth.praat import call

    snd = parselmouth.Sound(y.astype(np.float64), sampling_frequency=SR)
    manipulation = call(snd, "To Manipulation", 0.01, 75, 600)
    tier = call(manipulation, "Extract pitch tier")
    f = snd.to_pitch_ac().selected_array["frequency"]
    median = float(np.median(f[f > 0])) if np.any(f > 0) else 150.0
    call(tier, "Formula", f"{median} * (self / {median}) ^ {k}")
    call([tier, manipulation], "Replace pitch tier")
    out = call(manipulation, "Get resynthesis (overlap-add)")
    return np.asarray(out.values[0], dtype=np.float32)


@dataclass
class MonoRow:
    corpus: str
    kind: str
    id: str
    measure: dict[str, float] = field(default_factory=dict)
    """``orig`` and each level (as ``str(k)``): the range measure (st), NaN when not judged."""


def monotone_rows(clips: list[Clip]) -> list[MonoRow]:
    from speechcoach.analysis.pipeline import analyze_signal
    from speechcoach.errors import AudioError

    rows = []
    for c in clips:
        if c.kind != "real":
            continue
        row = MonoRow(c.corpus, c.kind, c.id)
        for key, y in [("orig", c.y), *((str(k), compress_range(c.y, k)) for k in LEVELS)]:
            try:
                v = analyze_signal(y, SR, count="acoustic").voice
            except AudioError:
                v = None
            row.measure[key] = float(v.range_st) if v is not None and v.range_st is not None else float("nan")
        rows.append(row)
    return rows


def choose_limit(rows: list[MonoRow]) -> float:
    """The largest limit (0.1 st) that flags at most :data:`ORIGINALS_FLAGGED` of the originals."""
    orig = np.array([r.measure["orig"] for r in rows])
    orig = orig[np.isfinite(orig)]
    best = 0.0
    for limit in np.arange(0.1, 12.0, 0.1):
        if np.mean(np.round(orig, 1) < limit) <= ORIGINALS_FLAGGED:
            best = round(float(limit), 1)
    return best


def fires(rows: list[MonoRow], key: str, limit: float) -> str:
    v = np.array([r.measure[key] for r in rows])
    v = v[np.isfinite(v)]
    return f"{100 * np.mean(np.round(v, 1) < limit):.0f}% ({int(np.sum(np.round(v, 1) < limit))}/{len(v)})" if len(v) else "–"


def monotone_tables(rows: list[MonoRow], shipped: float) -> str:
    keys = ["orig", *(str(k) for k in LEVELS)]
    names = {"orig": "original", "1.0": "100 %", "0.5": "50 %", "0.25": "25 %", "0.0": "0 %"}
    lines = [
        "Median of the monotone measure (st), and the share of the clips judged at every level whose measure falls steadily, 100 % > 50 % > 25 % > 0 %:",
        "",
        "| corpus | clips | " + " | ".join(names[k] for k in keys) + " | falls steadily |",
        "| --- | ---: |" + " ---: |" * len(keys) + " ---: |",
    ]
    corpora = [("real", [r for r in rows if r.corpus == "real"]), ("wide, real speakers", [r for r in rows if r.corpus == "wide"])]
    for label, sel in corpora:
        if not sel:
            continue
        med = [np.nanmedian([r.measure[k] for r in sel]) for k in keys]
        every = [r for r in sel if all(np.isfinite(r.measure[k]) for k in keys)]
        steady = [r.measure["1.0"] > r.measure["0.5"] > r.measure["0.25"] > r.measure["0.0"] for r in every]
        lines.append(
            f"| {label} | {len(sel)} ({len(every)} judged at every level) | " + " | ".join(f"{m:.2f}" for m in med)
            + f" | {100 * np.mean(steady):.0f}% ({sum(steady)}/{len(every)}) |"
        )
    lines += ["", "How often the finding fires (measure, as shown to 0.1 st, under the limit):", ""]
    lines += ["| limit | chosen on | scored on | " + " | ".join(names[k] for k in keys) + " |", "| ---: | --- | --- |" + " ---: |" * len(keys)]
    chosen = {label: choose_limit(sel) for label, sel in corpora if sel}
    for tuned, limit in [*chosen.items(), ("shipped default", shipped)]:
        for label, sel in corpora:
            if sel:
                lines.append(f"| {limit:.1f} | {tuned} | {label} | " + " | ".join(fires(sel, k, limit) for k in keys) + " |")
    return "\n".join(lines)


# --- 3. trailing off ----------------------------------------------------------------------------


def audible_end(frames, seg, t: float) -> float:  # type: ignore[no-untyped-def]
    """The last frame of the phrase ending at ``t`` within :data:`AUDIBLE_DB` of its loud frames (s)."""
    e, hop = frames.energy_db, frames.hop_s
    j = np.flatnonzero(seg.runs[:, 0] <= t + 1e-6)
    i0 = int(seg.runs[j[-1], 0] / hop) if len(j) else 0
    i1 = min(int(round(t / hop)), len(e) - 1)
    if i1 <= i0:
        return t
    ref = np.percentile(e[max(i0, i1 - 300) : i1 + 1], 90)
    ok = np.flatnonzero(e[i0 : i1 + 1] >= ref - AUDIBLE_DB)
    return (i0 + int(ok[-1])) * hop if len(ok) else t


def attenuate(y: np.ndarray, ends: list[tuple[float, float, bool, float]]) -> np.ndarray:
    """``y`` with the :data:`ATTENUATED_S` before each audible end lowered by :data:`ATTENUATION_DB`
    (and, at a run's end, the silence up to the next run too); ``ends``: (end, audible end, at a
    run's end, next run's start)."""
    gain = np.ones(len(y))
    low = 10 ** (-ATTENUATION_DB / 20)
    r = int(RAMP_S * SR)
    for _, aud, at_run_end, nxt in ends:
        a = max(int((aud - ATTENUATED_S) * SR), 0)
        b = min(int((nxt if at_run_end else aud) * SR), len(y))
        if b - a <= 2 * r:
            continue
        g = np.full(b - a, low)
        g[:r] = np.linspace(1.0, low, r)
        if b < len(y):
            g[-r:] = np.linspace(low, 1.0, r)
        gain[a:b] = np.minimum(gain[a:b], g)
    return (y * gain).astype(np.float32)


@dataclass
class TrailRow:
    corpus: str
    id: str
    script: bool
    orig_drops: list[float]
    truth_drops: list[float]  # the matched end's drop for each truth end (NaN: not judged)


def trailing_rows(clips: list[Clip]) -> list[TrailRow]:
    from speechcoach.analysis.features import frame_features
    from speechcoach.analysis.pipeline import analyze_signal
    from speechcoach.analysis.voice import _sentence_times
    from speechcoach.errors import AudioError

    rows = []
    for c in clips:
        if c.kind != "real":
            continue
        try:
            an = analyze_signal(c.y, SR, script=c.transcript, count="acoustic")
        except AudioError:
            continue
        if an.alignment is None:  # the script was set aside (script_mismatch): no sentences to place
            continue
        frames = frame_features(an.audio.samples, SR)
        seg = an.segmentation
        runs = seg.runs
        truth = []
        for t, _ in _sentence_times(seg, an.alignment):
            if t > an.audio.duration_s - 0.05:  # cut by the recording's end: not judged, not attenuated
                continue
            at_end = bool(np.min(np.abs(runs[:, 1] - t)) < 0.005)
            later = runs[runs[:, 0] > t + 1e-6, 0]
            truth.append((t, audible_end(frames, seg, t), at_end, float(later[0]) if len(later) else an.audio.duration_s))
        if not truth:
            continue
        z = attenuate(c.y, truth)
        for script in (True, False):
            try:
                o = an if script else analyze_signal(c.y, SR, count="acoustic")
                a = analyze_signal(z, SR, script=c.transcript if script else None, count="acoustic")
            except AudioError:
                continue
            assert o.voice is not None and a.voice is not None
            matched = []
            for t, aud, _, _ in truth:
                near = [e for e in a.voice.ends if abs(e.end_s - t) <= MATCH_S or abs(e.syllable_s - aud) <= MATCH_S]
                matched.append(max(e.drop_db for e in near) if near else float("nan"))
            rows.append(TrailRow(c.corpus, c.id, script, [e.drop_db for e in o.voice.ends], matched))
    return rows


def trailing_tables(rows: list[TrailRow], shipped: float) -> str:
    from speechcoach.analysis.voice import shown_db

    lines = [
        "| corpus | script | clips | sentence ends attenuated (judged) | limit (dB) | recall | false flags: judged original ends | false flags: clips with any |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for script in (True, False):
        for label in ("real", "wide"):
            sel = [r for r in rows if r.corpus == label and r.script == script]
            if not sel:
                continue
            truth = np.array([d for r in sel for d in r.truth_drops])
            orig = np.array([d for r in sel for d in r.orig_drops])
            judged = truth[np.isfinite(truth)]
            for limit in sorted({*SWEEP_DB, shipped}):
                hit = np.array([shown_db(d) >= limit for d in judged])
                flagged = np.array([shown_db(d) >= limit for d in orig])
                clips_any = np.mean([any(shown_db(d) >= limit for d in r.orig_drops) for r in sel])
                mark = " **(default)**" if limit == shipped else ""
                lines.append(
                    f"| {label} | {'yes' if script else 'no (run ends)'} | {len(sel)} | {len(truth)} ({len(judged)}) | {limit:.0f}{mark} | "
                    f"{100 * np.mean(hit):.0f}% | {100 * np.mean(flagged):.1f}% ({int(flagged.sum())}/{len(orig)}) | {100 * clips_any:.0f}% |"
                )
    return "\n".join(lines)


def _trail_rates(sel: list[TrailRow], limit: float) -> tuple[float, float, float, int, int]:
    """(recall, false flags per judged original end, share of clips with any, truth ends judged, original ends)."""
    from speechcoach.analysis.voice import shown_db

    truth = np.array([d for r in sel for d in r.truth_drops])
    judged = truth[np.isfinite(truth)]
    orig = [d for r in sel for d in r.orig_drops]
    recall = float(np.mean([shown_db(d) >= limit for d in judged])) if len(judged) else float("nan")
    flags = float(np.mean([shown_db(d) >= limit for d in orig])) if orig else float("nan")
    clips = float(np.mean([any(shown_db(d) >= limit for d in r.orig_drops) for r in sel]))
    return recall, flags, clips, len(judged), len(orig)


def choose_trail_limit(sel: list[TrailRow]) -> float:
    """The smallest limit (whole dB) that flags at most :data:`ORIGINALS_FLAGGED` of the judged original ends."""
    for limit in range(4, 31):
        if _trail_rates(sel, float(limit))[1] <= ORIGINALS_FLAGGED:
            return float(limit)
    return 30.0


def trailing_chosen(rows: list[TrailRow], shipped: float) -> str:
    """Limits chosen on one corpus (with the script), scored on both."""
    lines = [
        "| limit (dB) | chosen on | scored on | recall | false flags: judged original ends | clips with any |",
        "| ---: | --- | --- | ---: | ---: | ---: |",
    ]
    by = {c: [r for r in rows if r.corpus == c and r.script] for c in CORPORA}
    chosen = [(f"`{c}`", choose_trail_limit(sel)) for c, sel in by.items() if sel]
    for tuned, limit in [*chosen, ("shipped default", shipped)]:
        for c, sel in by.items():
            if sel:
                recall, flags, clips, _, _ = _trail_rates(sel, limit)
                lines.append(f"| {limit:.0f} | {tuned} | `{c}` | {100 * recall:.0f}% | {100 * flags:.1f}% | {100 * clips:.0f}% |")
    return "\n".join(lines)


def trailing_spread(rows: list[TrailRow]) -> str:
    lines = ["| corpus | script | original ends: drop 10th / 50th / 90th percentile (dB) | attenuated ends: 10th / 50th / 90th (dB) |", "| --- | --- | ---: | ---: |"]
    for script in (True, False):
        for label in ("real", "wide"):
            sel = [r for r in rows if r.corpus == label and r.script == script]
            if not sel:
                continue
            orig = np.array([d for r in sel for d in r.orig_drops])
            truth = np.array([d for r in sel for d in r.truth_drops])
            truth = truth[np.isfinite(truth)]
            lines.append(
                f"| {label} | {'yes' if script else 'no'} | {' / '.join(f'{v:.1f}' for v in np.percentile(orig, [10, 50, 90]))} | "
                f"{' / '.join(f'{v:.1f}' for v in np.percentile(truth, [10, 50, 90]))} |"
            )
    return "\n".join(lines)


# --- 4. speed -----------------------------------------------------------------------------------


def speed(runs: int) -> tuple[float, float, float, float]:
    """(audio s, best CPU s of the whole analysis, best CPU s of the voice step, best CPU s of the
    frame features) on the long recording of :mod:`benchmarks.speed`."""
    from speechcoach.analysis import voice as voice_
    from speechcoach.analysis.features import frame_features
    from speechcoach.analysis.pipeline import analyze_signal

    from .speed import long_recording

    y = long_recording()
    whole = step = feats = np.inf
    for _ in range(runs):
        t0 = time.process_time()
        an = analyze_signal(y, SR, count="acoustic")
        whole = min(whole, time.process_time() - t0)
        t0 = time.process_time()
        frames = frame_features(an.audio.samples, SR)
        feats = min(feats, time.process_time() - t0)
        t0 = time.process_time()
        voice_.analyse(frames, an.segmentation, an.nuclei, alignment=an.alignment, duration_s=an.audio.duration_s)
        step = min(step, time.process_time() - t0)
    return len(y) / SR, float(whole), float(step), float(feats)


# --- the results file ---------------------------------------------------------------------------


def results(clips: list[Clip], pitch: list[PitchRow], mono: list[MonoRow], trail: list[TrailRow], spd: tuple[float, float, float, float] | None, cmd: str) -> str:
    from speechcoach.analysis.voice import MIN_RANGE_ST, TRAIL_DROP_DB

    dirty = uncommitted()
    head = [
        "# Voice measures: pitch against Praat, monotone and trailing off on manipulated real speech, speed",
        "",
        f"Written by `{cmd}` on {now()} at commit {git_commit()}{' (uncommitted changes: ' + ', '.join(dirty) + ')' if dirty else ''}; {machine()}.",
        f"Clips: {sum(c.corpus == 'real' for c in clips)} from `real`, {sum(c.corpus == 'wide' and c.kind == 'real' for c in clips)} real speakers "
        f"and {sum(c.corpus == 'wide' and c.kind != 'real' for c in clips)} synthetic from `wide` (`../shared/corpus`, read at run time). Method: the docstring of `benchmarks/voice.py`.",
        "",
        "## 1. Pitch against Praat (To Pitch (ac), defaults)",
        "",
        pitch_table(pitch),
        "",
        "Targets: median absolute difference ≤ 1 semitone; voicing agreement ≥ 90 %. The tracker's constants "
        "(voicing 0.6 and 25 dB under the speech level; candidates within 0.1 of the best; a 150 ms running median) were chosen on `real`; `wide` is held out.",
        "",
        "## 2. Monotone: pitch range compressed to 100 / 50 / 25 / 0 % (Praat overlap-add)",
        "",
        monotone_tables(mono, MIN_RANGE_ST),
        "",
        f"Targets: the measure falls steadily; the finding fires on ≥ 90 % of the clips at 0–25 % and on ≤ 10 % of the originals. The shipped limit ({MIN_RANGE_ST:.1f} st) is the one chosen on `wide`; `real` is then held out.",
        "",
        "## 3. Trailing off: the last 0.3 s of each sentence lowered by 10 dB",
        "",
        trailing_tables(trail, TRAIL_DROP_DB),
        "",
        "How far the last syllable lies under its phrase (the measure), on the original ends and on the attenuated ones:",
        "",
        trailing_spread(trail),
        "",
        "Limits chosen on one corpus (the smallest that flags at most 10 % of its judged original ends, with the script) and scored on both:",
        "",
        trailing_chosen(trail, TRAIL_DROP_DB),
        "",
        f"Targets: recall ≥ 0.9 on the attenuated ends with ≤ 10 % false flags on the originals. The shipped limit ({TRAIL_DROP_DB:.0f} dB) is the one chosen on `wide`, like the monotone limit; `real` is then held out.",
    ]
    if spd is not None:
        audio_s, whole, step, feats = spd
        head += [
            "",
            "## 4. Speed",
            "",
            "| recording | whole analysis, CPU s (× real time) | voice step alone, CPU s | frame features (pitch candidates included), CPU s |",
            "| --- | ---: | ---: | ---: |",
            f"| {audio_s / 60:.1f} min, passages of `benchmarks.speed` | {whole:.2f} ({audio_s / whole:.0f}×) | {step:.3f} | {feats:.2f} |",
            "",
            "CPU time of this process (`time.process_time`, all threads), best of the runs. Target: the whole analysis ≥ 500× real time.",
        ]
    return "\n".join(head) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.voice", description="Voice measures against Praat and manipulated real speech; writes benchmarks/VOICE_RESULTS.md.")
    ap.add_argument("--quick", action="store_true", help="every tenth clip, one speed run, no results file unless --output is given")
    ap.add_argument("--output", type=Path, default=None, help="where to write the results (default benchmarks/VOICE_RESULTS.md; --quick writes none)")
    ap.add_argument("--skip", default="", help="comma-separated studies to skip: pitch, monotone, trailing, speed")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    clips = load_clips(args.quick)
    if not clips:
        print("benchmarks.voice: error: neither corpus found; nothing to benchmark", file=sys.stderr)
        return 2
    t0 = time.time()
    pitch = [r for c in clips if "pitch" not in skip for r in [compare_pitch(c)] if r is not None]
    print(pitch_table(pitch), f"\n({time.time() - t0:.0f} s)\n", flush=True)
    mono = monotone_rows(clips) if "monotone" not in skip else []
    if mono:
        from speechcoach.analysis.voice import MIN_RANGE_ST

        print(monotone_tables(mono, MIN_RANGE_ST), f"\n({time.time() - t0:.0f} s)\n", flush=True)
    trail = trailing_rows(clips) if "trailing" not in skip else []
    if trail:
        from speechcoach.analysis.voice import TRAIL_DROP_DB

        print(trailing_tables(trail, TRAIL_DROP_DB), "\n", trailing_spread(trail), "\n", trailing_chosen(trail, TRAIL_DROP_DB), f"\n({time.time() - t0:.0f} s)\n", flush=True)
    spd = speed(1 if args.quick else 3) if "speed" not in skip else None
    if spd is not None:
        print(f"speed: {spd[0] / 60:.1f} min audio, whole {spd[1]:.2f} s CPU ({spd[0] / spd[1]:.0f}x), voice {spd[2]:.3f} s, features {spd[3]:.2f} s")
    out = args.output if args.output is not None else (None if args.quick else RESULTS)
    if out is not None:
        cmd = "python -m benchmarks.voice" + (" --quick" if args.quick else "") + (f" --skip {args.skip}" if args.skip else "")
        write_atomic(out, results(clips, pitch, mono, trail, spd, cmd).encode("utf-8"))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
