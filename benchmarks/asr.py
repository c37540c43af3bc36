"""Benchmark: precise mode (the speech recogniser, checked against the sound) on real speech.

Both shared corpora are read at run time (``../shared/corpus/real``, or ``$SPEECHCOACH_CORPUS``,
and ``wide`` beside it; never copied). For every clip the truth is
:func:`speechcoach.characters.count_spoken` of the manifest transcript, and the whole analysis
runs as a user runs it (:func:`speechcoach.analysis.pipeline.analyze_signal`):

* ``acoustic`` — without a script, ``count="acoustic"``: the syllable-nucleus estimate;
* ``asr`` — spoken characters of the recogniser's whole transcript, before any check;
* ``fused`` — without a script, ``count="asr"``: the count precise mode reports (the
  recogniser's count where it is reliable, the sound's where it is not, plus vocal hesitations);
* ``plain`` (``--reference``) — plain faster-whisper on the whole clip,
  ``transcribe(audio, language="zh", beam_size=5)`` with its defaults, seeded
  (``ctranslate2.set_random_seed``): the reference in the same run.

Judged first on ``kind == real`` clips with human transcripts (every clip of ``real``; 77 of
``wide``), the others listed apart. Also measured:

* **correct readings**: every human-transcript clip analysed with its own transcript as the
  script (``count="asr"``): the passages reported left out or added, each one a false alarm;
* **reliability**: how much speech was counted from the sound, and why;
* **speed**: CPU time (``time.process_time``, all threads of the process) per second of audio,
  of the whole precise analysis and of plain faster-whisper, on one recording of at least 10
  minutes (:func:`benchmarks.speed.long_recording`), in the same run; and on the clips;
* ``--passages N`` (default 12): the speaking rate without a script on trainee-length passages.

Writes ``benchmarks/ASR_RESULTS.md`` atomically.

Run: ``python -m benchmarks.asr [--reference] [--passages N] [--no-long] [--limit N] [-v]``
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from speechcoach.characters import count_spoken
from speechcoach.errors import SpeechcoachError
from speechcoach.fileio import write_atomic
from speechcoach.precise import asr
from speechcoach.precise.cache import TranscriptCache
from speechcoach.precise.model import resolve_model_dir

from .accuracy import PASSAGE_SEED, piece_error, piece_rates
from .corpus import EXCLUDED, REPO, SR, Clip, corpus_for, machine, read_corpus

TARGET_MAE = 0.02
"""Issue 20: mean error per clip at most 2 %."""
TARGET_WORST = 0.10
"""Issue 20: no clip off by more than 10 %."""
TARGET_BIAS = 0.015
"""Issue 20: pooled bias within ±1.5 %."""
TARGET_SPEED = 0.1
"""Issue 20: at most 0.1 s of compute per second of audio on 2 cores, for recordings of a minute
or more. Measured as process CPU time (both threads) per second of audio: the stricter reading;
the wall time on an idle 2-core machine is about half of it."""


@dataclass
class Row:
    """One clip's counts, checks and CPU time."""

    corpus: str
    id: str
    kind: str
    tkind: str
    source: str
    duration_s: float
    truth: int
    acoustic: int
    asr: int
    fused: int
    cpu_s: float
    sound_s: float = 0.0
    """Speech counted from the sound (s): the stretches the checks overruled."""
    speech_s: float = 0.0
    flags: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    plain: int | None = None
    plain_cpu_s: float | None = None

    @property
    def judged(self) -> bool:
        """Counted in the targets: a person speaking, a human transcript."""
        return self.kind == "real" and self.tkind == "human"


PLAIN_SEED = 0
"""Seed of the plain reference's sampler (its temperature fallback), set before every clip."""


def plain_count(y: np.ndarray, model_dir: Path) -> tuple[int, float]:
    """The reference: plain faster-whisper (beam 5, its defaults) on the whole signal; its count
    and the CPU time it took (s)."""
    import ctranslate2

    model = asr.load_model(str(model_dir))
    ctranslate2.set_random_seed(PLAIN_SEED)  # the temperature fallback samples: same seed, same text
    c0 = time.process_time()
    segs, _ = model.transcribe(np.asarray(y, dtype=np.float32), language="zh", beam_size=5)
    text = "".join(s.text for s in segs)
    return count_spoken(text), time.process_time() - c0


def corpora() -> list[tuple[str, Path]]:
    """The corpora to read: ``real`` (``$SPEECHCOACH_CORPUS`` or ``../shared/corpus/real``; absent,
    one line on stderr and nothing) and ``wide`` beside it (absent, named on stderr and left out)."""
    real = corpus_for("benchmarks.asr")
    if real is None:
        return []
    wide = real.parent / "wide"
    if not (wide / "manifest.tsv").is_file():
        print(f"benchmarks.asr: corpus wide not found at {wide}; left out", file=sys.stderr)
        return [("real", real)]
    return [("real", real), ("wide", wide)]


def kinds(root: Path) -> dict[str, tuple[str, str]]:
    """``id`` to (``kind``, ``transcript_kind``) from a manifest (``real``/``human`` where absent)."""
    with open(root / "manifest.tsv", encoding="utf-8", newline="") as fh:
        return {r["id"]: ((r.get("kind") or "real").strip(), (r.get("transcript_kind") or "human").strip())
                for r in csv.DictReader(fh, delimiter="\t")}


def run_clip(corpus: str, clip: Clip, y: np.ndarray, kind: tuple[str, str], model_dir: Path, cache: TranscriptCache,
             reference: bool = False) -> Row:
    """Analyse one clip as a user would: without a script (acoustic, then precise mode) and, for a
    human transcript, with it as the script (precise mode, the transcript reused from ``cache``)."""
    from speechcoach.analysis.pipeline import analyze_signal

    acoustic = analyze_signal(y, SR, count="acoustic")
    c0 = time.process_time()
    an = analyze_signal(y, SR, count="asr", asr_model=model_dir, asr_cache=cache)
    cpu = time.process_time() - c0
    check = an.char_check
    assert check is not None
    flags: dict[str, int] = {}
    for r in check.flagged:
        flags[r.flag or "?"] = flags.get(r.flag or "?", 0) + 1
    row = Row(
        corpus=corpus, id=clip.id, kind=kind[0], tkind=kind[1], source=clip.source, duration_s=len(y) / SR,
        truth=clip.n_chars, acoustic=acoustic.char_count, asr=check.asr, fused=an.char_count, cpu_s=cpu,
        sound_s=sum(r.end_s - r.start_s for r in check.flagged), speech_s=sum(r.end_s - r.start_s for r in check.runs),
        flags=flags,
    )
    if kind[1] == "human":
        read = analyze_signal(y, SR, script=clip.transcript, count="asr", asr_model=model_dir, asr_cache=cache)
        row.skipped = [p.text for p in read.passages if p.kind == "skipped"]
        row.added = [p.text for p in read.passages if p.kind == "added"]
    if reference:
        row.plain, row.plain_cpu_s = plain_count(y, model_dir)
    return row


def summarise(rows: list[Row], attr: str) -> dict[str, float]:
    """MAE, median, worst clip, pooled bias and share of clips within 3 % for one count."""
    rows = [r for r in rows if getattr(r, attr) is not None]
    if not rows:
        return {k: float("nan") for k in ("mae", "median", "worst", "bias", "within3")}
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


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def groups(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    """The row groups the tables report: each corpus's judged clips, both together, and the rest."""
    out = [
        ("real + wide: real speech, human transcripts (the targets)", [r for r in rows if r.judged]),
        ("real (all real speech, human transcripts)", [r for r in rows if r.corpus == "real" and r.judged]),
        ("wide: real speech, human transcripts", [r for r in rows if r.corpus == "wide" and r.judged]),
        ("wide: synthetic speech (neural TTS)", [r for r in rows if r.kind == "synthetic"]),
        ("wide: real speech, machine transcripts (not truth to the character)", [r for r in rows if r.kind == "real" and r.tkind == "machine"]),
    ]
    return [(name, g) for name, g in out if g]


@dataclass(frozen=True)
class Long:
    """The speed of precise mode and of plain faster-whisper on one long recording."""

    audio_s: float
    speech_s: float
    windows: int
    precise_cpu_s: float
    acoustic_cpu_s: float
    plain_cpu_s: float | None
    precise_wall_s: float


def run_long(model_dir: Path, *, plain: bool = True) -> Long:
    """Time the whole precise analysis (no script, ``count="asr"``, no cache) of a recording of at
    least 10 minutes, the acoustic analysis of it, and plain faster-whisper on it: CPU time."""
    from speechcoach.analysis.pipeline import analyze_signal

    from .speed import long_recording

    y = long_recording()
    c0 = time.process_time()
    analyze_signal(y, SR, count="acoustic")
    acoustic = time.process_time() - c0
    c0, t0 = time.process_time(), time.perf_counter()
    an = analyze_signal(y, SR, count="asr", asr_model=model_dir)
    precise, wall = time.process_time() - c0, time.perf_counter() - t0
    runs = an.segmentation.runs
    windows = len(asr.pack_windows(runs, len(y) / SR))
    plain_cpu = plain_count(y, model_dir)[1] if plain else None
    return Long(len(y) / SR, float(np.sum(runs[:, 1] - runs[:, 0])), windows, precise, acoustic, plain_cpu, wall)


NOTES = """Where the error comes from (read the per-clip table). Decoding: the whole stretch from the
first speech onset to the last offset is decoded as one piece (Whisper reads natural audio with
its pauses better than cut-out runs joined by silence, which is what the first version did);
beam 5 instead of greedy decoding; temperature 0 without Whisper's sampling fallback (the
fallback samples, so its result rests on a random seed — unseeded, the plain reference row
moved by ±1 point of MAE and several points of bias between runs; it is seeded here — and it
costs up to 20 s on a short clip); repeated 4-token sequences
blocked. Initial prompt: without one, Whisper writes fluent text and spontaneous speech loses
its repetitions (这这个, 有有) and fillers (啊, 嗯): fused MAE 2.1%, pooled bias −3.5%, almost
all of it in the spontaneous clips (MOSS-TTSD −12.5%, FireRedTTS2 −10.7%, CosyVoice −3.9%).
The prompt `嗯 就是 那个 我我觉得 这个这个 呃 其实 就是就是 嗯` (spoken-style, no punctuation)
makes it write them (`mossttsd_single_reference` 116 → 138 of 145, `fireredtts2_zh_S1` 50 → 56
of 56, `cosyvoice_pr1212_laoxu` 69 → 76 of 76), but provokes three failures that the old
guards did not catch: the decoder cycling through byte variants (赦赐赕赐赑赐…, with U+FFFD),
subtitle credits invented at the end of a clip (字幕制作作曲, 我认识了你) with all their words
stamped at one instant, and phrase repetition on very fast speech. A segment holding U+FFFD, or
with ≥ 3 spoken characters at more than 15 per second, is now treated like a decoding loop (its
stretch counts the nuclei); on the unprompted decoding these guards change nothing. Variants
measured (fused MAE / bias, all 54 clips): prompt with punctuation 嗯，那个，就是，这个这个……
5.6% / +2.8% (full-width digits and letters written in place of commas, unrepaired loops);
longer punctuated prompt 6.8% / +2.8%; `hotwords` 嗯 呃 啊 那个 就是 这个这个 14.6% / +2.3%
(hotwords condition every window and add 嗯 嗯 嗯 in pauses); an unpunctuated filler list
4.7% / −1.8%; the chosen prompt 3.6% / −0.6% with the old guards, 3.1% / +1.7% with the
U+FFFD guard, 1.5% / −1.4% with both new guards. Leave-one-source-out choice among these
(and no prompt), for each of the 10 sources choosing on the other 9: minimising MAE + |bias|
picks the chosen variant for every source (held out: MAE 1.5%, bias −1.4%); choosing the
lowest |bias| among variants with MAE ≤ 3% gives held-out MAE 2.7%, bias −1.1%. Stated as
such: the prompt was one of five tried on this corpus, and the 15 characters/s and U+FFFD
guards were set once after reading the prompted output of three clips, not tuned. Other
guards (`fuse_counts`): text placed outside the speech runs counts only where a
syllable nucleus lies within 0.4 s (a far-field clip whose speech the segmentation half misses
keeps its text; text invented in a silent pause is dropped); a decoding loop (one phrase of
≥ 3 characters three times in a row) counts the nuclei of its own stretch; a run ≥ 2 s with
fewer than 60% or more than 180% of its nuclei takes the nuclei (the first version's ratios); both count each nucleus as the characters it stands for at its local rate, as the no-script estimate does.
Chosen after looking at this corpus: the 0.4 s tolerance (0.1 s dropped real far-field words
in `sherpa_funasrnano_far_2`) and not using Whisper's compression-ratio loop criterion (it
flagged a repetitive poem whose text was right). Speed with the prompt: 0.26 s per s of audio,
over the 0.25 budget, almost all of it in passes that decode nothing spoken. Whisper continues
from its last timestamp, so when a window's text ends a little before the end of the decoded
stretch, the last fraction of a second is decoded again, padded to 30 s with silence, and the
prompted decoder writes credits there (字幕制作, 我认识了: `paddlespeech_zh` 22 → 20 of 20,
`sherpa_paraformer_11` 39 → 17 recognised). Decoding now stops as soon as less than 0.3 s of
detected speech remains after the last segment (`TAIL_SPEECH_S`, one syllable and a margin,
set once, not tuned), and the decoder may write at most 16 tokens per second of decoded audio
(`MAX_TOKENS_PER_S`; about one token a character plus timestamps, the fastest clip needs ~12),
which bounds the time a looping decoder can take (`sherpa_qwen3_fast1` 5.4 → 3.4 s). Segments
rejected by the guards are left out of the transcript shown to the user (their times are listed
as `rejected`). Variants measured (fused MAE / bias / s per s of audio, wall, one run each,
same machine): the patch as reviewed (prompt and guards, no stop) 1.6% / −1.3% / 0.263; with
the stop 1.6% / −1.5% / 0.211; the stop and 16 tokens/s (chosen) 1.6% / −1.4% / 0.197; the
stop and 12 tokens/s (cuts real text of fast clips) 1.8% / −1.4% / 0.201; 16 tokens/s without
the stop 1.9% / −1.3% / 0.266; beam 4 2.0% / −2.5% / 0.202; beam 3 2.2% / −3.6% / 0.188 (most
of the time is the encoder's fixed 30 s window, not the beam); the stop with
`hallucination_silence_threshold` 2 s (word times are already computed, so it costs nothing
extra) 1.8% / −1.8% / 0.197. Leave-one-source-out check of this choice (for each of the 10 sources, choosing among these variants on the other 9, speed ≤ 0.23 required): minimising MAE + |bias| picks the chosen variant for 8 sources (MOSS-TTSD: 12 tokens/s; sherpa: the stop alone), the lowest |bias| with MAE ≤ 3% for 7 (also the reviewed patch for BZ_sample); held out, either way, MAE 1.6%, bias −1.9%. Remaining: the rate guard also fires on genuinely
fast speech (`sherpa_qwen3_fast1`, where the nuclei undercount), and credits invented at a
normal pace inside the speech are still counted. Speed is wall time on a shared 2-core machine
and varies with its load; the CPU-time figure is the steadier one."""


def report(rows: list[Row], model_dir: Path, wall_s: float, long: Long | None, refused: list[str] | None = None, *,
           cached: bool = False) -> str:
    """The Markdown results page."""
    has_plain = any(r.plain is not None for r in rows)
    audio_s = sum(r.duration_s for r in rows)
    target = [r for r in rows if r.judged]
    f = summarise(target, "fused")
    lines = [
        "# Precise mode: the speech recogniser, checked against the sound, on real speech",
        "",
        f"Generated by `python -m benchmarks.asr{' --reference' if has_plain else ''}` ({len(rows)} clips, "
        f"{audio_s:.0f} s of audio; model `{model_dir.name}`, {asr.COMPUTE_TYPE} on {asr.THREADS} CPU threads, "
        f"beam {asr.BEAM_SIZE}, temperature 0, speech packed into windows of at most {asr.WINDOW_S:g} s; "
        f"{machine()}; whole run {wall_s:.0f} s wall).",
        "",
        "Truth: `count_spoken(transcript)` of each manifest. Relative error = count / truth − 1. "
        "The issue's targets are judged on real speech with human transcripts, both corpora together.",
        "",
        "## Targets",
        "",
        f"- per-clip mean error ≤ 2 %: {100 * f['mae']:.2f} % {_met(f['mae'] <= TARGET_MAE)}",
        f"- no clip off by more than 10 %: worst {100 * f['worst']:.1f} % {_met(f['worst'] <= TARGET_WORST)}"
        f" ({sum(abs(r.fused / r.truth - 1) > TARGET_WORST for r in target)} of {len(target)} clips over)",
        f"- pooled bias within ±1.5 %: {100 * f['bias']:+.2f} % {_met(abs(f['bias']) <= TARGET_BIAS)}",
    ]
    readings = [r for r in rows if r.tkind == "human"]
    flagged = [r for r in readings if r.skipped or r.added]
    lines.append(
        f"- correct readings (every human-transcript clip, its own transcript as the script): "
        f"{len(flagged)} of {len(readings)} get a passage left out or added {_met(not flagged)}"
    )
    if long is not None:
        per = long.precise_cpu_s / long.audio_s
        lines.append(
            f"- ≤ 0.1 s of compute per s of audio (a recording of {long.audio_s / 60:.1f} min): {per:.3f} s CPU per s "
            f"{_met(per <= TARGET_SPEED)} (both threads' CPU time; {per / asr.THREADS:.3f} per core)"
        )
    lines += ["", "## Counts", "", "| clips | count | n | per-clip MAE | median | worst clip | pooled bias | within 3% |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    counts = [("acoustic", "sound only (no script)")]
    if has_plain:
        counts.append(("plain", "plain faster-whisper"))
    counts += [("asr", "recogniser alone"), ("fused", "**precise mode (reported)**")]
    for name, g in groups(rows):
        for attr, label in counts:
            s = summarise(g, attr)
            lines.append(f"| {name} | {label} | {len(g)} | {100 * s['mae']:.1f}% | {100 * s['median']:.1f}% | "
                         f"{100 * s['worst']:.1f}% | {100 * s['bias']:+.1f}% | {100 * s['within3']:.0f}% |")
    lines += ["", "### Worst clips (precise mode, judged clips)", "", "| clip | corpus | truth | sound only | recogniser | precise | counted from the sound |",
              "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in sorted(target, key=lambda r: -abs(r.fused / r.truth - 1))[:12]:
        why = ", ".join(f"{n} {k}" for k, n in sorted(r.flags.items())) or "–"
        lines.append(f"| {r.id} | {r.corpus} | {r.truth} | {_pct(r.acoustic, r.truth)} | {_pct(r.asr, r.truth)} | "
                     f"{_pct(r.fused, r.truth)} | {r.sound_s:.1f} s of {r.speech_s:.1f} ({why}) |")
    lines += ["", "### By source (precise mode, judged clips)", "", "| corpus | source | clips | MAE | pooled bias |", "| --- | --- | ---: | ---: | ---: |"]
    for corpus in ("real", "wide"):
        for src in sorted({r.source for r in target if r.corpus == corpus}):
            sub = [r for r in target if r.source == src and r.corpus == corpus]
            s = summarise(sub, "fused")
            lines.append(f"| {corpus} | {src} | {len(sub)} | {100 * s['mae']:.1f}% | {100 * s['bias']:+.1f}% |")
    lines += ["", "## Reliability: what was counted from the sound", ""]
    speech = sum(r.speech_s for r in rows)
    sound = sum(r.sound_s for r in rows)
    tally: dict[str, int] = {}
    for r in rows:
        for k, n in r.flags.items():
            tally[k] = tally.get(k, 0) + n
    lines.append(
        f"Of {speech:.0f} s of speech in all clips, {sound:.0f} s ({100 * sound / max(speech, 1e-9):.1f} %) in "
        f"{sum(1 for r in rows if r.flags)} clips was counted from the sound, its text withheld: "
        + (", ".join(f"{n} stretches {k}" for k, n in sorted(tally.items())) or "none") + "."
    )
    lines += ["", "## Correct readings", "",
              f"Each of the {len(readings)} clips with a human transcript (all kinds) analysed with that transcript as its "
              "script, `count=\"asr\"`; every passage reported left out or added is a false alarm (or a gap in the transcript).", ""]
    if flagged:
        lines += ["| clip | corpus | left out | added |", "| --- | --- | --- | --- |"]
        for r in flagged:
            lines.append(f"| {r.id} | {r.corpus} | {' / '.join(r.skipped) or '–'} | {' / '.join(r.added) or '–'} |")
    else:
        lines.append("None.")
    lines += ["", "## Speed", ""]
    cpu = sum(r.cpu_s for r in rows)
    if cached:
        lines.append("Clips: not timed in this run (their transcripts were reused from `--cache`).")
    else:
        lines.append(f"Clips (2–28 s, one window each): {cpu / audio_s:.3f} s CPU per s of audio for the whole precise analysis"
                     + (f"; plain faster-whisper {sum(r.plain_cpu_s or 0 for r in rows) / audio_s:.3f}" if has_plain else "") + ".")
    if long is not None:
        lines += [
            "",
            f"One recording of {long.audio_s:.0f} s ({long.speech_s:.0f} s of speech; `benchmarks.speed.long_recording`), "
            f"packed into {long.windows} windows, process CPU time:",
            "",
            "| method | CPU s | CPU s per s of audio | per minute of audio |",
            "| --- | ---: | ---: | ---: |",
            f"| precise analysis (`count=\"asr\"`, whole pipeline) | {long.precise_cpu_s:.1f} | {long.precise_cpu_s / long.audio_s:.3f} | {60 * long.precise_cpu_s / long.audio_s:.1f} s |",
            f"| sound only (`count=\"acoustic\"`) | {long.acoustic_cpu_s:.1f} | {long.acoustic_cpu_s / long.audio_s:.3f} | {60 * long.acoustic_cpu_s / long.audio_s:.1f} s |",
        ]
        if long.plain_cpu_s is not None:
            lines.append(f"| plain faster-whisper (beam 5, defaults) | {long.plain_cpu_s:.1f} | {long.plain_cpu_s / long.audio_s:.3f} | {60 * long.plain_cpu_s / long.audio_s:.1f} s |")
        lines += ["", f"Wall time of the precise analysis in this run: {long.precise_wall_s:.0f} s (a shared machine: wall time varies with its load; CPU time is the steadier figure)."]
    lines += ["", "## How the count is checked", "", CHECKS, "", "## History of the decoding choices", "", NOTES, ""]
    if refused:
        lines += ["Refused by the analysis (as a user would be told): " + "; ".join(refused) + ".", ""]
    if EXCLUDED:
        lines += ["Excluded: " + "; ".join(f"`{k}` ({v})" for k, v in EXCLUDED.items()) + ".", ""]
    head = "| corpus | clip | kind | s | truth | sound only |" + (" plain |" if has_plain else "") + " recogniser | precise | from the sound | CPU s |"
    lines += ["## Per clip", "", head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        why = ", ".join(f"{n} {k}" for k, n in sorted(r.flags.items())) or "–"
        lines.append(
            f"| {r.corpus} | {r.id} | {r.kind}/{r.tkind} | {r.duration_s:.1f} | {r.truth} | {_pct(r.acoustic, r.truth)} |"
            + (f" {_pct(r.plain, r.truth)} |" if has_plain else "")
            + f" {_pct(r.asr, r.truth)} | {_pct(r.fused, r.truth)} | {why} | {r.cpu_s:.2f} |"
        )
    lines.append("")
    return "\n".join(lines)


CHECKS = """Every stretch of speech (a run of at least 2 s, or consecutive shorter runs together) is judged
by the recogniser's own signals and by the sound (`analysis/fusion.py`): its words' mean
log-probability and its decoding pass's average log-probability per token (below −1.0, Whisper's
own `log_prob_threshold`: *unsure*), the pass's gzip compression ratio (above 2.4, Whisper's
`compression_ratio_threshold`) or a repeated n-gram in the stretch's text (*repetitive*), and its
character count against the syllable nuclei heard there (under 0.6 or over 1.8 times: *dropped* or
*invented*). A flagged stretch is counted from the sound (its nuclei weighted for the local rate),
its text is withheld (not shown, no fillers, no passages); the report says which stretches were
counted how. When half the speech or more is flagged, the whole transcript is withheld. The
no-speech probability enters Whisper's own rule only together with a log-probability under −1.0,
which flags the stretch already. Passages left out or added are read from the reliable text only,
compared by sound (toneless pinyin with the common accent mergers folded: Whisper base writes
homophones such as 保码 for 宝马), only where one side has nothing between two matching stretches,
at least 4 characters once fillers and repetitions are set aside, and a passage left out only
where the sound agrees that nothing was said there."""


PassageRow = tuple[float, float, float, float, str, np.ndarray]


def run_passages(n: int, model_dir: Path, seed: int = PASSAGE_SEED) -> list[PassageRow]:
    """Speaking rate without a script on ``n`` trainee-length passages (:mod:`benchmarks.passages`).

    Returns, per passage, ``(length_s, true_cpm, precise_cpm, acoustic_cpm, char_source,
    piece_rates)``, the last from :func:`benchmarks.accuracy.piece_rates` (true, precise mode,
    acoustic estimate).
    """
    from speechcoach.analysis.pipeline import analyze_signal

    from .passages import build_passages

    out = []
    for p in build_passages(n=n, seed=seed):
        precise = analyze_signal(p.y, p.sr, count="asr", asr_model=model_dir)
        acoustic = analyze_signal(p.y, p.sr, count="acoustic")
        pieces = piece_rates(p, precise.pace_events, acoustic.pace_events)
        out.append((p.duration_s, p.cpm, precise.rate.cpm, acoustic.rate.cpm, precise.char_source, pieces))
    return out


def passage_section(rows: list[PassageRow], seed: int = PASSAGE_SEED) -> str:
    """Markdown: rate error without a script, precise mode next to the acoustic estimate."""
    true = np.array([r[1] for r in rows])
    err_p = 100 * (np.array([r[2] for r in rows]) / true - 1)
    err_a = 100 * (np.array([r[3] for r in rows]) / true - 1)
    pieces = [r[5] for r in rows]
    lines = [
        "",
        "## Passages: speaking rate without a script",
        "",
        f"{len(rows)} trainee-length passages (seed {seed}, `benchmarks/passages.py`: corpus clips joined with "
        "pauses, cut mid-phrase, time-stretched ×0.75–1.15 by phase vocoder, room noise), analysed without the "
        "script by the whole pipeline in precise mode (`count=\"asr\"`) and with the acoustic estimate. "
        f"Speech is packed into windows of at most {asr.WINDOW_S:g} s, cut only in pauses (`asr.pack_windows`).",
        "",
        "The pace column: median error of a piece's rate (a stretch of one clip between two pauses), "
        "counted from the events the pace series counts, each passage's own rate error taken out.",
        "",
        "| count | rate error, mean abs | mean signed | worst | pace: piece-rate error |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| precise mode | {np.mean(np.abs(err_p)):.1f}% | {np.mean(err_p):+.1f}% | {err_p[np.argmax(np.abs(err_p))]:+.1f}% | {piece_error(pieces, 1):.1f}% |",
        f"| acoustic estimate | {np.mean(np.abs(err_a)):.1f}% | {np.mean(err_a):+.1f}% | {err_a[np.argmax(np.abs(err_a))]:+.1f}% | {piece_error(pieces, 2):.1f}% |",
        "",
        "| # | length (s) | true cpm | precise (err) | acoustic (err) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, (length, t, p_cpm, a_cpm, _src, _pieces) in enumerate(rows):
        lines.append(f"| {i} | {length:.0f} | {t:.0f} | {p_cpm:.0f} ({100 * (p_cpm / t - 1):+.1f}%) | {a_cpm:.0f} ({100 * (a_cpm / t - 1):+.1f}%) |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns a process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="CTranslate2 Whisper folder (default: installed model)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "ASR_RESULTS.md")
    ap.add_argument("--limit", type=int, default=0, help="only the first N clips of each corpus (quick look)")
    ap.add_argument("--reference", action="store_true", help="also decode each clip plainly (faster-whisper defaults)")
    ap.add_argument("--passages", type=int, default=12, help="passages scored without a script (default 12; 0 skips)")
    ap.add_argument("--no-long", action="store_true", help="skip the 10-minute speed run")
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep transcripts in this folder and reuse them (for re-running after a change to the checks; "
                    "CPU times are then not those of decoding)")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    found = corpora()
    if not found:
        return 2
    if not asr.available():
        print("benchmarks.asr: faster-whisper not installed", file=sys.stderr)
        return 2
    model_dir = resolve_model_dir(args.model)
    if model_dir is None:
        from speechcoach.precise.model import ensure_model

        model_dir = ensure_model()[0]
    asr.load_model(str(model_dir))  # load once, outside the timing
    t0 = time.perf_counter()
    rows: list[Row] = []
    refused: list[str] = []
    with tempfile.TemporaryDirectory(prefix="asr-bench-") as tmp:
        cache = TranscriptCache(args.cache or Path(tmp), max_bytes=1 << 30)  # the scripted run reuses the unscripted run's transcript
        for name, root in found:
            meta = kinds(root)
            clips, audio, skipped = read_corpus(root)
            for s in skipped:
                print(f"skipped {name}/{s.id}: {s.reason}", file=sys.stderr)
            for c in clips[: args.limit or None]:
                try:
                    r = run_clip(name, c, audio[c.id], meta.get(c.id, ("real", "human")), model_dir, cache, args.reference)
                except SpeechcoachError as exc:  # the analysis refuses it (too little speech): as a user would see
                    refused.append(f"`{name}/{c.id}` ({exc})")
                    print(f"refused {name}/{c.id}: {exc}", file=sys.stderr)
                    continue
                rows.append(r)
                if args.verbose:
                    print(f"{name:4s} {r.id:42s} truth {r.truth:4d} ac {r.acoustic:4d} asr {r.asr:4d} fused {r.fused:4d} "
                          f"{r.flags or ''} {r.cpu_s:5.2f}s {r.skipped or ''} {r.added or ''}", file=sys.stderr)
    long = None if args.no_long else run_long(model_dir)
    md = report(rows, model_dir, time.perf_counter() - t0, long, refused, cached=args.cache is not None)
    if args.passages:
        md = md.rstrip("\n") + "\n" + passage_section(run_passages(args.passages, model_dir))
    write_atomic(args.out, md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
