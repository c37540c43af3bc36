"""The voice measures (speechcoach.analysis.voice) on synthetic speech-like signals with a known
pitch and loudness: the tracker's F0, the monotone measure and finding, sentence ends trailing
off, a voice fading across the recording; the report, its schema, the renderers and ``check``.

Every signal is a train of harmonic "syllables" (12 harmonics, 180 ms, 60 ms apart) in phrases
between pauses, over a faint noise floor; real speech is in ``benchmarks/voice.py``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from speechcoach.analysis.pipeline import analyze_signal
from speechcoach.analysis.voice import shown_st
from speechcoach.app.check import judge
from speechcoach.render import render
from speechcoach.render.report import to_dict
from speechcoach.settings import Settings, load_rubric

SR = 16_000
REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "docs" / "report-schema.json").read_text(encoding="utf-8"))
ACOUSTIC = dict(count="acoustic")


def syllable(f0: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """One syllable: a harmonic tone following ``f0`` (Hz per sample) under a smooth envelope."""
    phase = 2 * np.pi * np.cumsum(f0) / SR
    tone = sum(np.sin(k * phase) / k for k in range(1, 13))
    n = len(f0)
    env = np.sin(np.pi * np.arange(n) / n) ** 0.6
    return (gain * 0.1 * env * tone).astype(np.float32)


def talk(
    phrases: list[list[tuple[float, float]]],
    *,
    syl_s: float = 0.18,
    gap_s: float = 0.06,
    pause_s: float = 0.6,
    gains: list[list[float]] | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Phrases of syllables, each ``(start_hz, end_hz)`` (a glide: a tone), with pauses between;
    ``gains`` multiply each syllable's amplitude. A faint noise floor (−70 dB) all through."""
    rng = np.random.default_rng(seed)
    n = int(syl_s * SR)
    parts = [np.zeros(int(0.4 * SR), np.float32)]
    for i, phrase in enumerate(phrases):
        for j, (a, b) in enumerate(phrase):
            g = gains[i][j] if gains is not None else 1.0
            parts += [syllable(np.geomspace(a, b, n), g), np.zeros(int(gap_s * SR), np.float32)]
        parts.append(np.zeros(int(pause_s * SR), np.float32))
    y = np.concatenate(parts)
    return (y + 10 ** (-70 / 20) * rng.standard_normal(len(y))).astype(np.float32)


TONES = [(1.2, 1.2), (0.8, 1.25), (0.78, 0.7), (1.35, 0.75)]
"""Mandarin-like tones as glides relative to a phrase's base: high level, rising, low, falling;
together they span about 11 semitones, as a lively real speaker's phrases do (the corpora's
median phrase range is 8–10 semitones, ``benchmarks/VOICE_RESULTS.md``)."""


def lively(n_phrases: int = 8, per: int = 8, *, seed: int = 1) -> list[list[tuple[float, float]]]:
    """Phrases whose tones span ±4 semitones and whose base moves ±3 semitones phrase to phrase."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_phrases):
        base = 140.0 * 2 ** (rng.uniform(-3, 3) / 12)
        out.append([(base * TONES[k][0], base * TONES[k][1]) for k in rng.integers(0, 4, per)])
    return out


def flat(n_phrases: int = 8, per: int = 8) -> list[list[tuple[float, float]]]:
    """The same phrases on one note: every tone within half a semitone of 140 Hz."""
    return [[(140.0, 140.0 * 2 ** (0.4 / 12)) if k % 2 else (140.0, 140.0) for k in range(per)] for _ in range(n_phrases)]


@pytest.fixture(scope="module")
def lively_an():
    return analyze_signal(talk(lively()), SR, **ACOUSTIC)


@pytest.fixture(scope="module")
def flat_an():
    return analyze_signal(talk(flat()), SR, **ACOUSTIC)


# --- pitch --------------------------------------------------------------------------------------


@pytest.mark.parametrize("hz", [90.0, 140.0, 230.0, 380.0])
def test_pitch_of_a_steady_voice_is_its_f0(hz):
    """A held harmonic tone (male to high female voices): its median within 0.5 %, 95 % of the
    voiced frames within 1 % (0.17 semitone), every one within 3 % (a frame across a syllable's
    onset sees part silence), no octave error."""
    y = talk([[(hz, hz)] * 6], syl_s=0.4, gap_s=0.02)
    an = analyze_signal(y, SR, **ACOUSTIC)
    p = an.voice.pitch
    err = np.abs(p.f0_hz[p.voiced] / hz - 1)
    assert len(err) > 150
    assert abs(p.median_hz - hz) / hz < 0.005
    assert np.percentile(err, 95) < 0.01 and np.max(err) < 0.03, np.percentile(err, [50, 95, 100])


def test_pitch_follows_a_glide_and_is_given_relative_to_the_median():
    """A 4th-tone-like fall from 250 to 160 Hz is tracked within 2 % all the way (no octave jump
    where the period grows), and the semitones are relative to the speaker's median."""
    n = int(0.5 * SR)
    y = talk([[(250.0, 160.0)] * 5], syl_s=0.5, gap_s=0.05)
    an = analyze_signal(y, SR, **ACOUSTIC)
    p = an.voice.pitch
    t = np.arange(len(p.f0_hz)) * p.hop_s
    v = p.voiced
    assert np.sum(v) > 150
    # truth: within each syllable the F0 falls geometrically from 250 to 160 Hz
    start = 0.4 + np.floor((t - 0.4) / 0.55) * 0.55
    frac = np.clip((t - start) / 0.5, 0, 1)
    truth = 250.0 * (160.0 / 250.0) ** frac
    inside = v & ((t - start) > 0.03) & ((t - start) < 0.47)
    assert np.max(np.abs(p.f0_hz[inside] / truth[inside] - 1)) < 0.02
    assert abs(np.nanmedian(p.st)) < 0.2
    assert n  # the syllable length the truth assumes


def test_silence_and_noise_are_never_voiced():
    """Nothing outside the speech runs is voiced, and white noise inside them is not either."""
    rng = np.random.default_rng(3)
    voice = talk([[(150.0, 150.0)] * 8])
    noise = (0.05 * rng.standard_normal(2 * SR)).astype(np.float32)
    an = analyze_signal(np.concatenate([voice, noise, voice]), SR, **ACOUSTIC)
    p = an.voice.pitch
    t = np.arange(len(p.f0_hz)) * p.hop_s
    in_noise = (t > len(voice) / SR + 0.1) & (t < len(voice) / SR + 1.9)
    assert not np.any(p.voiced[in_noise])


# --- monotone -----------------------------------------------------------------------------------


def test_a_flat_voice_is_monotone_and_a_lively_one_is_not(lively_an, flat_an):
    """The same phrases on one note measure under 1.5 semitones and get the finding, naming the
    flat stretch; with tones of ±4 semitones and moving phrase levels they measure over 6 and do
    not. The finding points to the intonation guidance and costs 10 points."""
    lv, fl = lively_an.voice, flat_an.voice
    assert lv.range_st > 6.0 and lv.level_spread_st > 1.0
    assert fl.range_st < 1.5 and fl.level_spread_st < 0.5
    ids = {f.id for f in flat_an.findings}
    assert "monotone" in ids and "monotone" not in {f.id for f in lively_an.findings}
    f = next(f for f in flat_an.findings if f.id == "monotone")
    assert f.guidance == "intonation" and f.evidence["spans"]
    assert f.evidence["spans"][0][0] == pytest.approx(flat_an.segmentation.start_s, abs=0.05)
    assert flat_an.deductions.voice >= 10 and lively_an.deductions.voice == 0
    assert flat_an.score == 100 - sum(flat_an.deductions.to_dict().values())


def test_the_monotone_measure_falls_as_the_range_is_compressed():
    """Compressing every glide and phrase level toward 140 Hz (100, 50, 25, 0 %) lowers the
    measure at each step, roughly in proportion (±20 %), and the finding fires at 25 % and below,
    not at 100 %."""
    base = lively()
    measures = []
    fired = []
    for k in (1.0, 0.5, 0.25, 0.0):
        squeezed = [[(140.0 * (a / 140.0) ** k, 140.0 * (b / 140.0) ** k) for a, b in ph] for ph in base]
        an = analyze_signal(talk(squeezed), SR, **ACOUSTIC)
        measures.append(an.voice.range_st)
        fired.append(any(f.id == "monotone" for f in an.findings))
    assert measures == sorted(measures, reverse=True) and len(set(measures)) == 4, measures
    assert measures[1] / measures[0] == pytest.approx(0.5, rel=0.2) and measures[2] / measures[0] == pytest.approx(0.25, rel=0.2)
    assert not fired[0] and fired[2] and fired[3], (measures, fired)


def test_the_monotone_limit_is_the_rubrics_and_judged_as_shown(flat_an):
    """``min_range_st`` moves the verdict; 0 never calls a voice monotone; the measure is judged
    to 0.1 semitone, as shown."""
    r = flat_an.voice.range_st
    shown = shown_st(r)
    at = analyze_signal(talk(flat()), SR, settings=Settings(min_range_st=shown), **ACOUSTIC)
    above = analyze_signal(talk(flat()), SR, settings=Settings(min_range_st=round(shown + 0.1, 1)), **ACOUSTIC)
    off = analyze_signal(talk(flat()), SR, settings=Settings(min_range_st=0.0), **ACOUSTIC)
    assert "monotone" not in {f.id for f in at.findings}  # shown == limit: not under it
    assert "monotone" in {f.id for f in above.findings}
    assert "monotone" not in {f.id for f in off.findings} and off.deductions.voice == 0


# --- loudness -----------------------------------------------------------------------------------


def test_sentence_ends_that_trail_off_are_found_with_their_times():
    """The last syllable of phrases 2 and 5 at −16 dB: those two ends trail off (found at their
    last syllable, 16 dB ± 3 down) and no other; without a script every run's end is judged."""
    phrases = lively(6, 8, seed=4)
    gains = [[1.0] * 8 for _ in phrases]
    for i in (1, 4):
        gains[i][-1] = 10 ** (-16 / 20)
    an = analyze_signal(talk(phrases, gains=gains), SR, **ACOUSTIC)
    v = an.voice
    assert len(v.ends) >= 5  # the last run's end is the recording's: judged unless cut off
    trailing = v.trailing
    assert len(trailing) == 2, [(e.end_s, e.drop_db) for e in v.ends]
    runs = an.segmentation.runs
    for e, i in zip(trailing, (1, 4)):
        assert abs(e.end_s - runs[i, 1]) < 0.05
        assert 13.0 <= e.drop_db <= 19.0  # ±3 dB: the syllables differ a little by their tone
    assert all(e.drop_db < 6 for e in v.ends if not e.trailing)
    f = next(f for f in an.findings if f.id == "trailing_off")
    assert f.guidance == "audible_ends" and f.severity == "warning"  # 2 of 6 > a quarter
    assert len(f.evidence["spans"]) == 2


def test_with_a_script_the_trailing_sentence_is_quoted():
    """With a script the sentence ends are the script's: the trailing one is named by its last words."""
    phrases = lively(3, 8, seed=5)
    gains = [[1.0] * 8 for _ in phrases]
    gains[1][-1] = 10 ** (-16 / 20)
    script = "我们先看退休手续。然后再办社保卡吧。最后问问养老金。"
    an = analyze_signal(talk(phrases, gains=gains), SR, script=script, **ACOUSTIC)
    texts = [e.text for e in an.voice.trailing]
    assert texts == ["…再办社保卡吧"], [(e.text, round(e.drop_db, 1)) for e in an.voice.ends]
    report = to_dict(an, lang="zh")
    f = next(f for f in report["findings"] if f["id"] == "trailing_off")
    assert "“…再办社保卡吧”" in f["message"] and f["start_s"] is not None


def test_a_voice_fading_across_the_recording_is_noted():
    """Over 40 s, phrases 12 dB quieter at the end than at the start: ``level_falls`` (a warning
    from 12 dB); at an even level it is not, and under 30 s of speech it is not judged."""
    phrases = lively(18, 8, seed=6)
    fade = [[10 ** (-12 * i / (len(phrases) - 1) / 20)] * 8 for i in range(len(phrases))]
    faded = analyze_signal(talk(phrases, gains=fade), SR, **ACOUSTIC)
    even = analyze_signal(talk(phrases), SR, **ACOUSTIC)
    assert faded.segmentation.span_s > 30
    assert faded.voice.level_change_db < -7
    assert "level_falls" in {f.id for f in faded.findings}
    assert abs(even.voice.level_change_db) < 1.5 and "level_falls" not in {f.id for f in even.findings}
    short = analyze_signal(talk(phrases[:6], gains=fade[:6]), SR, **ACOUSTIC)
    assert short.voice.level_thirds_db is None


# --- report, renderers, check -------------------------------------------------------------------


def test_the_report_carries_the_voice_and_validates(flat_an):
    jsonschema = pytest.importorskip("jsonschema")
    report = json.loads(json.dumps(to_dict(flat_an, lang="en")))
    jsonschema.validate(report, SCHEMA)
    v = report["voice"]
    assert v["pitch"]["judged"] and v["pitch"]["range_st"] == pytest.approx(flat_an.voice.range_st, abs=1e-3)
    assert len(v["phrases"]) == len(flat_an.segmentation.runs)
    assert report["settings"]["min_range_st"] == Settings().min_range_st
    assert report["score_deductions"]["voice"] == flat_an.deductions.voice
    contour = v["contour"]["st"]
    assert any(x is not None for x in contour) and any(x is None for x in contour)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_format_shows_the_voice(flat_an, lang):
    """Text, Markdown and HTML show the pitch range and the flat stretch; the HTML draws the
    contour, the phrase levels and the loudness bars on the timeline, and its score names the voice's points."""
    from speechcoach.locales import strings

    L = strings(lang)["labels"]
    report = to_dict(flat_an, lang=lang)
    for fmt in ("text", "md", "html"):
        out = render(report, fmt, **({"audio_src": "x.wav"} if fmt == "html" else {}))
        assert L["voice"] in out and L["pitch_range"] in out and L["flat_stretches"] in out, fmt
    html = render(report, "html", audio_src="x.wav")
    assert '<svg class="chart voice"' in html and 'class="contour"' in html and 'class="plevel"' in html and 'class="lbar"' in html
    assert strings(lang)["report"]["deduction_voice"].format(n=report["score_deductions"]["voice"]) in html


def test_trailing_marks_are_drawn_and_play_from_before_the_end():
    phrases = lively(4, 8, seed=7)
    gains = [[1.0] * 8 for _ in phrases]
    gains[2][-1] = 10 ** (-16 / 20)
    an = analyze_signal(talk(phrases, gains=gains), SR, **ACOUSTIC)
    html = render(to_dict(an, lang="en"), "html", audio_src="x.wav")
    e = an.voice.trailing[0]
    assert html.count('<g class="trail"') == 1
    assert f'data-t="{max(0.0, e.syllable_s - 1.0):.3f}"' in html


def test_check_judges_the_voice_on_what_it_shows(flat_an, lively_an):
    """``check`` fails a monotone voice (rule ``monotone``) and too many trailing ends
    (``trailing_off``); a report stored before the voice was measured passes both rules."""
    flat_r, live_r = to_dict(flat_an, lang="en"), to_dict(lively_an, lang="en")
    assert "monotone" in judge(flat_r).failed_rules and "monotone" not in judge(live_r).failed_rules
    assert "pitch range" in judge(live_r).summary
    r = copy.deepcopy(live_r)
    ends = r["voice"]["ends"]
    for e in ends[: len(ends) // 2]:
        e["trailing"] = True
    j = judge(r)
    assert "trailing_off" in j.failed_rules and any("trailing off" in x for x in j.reasons)
    r["settings"]["max_trailing_share"] = 0.5
    assert "trailing_off" not in judge(r).failed_rules  # half of them: not over a half
    old = copy.deepcopy(flat_r)
    del old["voice"]
    assert not {"monotone", "trailing_off"} & set(judge(old).failed_rules)


def test_rubric_voice_keys(tmp_path):
    """``[voice]`` keys are read from a rubric and checked against their ranges."""
    from speechcoach.errors import RubricError

    rubric = tmp_path / "r.toml"
    rubric.write_text("[voice]\nmin_range_st = 3.5\ntrail_drop_db = 12\nmax_trailing_share = 0.5\n", encoding="utf-8")
    s = load_rubric(rubric)
    assert (s.min_range_st, s.trail_drop_db, s.max_trailing_share) == (3.5, 12.0, 0.5)
    rubric.write_text("[voice]\nmax_trailing_share = 1.5\n", encoding="utf-8")
    with pytest.raises(RubricError, match=r"\[voice\] max_trailing_share must be between 0 and 1"):
        load_rubric(rubric)
    example = load_rubric(REPO / "examples" / "rubric.toml")
    assert (example.min_range_st, example.trail_drop_db, example.max_trailing_share) == (
        Settings().min_range_st, Settings().trail_drop_db, Settings().max_trailing_share)


def test_an_older_trainer_catalogue_without_the_voice_items_still_works(tmp_path, flat_an):
    """A trainer's catalogue exported before the voice items keeps working: the voice findings
    point to the shipped wording of ``intonation`` and ``audible_ends``."""
    import re

    from speechcoach.guidance import SHIPPED

    text = (SHIPPED / "catalogue.toml").read_text(encoding="utf-8")
    older = re.split(r"\n\[intonation\]\n", text)[0]
    (tmp_path / "catalogue.toml").write_text(older, encoding="utf-8")
    settings = Settings(guidance=str(tmp_path))
    report = to_dict(analyze_signal(talk(flat()), SR, settings=settings, **ACOUSTIC), lang="en")
    assert report["guidance"]["intonation"]["title"] == "A lively, natural intonation"
