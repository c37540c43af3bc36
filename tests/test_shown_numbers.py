"""The numbers a trainee sees: one rounding rule for rates, verdicts on the shown value, a
monotone score, pace without long pauses, measured drift figures, guessed pauses not gated.

Every analysis here is real (sample recordings or signals built from them); nothing is mocked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from speechcoach.app.check import judge
from speechcoach.app.cli import app
from speechcoach.analysis.metrics import PACE_PAUSE_CAP_S, pace, pace_cut, shown_cpm, shown_cv, shown_limit, shown_s
from speechcoach.analysis.pipeline import analyze_file, analyze_signal
from speechcoach.render import render
from speechcoach.render.report import to_dict
from speechcoach.app.workers import row_from_report
from speechcoach.settings import Settings

from .conftest import CORPUS, REPO, SAMPLES

runner = CliRunner()
CARD = SAMPLES / "no_pauses_card_loss"
ESPEAK = ["--rubric", str(SAMPLES / "rubric.toml")]
"""The samples' rubric: the defaults with the monotone rule off (espeak-ng's Mandarin is monotone,
``samples/rubric.toml``): the numbers here are the rate's and the pauses'."""
QUIET_VOICE = {"settings": Settings(min_range_st=0.0)}
"""The same for an analysis in process."""


def _script(path) -> str:
    return path.with_suffix(".txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def card_report() -> dict:
    """``no_pauses_card_loss`` with its script: its rate is stored as 179.5 cpm, a tie."""
    return to_dict(analyze_file(CARD.with_suffix(".wav"), script=_script(CARD)), lang="zh")


# --- 1. one rounding rule -------------------------------------------------------------------
@pytest.mark.parametrize(
    "cpm,shown",
    [(118.5, 119), (179.5, 180), (179.549, 180), (179.44, 179), (140.4, 140), (140.45, 140), (140.46, 141), (99.5, 100), (0.0, 0)],
)
def test_shown_cpm_rounds_the_reported_value_half_up(cpm, shown):
    assert shown_cpm(cpm) == shown  # exact: integers


def test_shown_cpm_is_the_same_from_the_exact_and_the_stored_value():
    rng = np.random.default_rng(7)
    for x in rng.uniform(0, 400, 2000):
        assert shown_cpm(x) == shown_cpm(round(x, 1))  # exact: integers


def test_a_tie_is_shown_alike_everywhere(card_report):
    rep = card_report
    assert rep["rate"]["cpm"] == pytest.approx(179.5, abs=1e-9)  # the case the rule is about
    text = render(rep, "text")
    assert re.search(r"语速：180 字/分钟", text)
    finding = next(f for f in rep["findings"] if f["id"] == "rate_fast")
    assert "每分钟 180 字" in finding["message"]
    assert "180 字/分钟" in render(rep, "md")
    assert '<div class="big">180<' in render(rep, "html")
    j = judge(rep)
    assert "180" in j.reasons[0] and "179" not in j.reasons[0]
    en = to_dict(analyze_file(CARD.with_suffix(".wav"), script=_script(CARD)), lang="en")
    assert judge(en).reasons[0].startswith("rate 180 cpm")


def test_batch_index_shows_the_same_rate(tmp_path):
    d = tmp_path / "in" / "ann"
    d.mkdir(parents=True)
    shutil.copy(CARD.with_suffix(".wav"), d / "card.wav")
    shutil.copy(CARD.with_suffix(".txt"), d / "card.txt")
    res = runner.invoke(app, ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--jobs", "1", "--lang", "en"])
    assert res.exit_code == 0, res.output
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'data-v="179.5">180</td>' in index  # the stored value and the shown one
    import csv

    with open(tmp_path / "out" / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["cpm"], row["cpm_shown"], row["verdict"]) == ("179.5", "180", "fast")  # stored, shown, judged on the shown


def _bars(svg: str) -> dict[str, tuple[str, int]]:
    """The histogram's bars: the shown rates each holds → (colour, count)."""
    return {m[1]: (m[0], int(m[2])) for m in re.findall(r'fill="(#[0-9a-f]+)"><title>([^:<]+): (\d+)</title>', svg)}


GREEN, AMBER, RED = "#2da44e", "#bf8700", "#cf222e"
REAL = Path(os.environ.get("SPEECHCOACH_CORPUS") or CORPUS)


def test_batch_histogram_bins_the_shown_rate_and_colours_the_verdict():
    """A bar holds one verdict: 140.4 (shown 140, on target in 100–140) is in the green 130–140
    bar, 140.5 (shown 141, fast) in a red 141–150 bar, 99.5 (shown 100) on target, 99.4 slow."""
    from speechcoach.locales import strings
    from speechcoach.analysis.metrics import verdict
    from speechcoach.render.index import histogram

    values = [140.4, 140.5, 99.5, 99.4, 150.4, 150.5, 120.0, 129.9]
    band = (100.0, 140.0)
    svg = histogram(values, band, 120, labels=strings("en")["batch"], verdicts=[verdict(v, band) for v in values])
    assert _bars(svg) == {
        "130–140": (GREEN, 2),  # 140.4 → 140 and 129.9 → 130
        "141–150": (RED, 2),  # 140.5 → 141 and 150.4 → 150
        "151–160": (RED, 1),
        "100–109": (GREEN, 1),
        "90–99": (AMBER, 1),
        "120–129": (GREEN, 1),
    }
    # ticks at the band's edges
    assert '>100</text>' in svg and '>140</text>' in svg
    # a band whose width is not a multiple of 10: its last bar is narrower and takes its top edge
    svg = histogram([145.4, 145.6, 139.6], (100.0, 145.0), 120, labels=strings("en")["batch"])
    assert _bars(svg) == {"140–145": (GREEN, 2), "146–155": (RED, 1)}


@pytest.mark.skipif(not (REAL / "cosyvoice_pr1212_wzy_read_poet_27s.wav").is_file(), reason="the real corpus is not here")
def test_batch_histogram_of_a_real_clip_stored_above_the_band_edge(tmp_path):
    """The QA case: a real clip stored as 140.4 cpm, shown 140, on target: its bar is green."""
    name = "cosyvoice_pr1212_wzy_read_poet_27s"
    d = tmp_path / "in" / "carol"
    d.mkdir(parents=True)
    shutil.copy(REAL / f"{name}.wav", d / f"{name}.wav")
    script = next(ln.split("\t")[6] for ln in (REAL / "manifest.tsv").read_text(encoding="utf-8").splitlines() if ln.split("\t")[0] == name)
    (d / f"{name}.txt").write_text(script + "\n", encoding="utf-8")
    res = runner.invoke(app, ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--jobs", "1", "--lang", "en"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    (row,) = summary["recordings"]
    if shown_cpm(row["cpm"]) != 140 or row["cpm"] == 140.0:
        pytest.skip(f"the clip is now measured at {row['cpm']} cpm, not the stored-above-the-edge case")
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert row["verdict"] == "on_target"
    assert _bars(index) == {"130–140": (GREEN, 1)}


def test_practice_page_rounds_the_stored_value_the_same_way():
    """app.js's ``fmt0`` (``Math.round``) on the stored 0.1-cpm value gives ``shown_cpm``."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed")
    js = (REPO / "speechcoach" / "app" / "web" / "app.js").read_text(encoding="utf-8")
    fmt0 = re.search(r"function fmt0\(x\) \{.*?\n\}", js, re.DOTALL)
    assert fmt0, "app.js has no fmt0"
    values = [k / 10 for k in range(950, 1900)]  # every stored value from 95.0 to 189.9
    out = subprocess.run(
        [node, "-e", fmt0.group(0) + f"\nconsole.log(JSON.stringify({json.dumps(values)}.map(fmt0)));"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout
    got = [int(v) for v in re.findall(r"\d+", out)]
    assert got == [shown_cpm(v) for v in values]  # exact: integers


# --- 2. the verdict is judged on the number shown --------------------------------------------
REIMB = SAMPLES / "on_target_reimbursement"


def test_a_rate_shown_on_the_band_edge_is_inside_it():
    """on_target_reimbursement measures 121.4 cpm, shown 121: with the band 100–121 it is on target everywhere."""
    from speechcoach.settings import Settings

    settings = Settings(band_lo_cpm=100, band_hi_cpm=121)
    rep = to_dict(analyze_file(REIMB.with_suffix(".wav"), script=_script(REIMB), settings=settings), lang="en")
    assert 121.0 < rep["rate"]["cpm"] < 121.5  # tolerance: the case is a stored rate just above the edge
    assert rep["rate"]["verdict"] == "on_target"
    ids = {f["id"] for f in rep["findings"]}
    assert "rate_on_target" in ids and "rate_fast" not in ids
    assert "rate" not in judge(rep).failed_rules
    assert "121 chars/min — on target" in render(rep, "text")
    gauge = re.search(r'<svg class="chart gauge".*?</svg>', render(rep, "html"), re.DOTALL).group(0)
    value = re.search(r'<text class="value"[^>]*fill="([^"]+)"', gauge).group(1)
    assert value == "#1f7a3f"  # the number and marker in the moderate zone's ink
    res = runner.invoke(app, ["check", str(REIMB.with_suffix(".wav")), "--band", "100,121", "--lang", "en", *ESPEAK])
    assert res.exit_code == 0 and res.stdout.startswith("PASS ") and "121 cpm" in res.stdout, res.output


def test_a_rate_shown_on_the_lower_edge_is_inside_it(card_report):
    """no_pauses_card_loss is stored 179.5, shown 180: inside a band starting at 180."""
    from speechcoach.analysis.metrics import verdict

    assert card_report["rate"]["cpm"] == pytest.approx(179.5, abs=1e-9)
    assert verdict(card_report["rate"]["cpm"], (180, 240)) == "on_target"
    assert verdict(179.44, (180, 240)) == "slow"  # shown 179


def test_poet_clip_at_140_4_is_moderate(corpus):
    """The real clip the tester reported: 140.4 cpm with its script was '140 — too fast'."""
    import csv

    rows = {r["id"]: r for r in csv.DictReader((corpus / "manifest.tsv").open(encoding="utf-8"), delimiter="\t")}
    row = rows.get("cosyvoice_pr1212_wzy_read_poet_27s")
    if row is None:
        pytest.skip("clip not in this corpus")
    rep = to_dict(analyze_file(corpus / row["file"], script=row["transcript"]), lang="zh")
    if shown_cpm(rep["rate"]["cpm"]) != 140 or rep["rate"]["cpm"] <= 140:
        pytest.skip(f"this corpus copy measures {rep['rate']['cpm']} cpm, not the edge case")
    assert rep["rate"]["verdict"] == "on_target"
    assert "rate" not in judge(rep).failed_rules
    assert any(f["id"] == "rate_on_target" for f in rep["findings"])


# --- 3. the score keeps falling as the rate leaves the band ---------------------------------
def _faster(stem: str, factor: float) -> dict:
    """A sample played ``factor`` times faster (the same samples read at a higher rate)."""
    y, sr = sf.read(str((SAMPLES / stem).with_suffix(".wav")), dtype="float32")
    return to_dict(analyze_signal(y, int(sr * factor), script=_script(SAMPLES / stem)))


def test_score_falls_with_the_rate_outside_the_band():
    rows = [_faster("on_target_retirement", k) for k in (1.0, 1.5, 1.8, 2.2, 2.5)]
    rates = [r["rate"]["cpm"] for r in rows]
    scores = [r["score"] for r in rows]
    assert rates == sorted(rates) and rates[-1] > 290  # tolerance: only the order matters
    assert all(a >= b for a, b in pairwise(scores)), list(zip(rates, scores))
    assert scores[-1] < scores[2] < scores[1]  # strictly lower while above 0


def test_a_far_faster_delivery_never_outscores_a_less_fast_one():
    """The tester's case: 680 cpm without pauses scored 47, more than 295 cpm with pauses (43)."""
    very = _faster("no_pauses_card_loss", 3.8)
    fast = _faster("on_target_retirement", 2.5)
    assert very["rate"]["cpm"] > 650 and 280 < fast["rate"]["cpm"] < 310  # tolerance: the cases as reported
    assert very["score"] == 0  # exact: 545 cpm outside the band costs over 100 points
    assert very["score"] < fast["score"]


def test_score_is_full_inside_the_band_and_falls_one_point_per_2_cpm():
    from speechcoach.analysis.metrics import Pace, Rate, Window, deductions
    from speechcoach.settings import Settings

    even = Pace(8.0, (Window(0, 8, 120.0), Window(2, 10, 120.0)), 0.0, 0.0)
    s = Settings()

    def mark(cpm: float) -> int:
        return deductions(Rate(cpm, cpm, "on_target"), even, settings=s, n_long_pauses=0, n_mid_phrase=0, n_long_runs=0, no_pauses=False).score

    assert mark(100) == mark(140.4) == 100  # exact: 140.4 is shown 140, inside the band
    assert mark(160) == 90 and mark(80) == 90  # exact: 20 cpm outside
    assert mark(141) == mark(142) == 99 and mark(143) == 98 and mark(99) == 99  # exact: a point per started 2 cpm
    marks = [mark(c) for c in range(140, 400, 10)]
    assert all(a > b for a, b in pairwise(marks) if a > 0)  # strictly falling until 0
    assert marks[-1] == 0  # exact: clipped


def test_the_deductions_add_up_to_the_score():
    """A report can say why a mark is what it is: whole points per rule, 100 minus their sum."""
    from speechcoach.analysis.metrics import Pace, Rate, Window, deductions
    from speechcoach.settings import Settings

    s = Settings()
    uneven = Pace(8.0, (Window(0, 8, 90.0), Window(2, 10, 130.0)), 0.30, 0.0)
    lost = deductions(Rate(92.0, 110.0, "slow"), uneven, settings=s, n_long_pauses=1, n_mid_phrase=0, n_long_runs=0, no_pauses=False)
    assert (lost.rate, lost.pauses) == (4, 4)  # exact: 8 cpm under the band, one long pause
    assert isinstance(lost.pace, int) and 0 < lost.pace <= 25
    assert lost.voice == 0 and lost.score == 100 - lost.rate - lost.pauses - lost.pace  # exact
    for stem in ("on_target_retirement", "fast_remote_care", "uneven_transfer"):
        rep = to_dict(analyze_file((SAMPLES / stem).with_suffix(".wav"), script=_script(SAMPLES / stem)), lang="en")
        d = rep["score_deductions"]
        assert rep["score"] == max(0, 100 - d["rate"] - d["pauses"] - d["pace"] - d["voice"])  # exact


def test_a_rate_outside_the_band_never_scores_100():
    """The tester's case: 119 cpm against a 100–118 band was 'too fast' yet scored 100 (half a
    point rounded away)."""
    res = runner.invoke(
        app,
        ["analyze", str(RETIRE.with_suffix(".wav")), "-s", str(RETIRE.with_suffix(".txt")), "--target", "110", "--band", "100,118", "--lang", "en", "-f", "json", *ESPEAK],
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert shown_cpm(rep["rate"]["cpm"]) == 119 and rep["rate"]["verdict"] == "fast"  # exact: the case
    assert rep["score"] == 99  # exact: one started 2 cpm step outside, nothing else lost
    plain = to_dict(analyze_file(RETIRE.with_suffix(".wav"), script=_script(RETIRE), **QUIET_VOICE), lang="en")
    assert plain["score"] == 100  # exact: the same talk inside the default band


# --- 4. a long pause is reported once, not again as uneven pace ------------------------------
RETIRE = SAMPLES / "on_target_retirement"


def _with_silence(stem: Path, at_s: float, length_s: float) -> tuple[np.ndarray, int]:
    """The sample with ``length_s`` of −70 dBFS noise inserted at ``at_s``."""
    y, sr = sf.read(str(stem.with_suffix(".wav")), dtype="float32")
    k = int(at_s * sr)
    quiet = np.random.default_rng(70).normal(0.0, 10 ** (-70 / 20), int(length_s * sr)).astype(np.float32)
    return np.concatenate([y[:k], quiet, y[k:]]), sr


def test_a_long_pause_does_not_make_the_pace_uneven():
    plain = to_dict(analyze_file(RETIRE.with_suffix(".wav"), script=_script(RETIRE), **QUIET_VOICE), lang="en")
    y, sr = _with_silence(RETIRE, 7.0, 4.0)
    rep = to_dict(analyze_signal(y, sr, script=_script(RETIRE), **QUIET_VOICE), lang="en")
    ids = [f["id"] for f in rep["findings"]]
    assert "long_pauses" in ids
    assert not {"pace_uneven", "pace_speeds_up", "pace_slows_down"} & set(ids), ids
    assert judge(rep).failed_rules == ("long_pause",)
    # the same talking: no more uneven than without the inserted silence (it fell in a 0.8 s
    # pause, which now counts as PACE_PAUSE_CAP_S = 1 s), tolerance 0.01
    assert rep["pace"]["cv"] <= plain["pace"]["cv"] + 0.01
    assert rep["pace"]["slowest"]["cpm"] > 90  # tolerance: was 38, the pause counted as slow speech
    longest = max(rep["pauses"], key=lambda p: p["duration_s"])
    across = [w for w in rep["pace"]["series"] if w["start_s"] < longest["start_s"] and w["end_s"] > longest["end_s"]]
    assert across, "a window spans the pause"
    for w in across:  # it holds 8 s of speaking time, so it spans what the pause lasts beyond the cap more (±0.02 s rounding)
        assert w["end_s"] - w["start_s"] == pytest.approx(rep["pace"]["window_s"] + longest["duration_s"] - PACE_PAUSE_CAP_S, abs=0.02)


def _with_background(stem: Path, at_s: float, a_s: float, b_s: float, length_s: float) -> tuple[np.ndarray, int]:
    """The sample with ``length_s`` of its own background (the stretch ``a_s``–``b_s``, repeated)
    inserted at ``at_s``: a pause made longer, as the speaker would."""
    y, sr = sf.read(str(stem.with_suffix(".wav")), dtype="float32")
    bg = y[int(a_s * sr) : int(b_s * sr)]
    n = int(length_s * sr)
    k = int(at_s * sr)
    return np.concatenate([y[:k], np.tile(bg, n // len(bg) + 1)[:n], y[k:]]), sr


def test_the_pace_does_not_jump_when_a_pause_crosses_the_long_pause_limit():
    """The sentence-end pause at 0:25.9 made 2.9 s and 3.1 s long (the limit is 3.0 s): the
    pause finding changes, the pace does not (each pause counts at most PACE_PAUSE_CAP_S)."""
    reps = []
    for extra in (2.1, 2.3):
        y, sr = _with_background(RETIRE, 26.2, 25.95, 26.6, extra)
        reps.append(to_dict(analyze_signal(y, sr, script=_script(RETIRE)), lang="en"))
    below, above = reps
    assert max(p["duration_s"] for p in below["pauses"]) < 3.0 < max(p["duration_s"] for p in above["pauses"])
    assert "long_pauses" in [f["id"] for f in above["findings"]]
    a, b = below["pace"], above["pace"]
    assert b["cv"] == pytest.approx(a["cv"], abs=0.005)  # was 0.11 vs 0.12
    for key in ("first_third_cpm", "last_third_cpm"):  # was 116/101 vs 110/133
        assert b[key] == pytest.approx(a[key], abs=2.0)
    assert b["fastest"]["cpm"] == pytest.approx(a["fastest"]["cpm"], abs=2.0)  # was 128 vs 143
    drift = {"pace_speeds_up", "pace_slows_down", "pace_uneven"}
    assert not drift & {f["id"] for f in above["findings"]} and not drift & {f["id"] for f in below["findings"]}


def test_pace_cut_keeps_the_cap_of_every_pause():
    cut = pace_cut([(1.0, 1.6), (5.0, 7.5), (10.0, 11.0)], cap_s=1.0)
    assert cut.tolist() == [[6.0, 7.5]]  # exact: the excess of the 2.5 s pause; pauses up to the cap stay whole
    assert pace_cut([]).shape == (0, 2)
    # continuous in a pause's length: in steady 120 cpm speech a gap of 2.9 s and one of 3.1 s
    # both count 1 s, so the windows' rates are the same (tolerance 1e-9, float sums)
    rates = []
    for gap in (2.9, 3.1):
        t = np.concatenate([np.arange(0, 20, 0.5), 20 + gap + np.arange(0, 20, 0.5)])
        p = pace(t, 0.0, 40 + gap, cut=pace_cut([(20.0, 20.0 + gap)]))
        rates.append([w.cpm for w in p.series])
    assert rates[0] == pytest.approx(rates[1], abs=1e-9)


def test_pace_leaves_the_cut_pauses_out_of_its_time_axis():
    t = np.concatenate([np.arange(0, 20, 0.5), np.arange(26, 46, 0.5)])  # 120 cpm, a 6 s gap at 20–26
    whole = pace(t, 0.0, 46.0)
    cut = pace(t, 0.0, 46.0, cut=[(20.0, 26.0)])
    assert whole.cv > 0.2  # the gap reads as slow windows
    assert cut.cv < 0.05 and all(w.cpm == pytest.approx(120, abs=8) for w in cut.series)  # ± one event per window
    assert cut.series[0].start_s == 0.0 and cut.series[-1].end_s == pytest.approx(46.0, abs=1e-9)
    assert not any(20.0 < w.start_s < 26.0 or 20.0 < w.end_s < 26.0 for w in cut.series)  # no edge inside the cut


# --- 5. drift figures are measured, and a trend is shown only where drift is judged -----------
UNEVEN = SAMPLES / "uneven_transfer"


def test_drift_quotes_the_measured_thirds(expected):
    rep = to_dict(analyze_file(UNEVEN.with_suffix(".wav"), script=_script(UNEVEN)), lang="en")
    pace = rep["pace"]
    drift = next(f for f in rep["findings"] if f["id"] == "pace_speeds_up")
    first, last = shown_cpm(pace["first_third_cpm"]), shown_cpm(pace["last_third_cpm"])
    assert f"about {first} chars/min in the first third" in drift["message"] and f"about {last} in the last third" in drift["message"]
    assert "every minute" not in drift["message"]
    # measured, so inside what the windows measured (the fitted line's ends were 61 and 183,
    # below the slowest window, 75), and close to the halves the generator laid out (±10%)
    assert pace["slowest"]["cpm"] <= pace["first_third_cpm"] and pace["last_third_cpm"] <= pace["fastest"]["cpm"]
    assert pace["first_third_cpm"] == pytest.approx(expected["uneven_transfer"]["first_half_cpm"], rel=0.10)
    assert pace["last_third_cpm"] == pytest.approx(expected["uneven_transfer"]["second_half_cpm"], rel=0.10)


@pytest.mark.parametrize("with_script", [True, False])
def test_a_short_recording_shows_no_trend(tmp_path, with_script):
    from speechcoach.locales import strings

    y, sr = sf.read(str(UNEVEN.with_suffix(".wav")), dtype="float32")
    clip = tmp_path / "clip.wav"
    sf.write(clip, y[int(12 * sr) : int(28 * sr)], sr)  # about 15 s of speech, several pace windows
    rep = to_dict(analyze_file(clip, script=_script(UNEVEN) if with_script else None), lang="en")
    assert rep["speech"]["span_s"] < 30 and len(rep["pace"]["series"]) > 2  # tolerance: only the case matters
    assert not {"pace_speeds_up", "pace_slows_down"} & {f["id"] for f in rep["findings"]}
    label = strings("en")["labels"]["trend"]
    for fmt in ("text", "md", "html"):
        out = render(rep, fmt)
        assert label not in out and "chars/min per minute" not in out, fmt
    assert strings("en")["labels"]["pace_cv"] in render(rep, "text")  # the rest of the pace section stays


def test_a_long_pause_adds_no_speech_to_the_drift_rule():
    """About 18 s of speech with a 14 s pause in it: a 32 s span, but the trend is fitted over
    the pace's speaking time (the pause counts 1 s), under 30 s, so no trend is shown."""
    fast = SAMPLES / "fast_remote_care"
    y, sr = sf.read(str(fast.with_suffix(".wav")), dtype="float32")
    bg = y[int(4.6 * sr) : int(5.15 * sr)]  # its own background, between two words
    k = int(7.35 * sr)
    y = np.concatenate([y[:k], np.tile(bg, 40)[: 14 * sr], y[k:]])
    rep = to_dict(analyze_signal(y, sr, script=_script(fast)), lang="en")
    assert rep["speech"]["span_s"] > 30 > rep["pace"]["speaking_s"]  # the case the tester found: 32 s vs ~19 s
    longest = max(p["duration_s"] for p in rep["pauses"])
    # the speaking time is the span less the long pause's excess over the 1 s cap (±0.05 s: the
    # other pauses are under the cap, rounding to 0.01 s)
    assert rep["pace"]["speaking_s"] == pytest.approx(rep["speech"]["span_s"] - (longest - PACE_PAUSE_CAP_S), abs=0.05)
    assert len(rep["pace"]["series"]) > 2 and not {"pace_speeds_up", "pace_slows_down"} & {f["id"] for f in rep["findings"]}
    for fmt in ("text", "md", "html"):
        assert "chars/min per minute" not in render(rep, fmt), fmt


# --- 6. without a script, mid-phrase pauses are a guess: noted, not gated --------------------
def _guessed(rep: dict, k: int = 3) -> dict:
    """``rep`` (placed without a script) as a placer that guesses mid-phrase would have made it:
    its first ``k`` pauses guessed mid-phrase. The analysis no longer makes such guesses (none
    reached a precision of 0.8, docs/pauses.md), but a report that holds them must still read
    them as guesses and gate nothing on them."""
    assert rep["pause_method"] == "acoustic" and len(rep["pauses"]) >= k
    out = {**rep, "pauses": [dict(p) for p in rep["pauses"]]}
    for p in out["pauses"][:k]:
        p["placement"] = "mid_phrase"
    return out


def test_guessed_mid_phrase_pauses_do_not_fail_check(tmp_path):
    shutil.copy(RETIRE.with_suffix(".wav"), tmp_path / "talk.wav")  # no script beside it
    plain = to_dict(analyze_file(tmp_path / "talk.wav", **QUIET_VOICE), lang="en")
    assert not any(p["placement"] == "mid_phrase" for p in plain["pauses"])  # the sound guesses none
    rep = _guessed(plain)
    assert rep["pause_method"] == "acoustic" and rep["characters"]["source"] == "estimate"
    guessed = [p for p in rep["pauses"] if p["placement"] == "mid_phrase"]
    assert len(guessed) > rep["settings"]["max_mid_phrase"]  # the case the tester found (3 > 2)
    ids = {f["id"]: f for f in rep["findings"]}
    assert "mid_phrase" not in ids
    assert "mid_phrase" not in judge(rep).failed_rules
    scripted = to_dict(analyze_file(RETIRE.with_suffix(".wav"), script=_script(RETIRE), **QUIET_VOICE), lang="en")
    assert not any(p["placement"] == "mid_phrase" for p in scripted["pauses"])
    assert rep["score"] == scripted["score"] == 100  # the guesses cost no points either (exact: integers)
    res = runner.invoke(app, ["check", str(tmp_path), "--lang", "en", *ESPEAK])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("PASS ") and res.stdout.rstrip().endswith("(no script: estimated)")
    zh = runner.invoke(app, ["check", str(tmp_path), *ESPEAK])
    assert zh.stdout.rstrip().endswith("（无讲稿，估计值）")


def test_scripted_mid_phrase_pauses_still_fail_check():
    stem = SAMPLES / "mid_phrase_pension"
    rep = to_dict(analyze_file(stem.with_suffix(".wav"), script=_script(stem)), lang="en")
    assert rep["pause_method"] == "script"
    j = judge(rep, lang="en")
    assert "mid_phrase" in j.failed_rules and "estimated" not in j.line()
    assert next(f for f in rep["findings"] if f["id"] == "mid_phrase")["severity"] == "problem"


def test_an_estimated_rate_failing_check_says_so(tmp_path):
    shutil.copy(SAMPLES / "fast_remote_care.wav", tmp_path / "fast.wav")
    res = runner.invoke(app, ["check", str(tmp_path / "fast.wav"), "--lang", "en"])
    assert res.exit_code == 1
    assert re.search(r"rate \d+ cpm above band 100–140 \(no script: estimated\)", res.stdout), res.stdout


def test_placements_guessed_from_the_sound_read_as_guesses(tmp_path):
    from speechcoach.render.exports import audacity_labels

    shutil.copy(RETIRE.with_suffix(".wav"), tmp_path / "talk.wav")  # no script: placed from the sound
    rep = _guessed(to_dict(analyze_file(tmp_path / "talk.wav"), lang="en"))
    assert rep["pause_method"] == "acoustic" and any(p["placement"] == "mid_phrase" for p in rep["pauses"])
    text = render(rep, "text")
    assert re.search(r"\d\.\d s  mid-phrase\?", text) and not re.search(r"\d\.\d s  mid-phrase$", text, re.M)
    assert "| mid-phrase? |" in render(rep, "md") and "| mid-phrase |" not in render(rep, "md")
    assert "mid-phrase?</td>" in render(rep, "html")
    assert "(mid-phrase?)" in audacity_labels(rep)
    assert "Pauses · mid-phrase?</li>" in render(rep, "html") and "Pauses · mid-phrase</li>" not in render(rep, "html")  # legend
    zh = _guessed(to_dict(analyze_file(tmp_path / "talk.wav"), lang="zh"))
    assert "| 短语中间（推测） |" in render(zh, "md") and "短语中间（推测）" in render(zh, "text")
    # inside a label the guess is worded without brackets in brackets: 停顿 0.3 秒（推测：短语中间）
    labels, page = audacity_labels(zh), render(zh, "html")
    assert re.search(r"停顿 \d\.\d 秒（推测：短语中间）", labels) and re.search(r"停顿 \d\.\d 秒（推测：短语中间）", page)
    assert "（推测））" not in labels + page and "停顿 · 短语中间（推测）</li>" in page
    mid = SAMPLES / "mid_phrase_pension"  # placed in the script: no mark
    placed = to_dict(analyze_file(mid.with_suffix(".wav"), script=_script(mid)), lang="en")
    assert any(p["placement"] == "mid_phrase" for p in placed["pauses"])
    assert "| mid-phrase |" in render(placed, "md") and "mid-phrase?" not in render(placed, "text") + render(placed, "html")
    assert "Pauses · mid-phrase</li>" in render(placed, "html")


def test_every_reason_resting_on_the_estimate_is_marked(tmp_path):
    """Without a script the pace is estimated too: its reason carries the marker, like the
    rate's; a long pause is measured, not estimated, and its reason does not."""
    shutil.copy(UNEVEN.with_suffix(".wav"), tmp_path / "uneven.wav")  # no script beside it
    y, sr = _with_silence(RETIRE, 7.0, 4.0)
    sf.write(tmp_path / "gap.wav", y, sr)
    res = runner.invoke(app, ["check", str(tmp_path), "--lang", "en", *ESPEAK])
    assert res.exit_code == 1, res.output
    lines = {Path(line.split(": ", 1)[0].split(" ", 1)[1]).name: line for line in res.stdout.splitlines()}
    assert re.search(r"pace variation \d\.\d\d above 0\.25 \(no script: estimated\)$", lines["uneven.wav"]), lines["uneven.wav"]
    gap = lines["gap.wav"]
    assert "pauses longer than 3.0 s: 1" in gap and "estimated" not in gap, gap
    zh = runner.invoke(app, ["check", str(tmp_path / "uneven.wav"), *ESPEAK])
    assert zh.stdout.rstrip().endswith("（无讲稿，估计值）"), zh.stdout


def test_a_batch_row_counts_the_mid_phrase_pauses_the_rule_counts(tmp_path):
    shutil.copy(RETIRE.with_suffix(".wav"), tmp_path / "talk.wav")  # no script: placements guessed
    rep = _guessed(to_dict(analyze_file(tmp_path / "talk.wav"), lang="en"))
    guessed = sum(p["placement"] == "mid_phrase" for p in rep["pauses"])
    assert rep["pause_method"] == "acoustic" and guessed > 0  # the case the tester found (3)
    row = row_from_report(rep)
    assert row["mid_phrase_pauses"] == judge(rep).numbers["mid_phrase"] == 0  # exact: counts
    mid = SAMPLES / "mid_phrase_pension"  # with its script the placements are in the text, and counted
    placed = to_dict(analyze_file(mid.with_suffix(".wav"), script=_script(mid)), lang="en")
    n = sum(p["placement"] == "mid_phrase" for p in placed["pauses"])
    assert n > 0 and row_from_report(placed)["mid_phrase_pauses"] == n  # exact: counts


# --- 7. pause lengths and the pace variation are judged on the values shown -----------------
@pytest.mark.parametrize("s,shown", [(3.04, 3.0), (3.049, 3.0), (3.05, 3.1), (3.0500001, 3.1), (2.25, 2.3), (0.0, 0.0)])
def test_shown_s_rounds_the_stored_length_half_up(s, shown):
    assert shown_s(s) == shown  # exact: both are the same decimal's nearest float


@pytest.mark.parametrize("cv,shown", [(0.364, 0.36), (0.3644, 0.36), (0.3649, 0.37), (0.365, 0.37), (0.125, 0.13), (0.0, 0.0)])
def test_shown_cv_rounds_the_stored_value_half_up(cv, shown):
    # from the stored value (3 decimals), like shown_cpm: 0.3649 is stored 0.365, shown 0.37
    assert shown_cv(cv) == shown  # exact, as above


def test_a_pause_shown_as_the_limit_is_not_over_it(tmp_path):
    """The sentence-end pause at 0:25.9 grown to ~3.04 s (shown 3.0 s) and ~3.06 s (shown 3.1 s):
    the first breaks nothing anywhere, the second is over the 3.0 s limit everywhere."""
    results = []
    for extra in (2.26, 2.28):
        y, sr = _with_background(RETIRE, 26.2, 25.95, 26.6, extra)
        wav = tmp_path / f"talk{extra}.wav"
        sf.write(wav, y, sr)
        shutil.copy(RETIRE.with_suffix(".txt"), wav.with_suffix(".txt"))
        rep = to_dict(analyze_file(wav, script=_script(RETIRE), **QUIET_VOICE), lang="en")
        longest = max(p["duration_s"] for p in rep["pauses"])
        res = runner.invoke(app, ["check", str(wav), "--lang", "en", *ESPEAK])
        results.append((rep, longest, res))
    (shown_at, l_at, res_at), (over, l_over, res_over) = results
    assert 3.0 < l_at < 3.05 <= l_over < 3.15  # the case: stored 3.04 and 3.06 (tolerance: only the sides of 3.05 matter)
    assert "long_pauses" not in {f["id"] for f in shown_at["findings"]} and shown_at["score"] == 100  # exact: integers
    assert res_at.exit_code == 0 and "(longest 3.0 s)" in res_at.stdout, res_at.stdout
    assert row_from_report(shown_at)["check"] == "pass" and row_from_report(shown_at)["longest_pause_s"] == 3.0  # exact: shown value
    f = next(f for f in over["findings"] if f["id"] == "long_pauses")
    assert "longer than 3.0 s (3.1 s," in f["message"] and over["score"] == 96  # exact: one long pause costs 4 points
    assert res_over.exit_code == 1 and "pauses longer than 3.0 s: 1 (longest 3.1 s" in res_over.stdout, res_over.stdout
    assert row_from_report(over)["longest_pause_s"] == 3.1  # exact: shown value
    for fmt in ("text", "md", "html"):  # the script marks show the length judged
        assert "3.1" in render(over, fmt) and "⏸3.0" not in render(over, "text"), fmt


def test_pace_variation_shown_as_the_limit_is_not_above_it(tmp_path):
    rep = to_dict(analyze_file(UNEVEN.with_suffix(".wav"), script=_script(UNEVEN)), lang="en")
    cv = rep["pace"]["cv"]
    limit = shown_cv(cv)
    assert cv > limit  # the case the tester found: stored 0.364, shown 0.36
    rubric = tmp_path / "r.toml"
    rubric.write_text(f"[pace]\nmax_cv = {limit}\n[voice]\nmin_range_st = 0\n", encoding="utf-8")
    res = runner.invoke(app, ["check", str(UNEVEN.with_suffix(".wav")), "--rubric", str(rubric), "--lang", "en"])
    assert res.exit_code == 0 and f"pace variation {limit:.2f}" in res.stdout, res.stdout
    tighter = round(limit - 0.01, 2)
    rubric.write_text(f"[pace]\nmax_cv = {tighter}\n[voice]\nmin_range_st = 0\n", encoding="utf-8")
    res = runner.invoke(app, ["check", str(UNEVEN.with_suffix(".wav")), "--rubric", str(rubric), "--lang", "en"])
    assert res.exit_code == 1 and f"pace variation {limit:.2f} above {tighter:.2f}" in res.stdout, res.stdout
    assert row_from_report(rep)["pace_cv"] == limit  # exact: the shown value
    uneven = next(f for f in rep["findings"] if f["id"] == "pace_uneven")
    assert f"variation {limit:.2f};" in uneven["message"]


# --- 8. limits are printed as given ----------------------------------------------------------
@pytest.mark.parametrize(
    "value,decimals,text",
    [(140.0, 0, "140"), (139.5, 0, "139.5"), (100.25, 0, "100.25"), (3.0, 1, "3.0"), (2.55, 1, "2.55"), (0.25, 2, "0.25"), (0.255, 2, "0.255")],
)
def test_shown_limit_never_rounds_a_limit(value, decimals, text):
    assert shown_limit(value, decimals) == text  # exact: strings


def test_a_fractional_band_edge_is_printed_as_given(tmp_path):
    fast = SAMPLES / "fast_remote_care"
    res = runner.invoke(app, ["check", str(fast.with_suffix(".wav")), "--band", "100,139.5", "--lang", "en"])
    assert res.exit_code == 1 and "above band 100–139.5" in res.stdout, res.stdout
    res = runner.invoke(
        app,
        ["analyze", str(RETIRE.with_suffix(".wav")), "-s", str(RETIRE.with_suffix(".txt")), "--band", "100.5,139.5", "--target", "119.5", "--lang", "en", "-f", "json"],
    )
    rep = json.loads(res.stdout)
    rate = next(f for f in rep["findings"] if f["id"].startswith("rate_"))
    assert "(100.5–139.5)" in rate["message"], rate["message"]
    assert "Target 119.5, Moderate band 100.5–139.5" in render(rep, "text")
    for fmt in ("md", "html"):
        out = render(rep, fmt)
        assert "100.5–139.5" in out and "119.5" in out and "100–140" not in out, fmt
    rubric = tmp_path / "r.toml"
    rubric.write_text("[pauses]\nmax_pause_s = 0.75\n[pace]\nmax_cv = 0.055\n", encoding="utf-8")
    res = runner.invoke(app, ["check", str(RETIRE.with_suffix(".wav")), "--rubric", str(rubric), "--lang", "en"])
    assert "pauses longer than 0.75 s:" in res.stdout and re.search(r"pace variation \d\.\d\d above 0\.055", res.stdout), res.stdout
