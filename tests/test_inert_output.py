"""Inert output: what a script, a file name or a trainee's folder holds cannot run as HTML in a
Markdown report, as a formula in summary.csv, or as an escape sequence on a terminal.

Real recordings (the samples) under hostile names, through the real command line.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from speechcoach.app.batch import inert_cell
from speechcoach.app.cli import app
from speechcoach.render.words import visible

from .conftest import SAMPLES

runner = CliRunner()
SAMPLE = SAMPLES / "on_target_retirement"
XSS = "<img src=x onerror=alert(1)>"
CONTROLS = "\x1b[31m\x1b]0;owned\x07\x00\r\x9b2J\u202e\u2066"
"""An SGR colour, a title-setting OSC ended by BEL, NUL, a carriage return, the 8-bit CSI
(clear screen) and two bidirectional overrides."""


@pytest.fixture()
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """The on-target sample under a file name and with a script that carry HTML and controls."""
    folder = tmp_path / f"{XSS} & co"
    folder.mkdir()
    wav = folder / f"a\n\n{XSS}\x1b[2J.wav"  # a blank line would end a code span early
    shutil.copy(SAMPLE.with_suffix(".wav"), wav)
    script = tmp_path / "script.txt"
    text = SAMPLE.with_suffix(".txt").read_text(encoding="utf-8")
    script.write_text(f"{XSS}{text[:20]}{CONTROLS}&lt;script&gt;{text[20:]}\n*[x](javascript:alert(2))*", encoding="utf-8")
    return wav, script


def analyze(wav: Path, script: Path, *args: str):
    return runner.invoke(app, ["analyze", str(wav), "--script", str(script), "--count", "acoustic", *args])


def test_the_markdown_report_carries_no_html(hostile):
    wav, script = hostile
    res = analyze(wav, script, "-f", "md")
    assert res.exit_code == 0, res.output
    md = res.stdout
    assert "<" not in md, [ln for ln in md.splitlines() if "<" in ln]  # not even backslash-escaped: \< is HTML to Markdown.pl
    assert all(ln.startswith(">") or ">" not in ln for ln in md.splitlines())  # only block-quote marks
    assert "&lt;img src=x onerror=alert(1)&gt;" in md and "&amp;lt;script&amp;gt;" in md  # shown as typed
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", md)
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    assert not re.search(r"<(img|script|a)\b", html), html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the trainee still reads what the script says


def test_no_control_character_reaches_the_terminal(hostile, tmp_path):
    wav, script = hostile
    for args in ((), ("--lang", "en")):
        res = analyze(wav, script, *args)
        assert res.exit_code == 0, res.output
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", res.stdout), repr(res.stdout[:400])
        assert "onerror" in res.stdout  # the script is shown, only its controls are gone
    # the command line's own lines: an error naming the file, a check line, a batch error line
    missing = tmp_path / "gone\x1b[2J\r.wav"
    for cmd in (["analyze", str(missing)], ["check", str(missing)], ["batch", str(missing), "--out", str(tmp_path / "o")]):
        res = runner.invoke(app, [*cmd, "--lang", "en"])
        assert res.exit_code == 2, res.output
        assert "gone[2J" in res.output and not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", res.output), repr(res.output)
    res = runner.invoke(app, ["check", str(wav), "--script", str(script), "--count", "acoustic", "--lang", "en"])
    assert res.exit_code in (0, 1, 2) and not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", res.output), repr(res.output)
    assert len(res.stdout.splitlines()) == 1, res.stdout  # one line per recording, a newline in its name or not
    assert visible("x\x1b[1my\tz\n") == "x[1my\tz\n"


def test_summary_csv_runs_no_formula_and_keeps_numbers_numeric(tmp_path):
    names = ["=1+2", "@SUM(1+1)", "-2+3", "+1", "plain"]
    cohort = tmp_path / "cohort"
    for name in names:
        d = cohort / name
        d.mkdir(parents=True)
        shutil.copy(SAMPLE.with_suffix(".wav"), d / "=2+5.wav")
        shutil.copy(SAMPLE.with_suffix(".txt"), d / "=2+5.txt")
    out = tmp_path / "out"
    res = runner.invoke(app, ["batch", str(cohort), "--out", str(out), "--jobs", "1", "--count", "acoustic", "--lang", "en"])
    assert res.exit_code == 0, res.output
    text = (out / "summary.csv").read_bytes().decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["trainee"] for r in table) == sorted("'" + n if n[0] in "=+-@" else n for n in names)
    for r in table:
        for column, cell in r.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
        for column in ("duration_s", "characters", "cpm", "cpm_shown", "pauses", "longest_pause_s", "score"):
            float(r[column])  # numbers stay numbers: no quote in front
    # summary.json keeps the names as they are: it is data, not a spreadsheet
    raw = {r["trainee"] for r in json.loads((out / "summary.json").read_text(encoding="utf-8"))["recordings"]}
    assert raw == set(names)
    assert inert_cell(-2.5) == -2.5 and inert_cell(-3) == -3 and inert_cell("-2") == "'-2" and inert_cell("") == ""
    assert inert_cell("\tx") == "'\tx" and inert_cell("\r=1") == "'\r=1"
