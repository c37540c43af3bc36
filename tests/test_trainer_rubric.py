"""A trainer's own rubric (target 150, band 130–170, pauses over 2.5 s too long): every place a
report, the batch summaries and ``check`` show the limits agrees with it, and the training
material's "about 120 characters a minute" quoted by the pace guidance is not mistaken for it."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from speechcoach.app.batch import run_batch
from speechcoach.app.cli import app
from speechcoach.locales import strings
from speechcoach.render.html import render_html
from speechcoach.render.index import histogram
from speechcoach.render.markdown import render_markdown
from speechcoach.render.text import render_text
from speechcoach.settings import MATERIAL_TARGET_CPM, Settings

from .conftest import SAMPLES

runner = CliRunner()
CENTRE = Settings(target_cpm=150.0, band_lo_cpm=130.0, band_hi_cpm=170.0, max_pause_s=2.5)
RUBRIC = "[rate]\ntarget_cpm = 150\nband_cpm = [130, 170]\n\n[pauses]\nmax_pause_s = 2.5\n"


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    """``on_target_retirement`` judged by the material's rubric and by the centre's, zh and en."""
    from speechcoach.analysis.pipeline import analyze_file, read_script
    from speechcoach.render.report import to_dict

    script = read_script(SAMPLES / "on_target_retirement.txt")
    out = {}
    for name, settings in (("material", Settings()), ("centre", CENTRE)):
        an = analyze_file(SAMPLES / "on_target_retirement.wav", script=script, settings=settings)
        for lang in ("zh", "en"):
            out[f"{name}.{lang}"] = to_dict(an, lang=lang, created="2026-03-05T09:07:00+08:00")
    return out


def _pace_card(page: str) -> str:
    m = re.search(r'<article class="gcard" id="g-pace">.*?</article>', page, re.S)
    assert m, "no pace guidance card"
    return m.group(0)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_trainers_target_is_stated_beside_the_materials_figure(reports, lang):
    """The pace item quotes the material (about 120); judged against 150, every report format
    says so beside it, with the band, once; the material's own rubric adds nothing."""
    rep = reports[f"centre.{lang}"]
    assert "120" in rep["guidance"]["pace"]["title"]  # the citation stays as the material says it
    note = strings(lang)["report"]["target_note"]
    card = _pace_card(render_html(rep, audio_src="x.wav"))
    assert card.count('class="target-note"') == 1
    shown = re.search(r'<p class="target-note">(.*?)</p>', card).group(1)
    assert "150" in shown and "130–170" in shown and "120" in shown
    text = render_text(rep)
    assert text.count(note.split("{")[0]) == 1 and "150" in text.split(note.split("{")[0])[1].splitlines()[0]
    md = render_markdown(rep)
    assert sum(line.startswith("> ") and "150" in line and "130–170" in line for line in md.splitlines()) == 1

    plain = reports[f"material.{lang}"]
    assert plain["settings"]["target_cpm"] == MATERIAL_TARGET_CPM
    assert "target-note\">" not in render_html(plain, audio_src="x.wav")
    assert note.split("{")[0] not in render_text(plain) and note.split("{")[0] not in render_markdown(plain)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_standards_applied_name_the_long_pause_limit(reports, lang):
    limit = strings(lang)["report"]["settings_pause_limit"]
    for name, shown in (("centre", "2.5"), ("material", "3.0")):
        rep = reports[f"{name}.{lang}"]
        expected = limit.format(max_pause=shown)
        footer = re.search(r"<footer>.*?</footer>", render_html(rep, audio_src="x.wav"), re.S).group(0)
        assert expected in footer
        assert expected in render_markdown(rep).split("---")[-1]


def test_histogram_tick_labels_do_not_print_over_the_band_edges():
    """A 130–170 band among rates from 80 to 680: the thinned ticks (80, 130, 180, …) used to put
    180 a few pixels from the band's 170, printing "170180"."""
    svg = histogram([81.0, 121.0, 148.0, 213.0, 685.0], (130, 170), 150, labels=strings("zh")["batch"])
    ticks = sorted(float(x) for x, _ in re.findall(r'<text x="([\d.]+)" y="\d+" font-size="11" text-anchor="middle">(\d+)</text>', svg))
    labels = re.findall(r'font-size="11" text-anchor="middle">(\d+)</text>', svg)
    assert "130" in labels and "170" in labels
    assert min(b - a for a, b in zip(ticks, ticks[1:])) >= 24


def tick_labels(svg: str) -> list[str]:
    """The histogram's x-axis labels, left to right."""
    return re.findall(r'y="\d+" font-size="11" text-anchor="middle">([\d.]+)</text>', svg)


def test_histogram_ticks_are_regular():
    """The tester's case: 70, 100, 140, 160, 190, 220… (bar edges thinned, the band's edges
    forced in). Now the ticks are even, every 10, 20, 50… cpm, the band's edges among them when
    a spacing puts them on the grid, else added beside the regular ones."""
    rates = [68.0, 92.0, 104.0, 118.0, 121.0, 126.0, 137.0, 152.0, 171.0, 188.0, 213.0, 246.0, 335.0, 395.0]
    ticks = [float(t) for t in tick_labels(histogram(rates, (100, 140), 120, labels=strings("zh")["batch"]))]
    assert {100.0, 140.0} <= set(ticks)
    assert {b - a for a, b in zip(ticks, ticks[1:])} == {20.0}  # exact: whole cpm
    narrow = [float(t) for t in tick_labels(histogram([81.0, 119.0, 213.0], (100, 140), 120, labels=strings("zh")["batch"]))]
    assert {b - a for a, b in zip(narrow, narrow[1:])} == {20.0} and {100.0, 140.0} <= set(narrow)  # exact
    # band edges off any grid: regular ticks plus the edges, none closer than 24 px (checked above)
    odd = [float(t) for t in tick_labels(histogram([81.0, 121.0, 148.0, 213.0, 685.0], (130, 170), 150, labels=strings("zh")["batch"]))]
    regular = [t for t in odd if t not in (130.0, 170.0)]
    assert {130.0, 170.0} <= set(odd) and all(t % 50 == 0 for t in regular)  # exact: whole cpm
    assert {b - a for a, b in zip(regular, regular[1:])} <= {50.0, 100.0}  # 150 leaves room for 130 and 170


@pytest.fixture(scope="module")
def centre_batch(tmp_path_factory) -> tuple[Path, list[dict[str, str]], dict[str, Any]]:
    """Two trainees' recordings through ``batch`` with the centre's rubric, in Chinese."""
    root = tmp_path_factory.mktemp("centre")
    for trainee, names in (("张伟", ("on_target_retirement", "fast_remote_care")), ("李娜", ("mid_phrase_pension",))):
        (root / "cohort" / trainee).mkdir(parents=True)
        for name in names:
            for ext in ("wav", "txt"):
                shutil.copy(SAMPLES / f"{name}.{ext}", root / "cohort" / trainee / f"{name}.{ext}")
    out = root / "out"
    res = run_batch([root / "cohort"], out, settings=CENTRE, jobs=1)
    assert res.exit_code == 0
    with open(out / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return out, rows, json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_csv_has_the_longest_pause_the_verdict_of_the_rubric_and_why(centre_batch):
    """A spreadsheet user sees what the long-pause limit judged, whether each recording passed
    and why not, in the batch's language (reasons joined by "；"), and where its report is."""
    out, rows, summary = centre_batch
    by = {Path(r["file"]).stem: r for r in rows}
    mid = by["mid_phrase_pension"]
    assert mid["check"] == "fail"
    assert mid["check_reasons"] == "；".join(next(r for r in summary["recordings"] if r["file"] == mid["file"])["check_reasons"])
    assert "；" in mid["check_reasons"] and "130–170" in mid["check_reasons"]  # rate and mid-phrase
    for r in rows:
        assert (out / r["report_html"]).is_file()
        report = json.loads((out / r["report_html"]).with_suffix(".json").read_text(encoding="utf-8"))
        if not report["pauses"]:
            assert r["longest_pause_s"] == ""  # no pause: an empty cell, not 0.0
            continue
        longest = max(p["duration_s"] for p in report["pauses"])
        assert abs(float(r["longest_pause_s"]) - longest) <= 0.05 + 1e-9  # shown to 0.1 s, half up
        assert re.fullmatch(r"\d+\.\d", r["longest_pause_s"]) and re.fullmatch(r"\d+\.\d\d", r["duration_s"])  # fixed decimals


def test_index_names_the_pause_limit_and_shows_why_a_recording_failed(centre_batch):
    out, rows, _ = centre_batch
    page = (out / "index.html").read_text(encoding="utf-8")
    meta = re.search(r'<p class="meta">(.*?)</p>', page).group(1)
    assert "150" in meta and "130–170" in meta and "停顿上限 2.5 秒" in meta
    for r in rows:
        for reason in filter(None, r["check_reasons"].split("；")):
            assert f"<span class=note>{reason}</span>" in page  # on the page, not only on hover


def test_check_joins_chinese_reasons_with_a_chinese_semicolon_and_ends_with_a_tally(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(RUBRIC, encoding="utf-8")
    wav = SAMPLES / "mid_phrase_pension.wav"
    res = runner.invoke(app, ["check", str(wav), "--rubric", str(rubric), "--junit", str(tmp_path / "c.xml")])
    assert res.exit_code == 1, res.output
    line = res.stdout.strip()
    assert line.startswith(f"FAIL {wav}: ") and "；" in line and "; " not in line
    assert res.stderr.strip().splitlines()[-1] == f"speechcoach：考核：共 1 段录音：通过 0，未通过 1，错误 0；{tmp_path / 'c.xml'}"
