"""The analysis: a pure function of (signal, sample rate, script, settings), and a file wrapper.

load → features → segmentation → syllable nuclei → characters (script, precise mode or the
estimate) → rate → pause placement (with the script aligned) → pace (on speaking time, each
pause counted at most 1 s, :func:`speechcoach.analysis.metrics.pace_cut`) → the voice (pitch and
loudness, :mod:`speechcoach.analysis.voice`) → findings → score.
:func:`analyze_audio` is what every front end (CLI, batch, server) calls; :func:`analyze_file`
loads a file first, :func:`analyze_signal` takes an in-memory signal.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .. import audio as audio_io
from .alignment import Alignment
from ..characters import is_cjk, spoken_units
from ..errors import AudioError, ParameterError, ScriptError, SpeechcoachError
from .features import Frames, frame_features
from .findings import NO_PAUSE_SPAN_S, Finding, derive, merge_findings, placement_findings, run_lengths
from .metrics import Deductions, Pace, Rate, deductions, is_long_pause, pace, pace_cut, shown_cpm, shown_limit, speaking_rate
from .placement import Pause, Placed, judged_mid_phrase, place
from .segmentation import NoSpeechError, Segmentation, segment
from ..settings import COUNT_MODES, Settings
from .syllables import detect_track, nucleus_weights, weighted_count
from .voice import Voice, voice_deduction, voice_findings
from . import voice as voice_

if TYPE_CHECKING:  # precise mode is imported only when it runs
    from .fusion import Precise
    from ..precise.cache import TranscriptCache

Progress = Callable[[str, float, float], None]
"""``progress(stage, done_s, total_s)``: how far an analysis has got (:func:`analyze_audio`)."""

MIN_SPEECH_S = 2.0
"""Recordings with less speech than this (seconds, pauses excluded) are refused."""

CLIPPING_WARN_FRACTION = 0.001
LOW_LEVEL_WARN_DB = -40.0
NOISY_WARN_SNR_DB = 20.0
SHORT_WARN_S = 10.0
FAST_ESTIMATE_WARN_RATE = 7.0
"""Estimated characters per second of speech from which the no-script estimate is flagged as
probably low: at such rates syllables run together (the corpus clips at 330-420 characters per
minute of speech are counted 13.5% low on average after the rate calibration, and clips
compressed in time lose ~8% more, see ``benchmarks/RESULTS.md``; the fastest clip, ~11
characters per second, comes out 2% low only because its merges crowd the picker's spacing
floor, see :func:`speechcoach.analysis.syllables.crowded`)."""
ESTIMATE_MARGIN = 0.10
"""Typical error of the no-script count (fraction), the "usually within 10 %" that its warning
quotes: on real clips the mean error is ~7.3 % cross-validated and most clips are within 10 %
(``benchmarks/RESULTS.md``). A rate estimated this close to an edge of the moderate band may be
on either side of it, and the warning says so."""
SCRIPT_MISMATCH_RATIO = 1.8
"""A script whose count and the syllable-nucleus count differ by more than this factor either
way (the wrong script, half of it read) is set aside, with a warning. The estimate's worst
misses on the real clips of ``benchmarks/RESULTS.md`` are a factor 1.44 (a 415 characters/min
conversation counted short) and 1/0.79 = 1.27 (a far-field clip counted long); 1.8 leaves room
beyond both, and catches half a script read (2.0) or a 61-character script for a 147-character
reading (2.4, which passed the 2.5 this was before). The bundled synthetic samples count within
a factor 1.07 of their scripts."""
ENVELOPE_HOP_S = 0.05


@dataclass(frozen=True)
class Warning_:
    """A note about the recording's quality or the method used (not a delivery finding)."""

    id: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Analysis:
    """Everything measured about one recording. Times in seconds, rates in characters/min."""

    audio: audio_io.Audio
    settings: Settings
    segmentation: Segmentation
    nuclei: np.ndarray
    script: str | None
    char_count: int
    char_source: str
    rate: Rate
    pace: Pace
    pauses: tuple[Pause, ...]
    run_chars: np.ndarray
    findings: tuple[Finding, ...]
    warnings: tuple[Warning_, ...]
    score: int
    envelope_db: np.ndarray
    envelope_hop_s: float = ENVELOPE_HOP_S
    pause_method: str = "none"
    alignment: Alignment | None = None
    transcript: object | None = None
    fillers: tuple = ()
    jargon: tuple = ()
    passages: tuple = ()
    char_check: object | None = None
    deductions: Deductions = Deductions(rate=0, pauses=0, pace=0)
    """The points ``score`` lost for the rate, the pauses and the pace."""
    pace_events: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0), np.zeros(0)))
    """What the pace series counted: event times (s) and the characters each stands for
    (:func:`pace_events`)."""
    voice: Voice | None = None
    """Intonation and loudness (:func:`speechcoach.analysis.voice.analyse`)."""


SCRIPT_ENCODINGS = ("UTF-8", "UTF-16", "GB18030")
"""The encodings a script file may be saved in: UTF-8 (with or without a byte-order mark),
UTF-16 with a byte-order mark (Notepad's "Unicode"), and GB18030, which includes GBK (what
Notepad, WPS and Excel on Chinese Windows save as "ANSI")."""

MAX_SCRIPT_BYTES = 1_000_000
"""Script files over this size (bytes, 1 MB) are refused before they are decoded. A practice
explanation is a few kilobytes (10 minutes at 120 characters a minute: 1,200 characters, 3.6 KB
of UTF-8); a megabyte is ~330,000 characters, 46 hours of reading. A 50 MB file took 41 s and
3.5 GB to refuse as not matching the recording."""

_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_script(data: bytes) -> str | None:
    """The text of a script file's bytes, or ``None`` when they are not text.

    A UTF-16 byte-order mark (either byte order) means UTF-16 and a UTF-8 one UTF-8; bytes
    without one are UTF-8 when they decode as such, else GB18030 (GBK). UTF-16 and GB18030
    text is accepted only when plausible: no control characters but tab, CR and LF, and at
    least one CJK character or nothing unprintable. GB18030 gives some character for most
    byte pairs, so this is what tells a GBK script from binary data.

    Parameters
    ----------
    data : bytes
        The file's contents.

    Returns
    -------
    str or None
        The text without its byte-order mark.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, checked = "utf-16", True
    elif data.startswith(codecs.BOM_UTF8):
        encoding, checked = "utf-8-sig", False
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            encoding, checked = "gb18030", True
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if checked and not _plausible_text(text):
        return None
    return text


def _plausible_text(text: str) -> bool:
    """No control characters besides tab, CR and LF, and a CJK character or all printable."""
    if _BAD_CONTROL.search(text):
        return False
    return any(is_cjk(ch) for ch in text) or all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def read_script(path: str | Path) -> str:
    """Read a script file saved as UTF-8, UTF-16 or GB18030 (:func:`decode_script`).

    Every script speechcoach reads goes through here: ``analyze --script`` and the ``NAME.txt``
    beside a recording, ``batch``, ``check``, ``record --analyze`` and the practice server's
    ``--scripts`` folder.

    Raises
    ------
    ScriptError
        Missing, unreadable, over :data:`MAX_SCRIPT_BYTES` (``code="script_too_large"``, before
        more than that is read), not text in any of :data:`SCRIPT_ENCODINGS`, or nothing in it
        to speak.
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:  # at most one byte past the limit: a device or pipe may never end
            data = fh.read(MAX_SCRIPT_BYTES + 1)
            if len(data) > MAX_SCRIPT_BYTES:
                size = max(os.fstat(fh.fileno()).st_size, len(data))
                raise ScriptError(
                    p,
                    f"script file is too large ({size / 1e6:.1f} MB; at most {MAX_SCRIPT_BYTES / 1e6:g} MB)",
                    code="script_too_large",
                    params={"size_mb": size / 1e6, "limit_mb": MAX_SCRIPT_BYTES / 1e6},
                )
    except FileNotFoundError:
        raise ScriptError(p, "script file not found", code="script_not_found") from None
    except IsADirectoryError:
        raise ScriptError(p, "is a folder, not a script file", code="script_is_folder") from None
    except OSError as exc:
        raise ScriptError(p, f"cannot read script ({exc.strerror})", code="cannot_read_script", params={"reason": str(exc.strerror)}) from None
    text = decode_script(data)
    if text is None:
        raise ScriptError(p, "script is not text in UTF-8, UTF-16 or GB18030 (GBK)", code="script_not_text")
    if not spoken_units(text):
        raise ScriptError(p, "script has no characters to speak", code="script_empty")
    return text


def analyze_file(
    path: str | Path,
    *,
    script: str | None = None,
    settings: Settings | None = None,
    count: str | None = None,
    asr_model: str | Path | None = None,
    asr_cache: TranscriptCache | None = None,
    progress: Progress | None = None,
    max_minutes: float | None = None,
) -> Analysis:
    """Load ``path`` and analyse it (``count``, ``asr_model``, ``asr_cache`` and ``progress``: see
    :func:`analyze_audio`).

    ``max_minutes``: the longest recording accepted (default ``settings.max_minutes``; the
    practice server passes its lower cap for uploads).

    Every failure is an :class:`~speechcoach.errors.AudioError` naming the file (exit 2 on the
    command line), except a missing recogniser or model (:func:`analyze_audio`): running out of
    memory (``code="out_of_memory"``), and any other exception of the analysis
    (``code="analysis_failed"``, its cause chained, worded as an internal error to report).
    """
    limit = max_minutes if max_minutes is not None else (settings or Settings()).max_minutes
    try:
        if progress is not None:
            progress("load", 0.0, 0.0)
        with np.errstate(all="ignore"):  # no numpy warning reaches a terminal
            return analyze_audio(audio_io.load(path, max_minutes=limit), script=script, settings=settings, count=count,
                                 asr_model=asr_model, asr_cache=asr_cache, progress=progress)
    except SpeechcoachError:
        raise
    except MemoryError:
        raise AudioError(path, "out of memory while analysing", code="out_of_memory") from None
    except Exception as exc:  # a bug met on this file: still one line naming it
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise AudioError(path, f"could not be analysed: internal error ({detail}); please report it", code="analysis_failed",
                         params={"detail": detail}) from exc


def analyze_signal(
    y: np.ndarray,
    sr: int,
    *,
    script: str | None = None,
    settings: Settings | None = None,
    count: str | None = None,
    asr_model: str | Path | None = None,
    asr_cache: TranscriptCache | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Analyse an in-memory mono signal (any rate ≥ 8 kHz; a DC offset is removed as on loading)."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise AudioError("<signal>", f"expected a mono signal, got shape {y.shape}", code="not_mono", params={"shape": tuple(int(n) for n in y.shape)})
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    a = audio_io.Audio(
        path="<signal>",
        samples=audio_io.resample(audio_io.remove_dc(y), sr, audio_io.ANALYSIS_SR),
        sr=audio_io.ANALYSIS_SR,
        source_sr=int(sr),
        channels=1,
        duration_s=len(y) / sr,
        clipped_fraction=float(np.mean(np.abs(y) >= audio_io.CLIP_LEVEL)) if y.size else 0.0,
        peak_dbfs=float(20 * np.log10(max(peak, 1e-10))),
    )
    return analyze_audio(a, script=script, settings=settings, count=count, asr_model=asr_model, asr_cache=asr_cache, progress=progress)


def analyze_audio(
    a: audio_io.Audio,
    *,
    script: str | None = None,
    settings: Settings | None = None,
    count: str | None = None,
    asr_model: str | Path | None = None,
    asr_cache: TranscriptCache | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """The whole analysis of one decoded recording.

    Parameters
    ----------
    a : Audio
        From :func:`speechcoach.audio.load`.
    script : str or None, keyword-only
        What was said; without it the character count is estimated from the audio.
    settings : Settings, keyword-only, optional
        Default ``Settings()``.
    count : {"auto", "asr", "acoustic"}, keyword-only, optional
        Whether the offline speech recogniser (:mod:`speechcoach.precise.asr`) runs (default
        ``settings.count``, itself ``auto`` unless a rubric or ``--count`` says otherwise).
        ``auto``: it counts the characters when there is no script to count (none given, or one
        set aside as not what was said); with a script nothing of it is imported or run. Where
        it or its model is missing or broken, the count comes from the sound and a warning says
        so (:func:`speechcoach.precise.asr.auto_model`). ``asr``: it always runs (with a script
        too: the transcript, fillers, jargon heard, passages left out or added); missing, it is
        an error. ``acoustic``: it never runs; the syllable nuclei are counted. A script's count
        is used whenever there is one that fits the sound.
    asr_model : path-like, keyword-only, optional
        CTranslate2 Whisper folder (default ``$SPEECHCOACH_ASR_MODEL`` or the installed one).
    asr_cache : TranscriptCache, keyword-only, optional
        Where the recogniser's transcript is looked up and kept
        (:class:`speechcoach.precise.cache.TranscriptCache`); the analysis is the same with or
        without it, only faster when the same samples were transcribed before.
    progress : callable, keyword-only, optional
        ``progress(stage, done_s, total_s)``, called as the analysis moves on: ``stage`` is
        ``"sound"`` (features, speech runs, syllable nuclei), ``"model"`` (the recogniser's model
        assembled on first use), ``"recognise"`` (``done_s`` of the recording's ``total_s``
        seconds recognised so far) or ``"findings"``; :func:`analyze_file` first reports
        ``"load"``. Nothing is printed here (:mod:`speechcoach.app.progress` shows it).

    Returns
    -------
    Analysis

    Raises
    ------
    AudioError
        No speech, or under :data:`MIN_SPEECH_S` of it.
    AsrUnavailable, ModelError
        ``count="asr"`` without faster-whisper or a model.
    """
    settings = settings if settings is not None else Settings()  # made now: its count follows $SPEECHCOACH_COUNT
    y, sr = a.samples, a.sr
    report = progress if progress is not None else _quiet
    report("sound", 0.0, a.duration_s)
    frames, seg = _segmented(a, settings.min_pause_s)

    # characters: the script's count, the recogniser's, or the estimate from the syllable nuclei
    track = detect_track(y, sr, runs=seg.runs, frames=frames)
    nuclei, widths = track.times, track.width_s  # the lobe widths give the rate the count is calibrated at
    calibrated = nucleus_weights(nuclei, seg.runs, widths=widths)  # characters per nucleus, for the local rate
    heard = weighted_count(calibrated)  # = syllables.estimate_count_runs
    script_chars = len(spoken_units(script)) if script is not None else 0
    mismatch = _script_check(script_chars, heard) if script is not None else ()
    # a script that cannot be what was said is not counted or aligned (every figure would measure
    # the script); the recogniser still compares what was said with it (passages left out)
    counted = None if mismatch else script
    mode = count if count is not None else settings.count
    report("sound", a.duration_s, a.duration_s)
    precise, unavailable = _precise(y, sr, seg, nuclei, script, mode, asr_model, settings.guidance, asr_cache, widths=widths,
                                    script_counts=counted is not None, progress=report)
    report("findings", a.duration_s, a.duration_s)
    extras = _precise_extras(precise, script, seg, settings.guidance, counts=counted is None)
    n_chars, source = _char_count(counted is not None, script_chars, precise, heard)

    # the rate, the pauses placed in the script, the pace on speaking time
    rate = speaking_rate(n_chars, seg.span_s, seg.pause_s, band=settings.band)
    placed = place(y, sr, seg.runs, nuclei, counted, sentence_ends=_sentence_ends(precise), weights=calibrated,
                   words=precise.transcript.words if precise is not None else None)
    recognised = _recognised_events(precise, seg, nuclei) if source == "asr" else None
    events, weight = pace_events(nuclei, calibrated, n_chars, placed.alignment, recognised)
    pace_ = _speaking_pace(events, weight, placed.pauses, seg, settings)
    run_chars = placed.run_chars if placed.run_chars is not None else run_lengths(seg.runs, events, weight)

    # the voice: pitch and loudness, against the speaker's own
    voice = voice_.analyse(frames, seg, nuclei, alignment=placed.alignment, duration_s=a.duration_s, settings=settings)

    # what the report says about it
    findings = merge_findings(
        _delivery_findings(rate, pace_, placed, seg, run_chars, settings), extras["findings"] + voice_findings(voice, settings)
    )
    lost = _deductions(rate, pace_, placed, seg, run_chars, settings, voice)
    return Analysis(
        audio=a,
        settings=settings,
        segmentation=seg,
        nuclei=nuclei,
        script=script,
        char_count=n_chars,
        char_source=source,
        rate=rate,
        pace=pace_,
        pauses=placed.pauses,
        run_chars=run_chars,
        findings=findings,
        warnings=_warnings(a, seg, source, n_chars / seg.phonation_s, rate.cpm, settings.band)
        + mismatch
        + extras["warnings"]
        + unavailable,
        score=lost.score,
        deductions=lost,
        envelope_db=_envelope(frames, seg),
        **extras["fields"],
        pause_method=placed.method,
        alignment=placed.alignment,
        pace_events=(events, weight),
        voice=voice,
    )


def _segmented(a: audio_io.Audio, min_pause_s: float) -> tuple[Frames, Segmentation]:
    """The frames and the speech runs and pauses of ``a``; an :class:`AudioError` when there is too little speech."""
    y, sr = a.samples, a.sr
    if y.size < sr * 0.1:
        raise AudioError(a.path, f"recording is too short ({a.duration_s:.2f} s)", code="too_short", params={"seconds": float(a.duration_s)})
    frames = frame_features(y, sr)
    try:
        seg = segment(frames, min_pause_s=min_pause_s)
    except NoSpeechError as exc:
        raise AudioError(a.path, str(exc), code="no_speech") from None
    if seg.phonation_s < MIN_SPEECH_S:
        raise AudioError(
            a.path,
            f"only {seg.phonation_s:.1f} s of speech found (at least {MIN_SPEECH_S:.0f} s needed)",
            code="too_little_speech",
            params={"speech": float(seg.phonation_s), "needed": MIN_SPEECH_S},
        )
    return frames, seg


def _char_count(script_counted: bool, script_chars: int, precise: Precise | None, heard: int) -> tuple[int, str]:
    """The characters spoken and where the count comes from: ``"script"``, ``"asr"`` or ``"estimate"``."""
    if script_counted:
        return script_chars, "script"
    if precise is not None:
        return int(precise.char_count), "asr"
    return heard, "estimate"


def _speaking_pace(events: np.ndarray, weight: np.ndarray, pauses: tuple[Pause, ...], seg: Segmentation, settings: Settings) -> Pace:
    """The pace series (cpm) on speaking time: each pause counts at most :data:`~speechcoach.analysis.metrics.PACE_PAUSE_CAP_S`."""
    # the pace is how fast the person talks: the excess of a pause is left out of its time axis
    # (judged by the pause rules, not as slow speech)
    cut = pace_cut([(p.start_s, p.end_s) for p in pauses])
    return pace(events, seg.start_s, seg.end_s, weight=weight, window_s=settings.window_s, hop_s=settings.hop_s, cut=cut)


def _delivery_findings(
    rate: Rate, pace_: Pace, placed: Placed, seg: Segmentation, run_chars: np.ndarray, settings: Settings
) -> tuple[Finding, ...]:
    """The findings on the delivery (rate, pauses, missed breaks, runs, pace), most important first."""
    return derive(
        rate=rate,
        pace=pace_,
        pauses=placed.pauses,
        runs=seg.runs,
        run_chars=run_chars,
        span_s=seg.span_s,
        settings=settings,
        extra=placement_findings(placed.missed_breaks, placed.missed_steps),
        pause_method=placed.method,
    )


def _deductions(
    rate: Rate, pace_: Pace, placed: Placed, seg: Segmentation, run_chars: np.ndarray, settings: Settings, voice: Voice | None = None
) -> Deductions:
    """The score's :func:`speechcoach.analysis.metrics.deductions` from the counts of what its rules judge."""
    pauses = placed.pauses
    return deductions(
        rate,
        pace_,
        settings=settings,
        n_long_pauses=sum(is_long_pause(p.duration_s, settings.max_pause_s) for p in pauses),
        # placed from the sound alone, a mid-phrase pause is a guess: it costs nothing, as in check
        n_mid_phrase=judged_mid_phrase((p.placement for p in pauses), placed.method),
        n_long_runs=int(np.sum(run_chars > settings.max_run_chars)),
        no_pauses=not pauses and seg.span_s > NO_PAUSE_SPAN_S,
        voice=voice_deduction(voice, settings),
    )


def pace_events(
    nuclei: np.ndarray,
    calibrated: np.ndarray,
    n_chars: int,
    alignment: Alignment | None = None,
    recognised: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The events the pace series counts, and the characters each stands for (summing to ``n_chars``).

    With a script, its characters at their aligned times (centres), one each: the alignment
    knows how many characters each speech run holds. Else, in precise mode, the recogniser's
    run-by-run count spread over each run's nuclei (``recognised``, from
    :meth:`speechcoach.precise.fusion.FusedCount.events`). Else the syllable nuclei, each weighing its
    rate-calibrated share (``calibrated``, from :func:`speechcoach.analysis.syllables.nucleus_weights`).
    On the benchmark passages the pieces' rates are off by a median 1.3 % with the script's
    characters (``benchmarks/RESULTS.md``, all seeds) and 8.6 % with the weighted nuclei (scratch
    study of 2026-11-29, ten seeds: 11.0 % when the weights followed each stretch's lobe-width rate
    and crowding term, which spread the pieces too far; 8.8 % before the lobe-width rate); with
    the recogniser's runs 3.7 %, against 7.5 % for the weighted nuclei on the same 12 passages
    (``benchmarks/ASR_RESULTS.md``, measured before the crowding term of the no-script count).

    Returns
    -------
    times : np.ndarray, shape (e,)
    weights : np.ndarray, shape (e,)
    """
    if alignment is not None and len(alignment.start_s):
        return (alignment.start_s + alignment.end_s) / 2, np.ones(len(alignment.start_s))
    times, weights = recognised if recognised is not None else (np.asarray(nuclei, dtype=float), calibrated)
    total = float(np.sum(weights))
    return times, (weights * (n_chars / total) if total > 0 else np.zeros(len(times)))


def _recognised_events(precise: Precise | None, seg: Segmentation, nuclei: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The recogniser's count placed run by run, when it was checked run by run (it has word times)."""
    if precise is None or len(precise.counted.runs) != len(seg.runs):
        return None
    return precise.counted.events(nuclei)


def _warnings(
    a: audio_io.Audio, seg: Segmentation, source: str, chars_per_speech_s: float, cpm: float, band: tuple[float, float]
) -> tuple[Warning_, ...]:
    out = []
    if a.channel_used is not None:  # the channels cancelled out: one was analysed alone
        out.append(Warning_("one_channel", {"channel": a.channel_used + 1, "channels": a.channels}))
    if a.clipped_fraction > CLIPPING_WARN_FRACTION:
        out.append(Warning_("clipping", {"pct": 100 * a.clipped_fraction}))
    if seg.peak_db < LOW_LEVEL_WARN_DB:
        out.append(Warning_("low_level", {"level": seg.peak_db}))
    if seg.peak_db - seg.floor_db < NOISY_WARN_SNR_DB:
        out.append(Warning_("noisy", {"snr": seg.peak_db - seg.floor_db}))
    if seg.phonation_s < SHORT_WARN_S:
        out.append(Warning_("short", {"speech": seg.phonation_s}))
    if source == "estimate" and chars_per_speech_s >= FAST_ESTIMATE_WARN_RATE:
        out.append(Warning_("estimate_fast", {"rate": chars_per_speech_s}))
    elif source == "estimate":
        edge = _edge_within_margin(cpm, band)
        out.append(Warning_("estimate", {}) if edge is None else Warning_("estimate_near_edge", {"cpm": shown_cpm(cpm), "edge": shown_limit(edge)}))  # the edge as given
    return tuple(out)


def _edge_within_margin(cpm: float, band: tuple[float, float]) -> float | None:
    """The band edge an estimated rate lies within :data:`ESTIMATE_MARGIN` of, else ``None``.

    The rate's own error is proportional to it, so the test is on ``|cpm - edge| <= margin * cpm``.
    """
    near = [edge for edge in band if abs(cpm - edge) <= ESTIMATE_MARGIN * cpm]
    return min(near, key=lambda edge: abs(cpm - edge)) if near else None


def _script_check(n_chars: int, heard: int) -> tuple[Warning_, ...]:
    """A warning when a script cannot be what was said: its ``n_chars`` spoken characters and the
    ``heard`` syllables differ by more than :data:`SCRIPT_MISMATCH_RATIO` either way. The analysis
    then counts from the sound (or the recogniser) and does not align the script, so that no
    finding measures the script (a 6-character script under 30 s of speech would read as 11
    characters a minute)."""
    if heard == 0:
        return ()
    if 1 / SCRIPT_MISMATCH_RATIO <= n_chars / heard <= SCRIPT_MISMATCH_RATIO:
        return ()
    return (Warning_("script_mismatch", {"chars": n_chars, "heard": heard}),)


def _envelope(frames: Frames, seg: Segmentation) -> np.ndarray:
    """Energy in dB above the noise floor, one value per :data:`ENVELOPE_HOP_S`, shape (m,)."""
    k = max(1, int(round(ENVELOPE_HOP_S / frames.hop_s)))
    e = frames.energy_db
    n = len(e) // k * k
    env = e[:n].reshape(-1, k).max(axis=1) if n else e[:1]
    return np.clip(env - seg.floor_db, 0.0, None)


def _quiet(stage: str, done_s: float, total_s: float) -> None:
    """The progress callback of an analysis nobody watches."""


def _precise(
    y: np.ndarray,
    sr: int,
    seg: Segmentation,
    nuclei: np.ndarray,
    script: str | None,
    count: str,
    asr_model: str | Path | None,
    guidance: str | None = None,
    cache: TranscriptCache | None = None,
    *,
    widths: np.ndarray | None = None,
    script_counts: bool = False,
    progress: Progress = _quiet,
) -> tuple[Precise | None, tuple[Warning_, ...]]:
    """Precise mode (:mod:`speechcoach.precise.asr`) when ``count`` asks for it, else None; and the
    warning when ``auto`` wanted it but could not have it.

    ``acoustic`` never runs it, nor does ``auto`` when the script counts (``script_counts``):
    then nothing of the recogniser is imported. ``asr`` always runs it and lets its errors
    through; ``auto`` falls back to the count from the sound when the recogniser, its model
    or loading the model fails (one warning, :data:`speechcoach.precise.asr.UNAVAILABLE_WARNINGS`).
    """
    if count not in COUNT_MODES:
        raise ParameterError(f"count must be one of {', '.join(COUNT_MODES)}, got {count!r}")
    if count == "acoustic" or (count == "auto" and script_counts):
        return None, ()
    from ..precise import asr
    from ..precise.model import ModelError
    from . import fusion

    total = len(y) / sr
    progress("model", 0.0, total)
    if count == "asr":
        model_dir = asr.choose_model(count, asr_model)
    else:
        model_dir, why = asr.auto_model(asr_model)
        if model_dir is None:
            return None, (Warning_(why or "asr_missing", {}),)
    assert model_dir is not None

    def recognised(done_s: float) -> None:
        progress("recognise", done_s, total)

    progress("recognise", 0.0, total)
    try:
        return fusion.analyse(y, sr, seg.runs, nuclei, model_dir=model_dir, script=script, guidance=guidance, cache=cache,
                              widths=widths, progress=recognised), ()
    except ModelError:
        if count == "asr":
            raise
        return None, (Warning_("asr_model_broken", {}),)


def _precise_extras(precise: Precise | None, script: str | None, seg: Segmentation, guidance: str | None = None, *,
                    counts: bool = False) -> dict:
    """Analysis fields and extra findings/warnings from precise mode (jargon from the script alone
    without it), with the filler list and jargon of the ``guidance`` folder (default: shipped).
    ``counts``: the recogniser's count is the one reported (no script counted), so the warnings
    say which stretches were counted from the sound; else only where its text was not used."""
    from ..precise.fillers import rules
    from .findings import precise_findings

    if precise is None:
        from ..precise.jargon import find

        jargon = find(script=script, folder=guidance) if script is not None else ()
        return {
            "fields": {"jargon": jargon},
            "findings": precise_findings(jargon=jargon),
            "warnings": (),
        }
    from ..locales import fmt_span, fmt_time

    counted = precise.counted
    flagged = counted.flagged
    warns: list[Warning_] = []
    if precise.transcript.withheld:  # most of it overruled: one note instead of one per kind
        warns.append(Warning_("asr_withheld", {"pct": int(round(100 * counted.flagged_share))}))
    elif flagged:  # which parts were counted how
        spans = ", ".join(fmt_span(a, b) for a, b in _merged_spans([(r.start_s, r.end_s) for r in flagged]))
        kind = "asr_partly" if counts else "asr_text_partly"
        warns.append(Warning_(kind, {"spans": spans, "pct": int(round(100 * counted.flagged_share))}))
    elif counts:
        warns.append(Warning_("asr", {}))
    for flag in ("dropped", "invented", "unsure", "repetitive"):
        runs = [r for r in flagged if r.flag == flag]
        if runs and not precise.transcript.withheld:
            warns.append(
                Warning_(
                    f"asr_{flag}",
                    {"n": len(runs), "at": fmt_time(runs[0].start_s), "asr": runs[0].asr, "acoustic": runs[0].acoustic},
                )
            )
    return {
        "fields": {
            "transcript": precise.transcript,
            "fillers": precise.fillers,
            "jargon": precise.jargon,
            "passages": precise.passages,
            "char_check": counted,
        },
        "findings": precise_findings(
            fillers=precise.fillers,
            speech_s=seg.phonation_s,
            max_fillers_per_minute=rules(guidance).max_per_minute,
            jargon=precise.jargon,
            passages=precise.passages,
        ),
        "warnings": tuple(warns),
    }


def _merged_spans(spans: list[tuple[float, float]], gap_s: float = 1.0) -> list[tuple[float, float]]:
    """``spans`` (s) in time order, those less than ``gap_s`` apart joined (the report names
    stretches of the recording, not the runs they are made of)."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] < gap_s:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _sentence_ends(precise: Precise | None) -> tuple[float, ...] | None:
    """Sentence ends of the transcript, for placing pauses without a script."""
    if precise is None:
        return None
    from ..precise.asr import sentence_ends

    return sentence_ends(precise.transcript)
