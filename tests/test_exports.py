"""Praat TextGrid and Audacity label exports, and the CLI options that write them."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from speechcoach.render.exports import audacity_labels, character_intervals, speech_intervals, textgrid
from speechcoach.analysis.metrics import shown_s

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "mid_phrase_pension"
TOL = 1e-3


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """The report of one sample with its script (analysed once for the module)."""
    from speechcoach.analysis.pipeline import analyze_file, read_script
    from speechcoach.render.report import to_dict
    from speechcoach.settings import Settings

    an = analyze_file(SAMPLE.with_suffix(".wav"), script=read_script(SAMPLE.with_suffix(".txt")), settings=Settings())
    return json.loads(json.dumps(to_dict(an, lang="zh")))  # exactly what a JSON reader would see


@pytest.fixture()
def tg_path(report, tmp_path) -> Path:
    p = tmp_path / "r.TextGrid"
    p.write_text(textgrid(report), encoding="utf-8")
    return p


def test_speech_tier_covers_the_recording(report) -> None:
    iv = speech_intervals(report)
    assert iv[0][0] == 0.0
    assert iv[-1][1] == pytest.approx(report["input"]["duration_s"])
    for (a0, b0, _), (a1, _, _) in zip(iv, iv[1:]):
        assert b0 == a1
    assert iv[0][2] == "silence" and iv[-1][2] == "silence"
    pauses = [(a, b) for a, b, lab in iv if lab.startswith("pause")]
    assert pauses == [(p["start_s"], p["end_s"]) for p in report["pauses"]]


def test_textgrid_reads_back_with_tgt(report, tg_path) -> None:
    tgt = pytest.importorskip("tgt")
    tg = tgt.io.read_textgrid(str(tg_path), include_empty_intervals=True)
    names = [t.name for t in tg.tiers]
    assert names[:2] == ["speech", "nuclei"]
    speech = tg.get_tier_by_name("speech")
    assert float(speech.start_time) == 0
    assert float(speech.end_time) == pytest.approx(report["input"]["duration_s"], abs=TOL)
    got = [(float(i.start_time), float(i.end_time)) for i in speech.intervals if i.text.startswith("pause")]
    want = [(p["start_s"], p["end_s"]) for p in report["pauses"]]
    assert len(got) == len(want) > 0
    for (a, b), (c, d) in zip(got, want):
        assert a == pytest.approx(c, abs=TOL) and b == pytest.approx(d, abs=TOL)
    assert [i.text for i in speech.intervals][0] == "silence"
    nuclei = tg.get_tier_by_name("nuclei")
    assert [round(float(p.time), 3) for p in nuclei.points] == sorted(set(report["nuclei_s"]))
    if report.get("alignment", {}).get("chars"):
        chars = tg.get_tier_by_name("characters")
        assert "".join(i.text for i in chars.intervals) == "".join(c["char"] for c in report["alignment"]["chars"])


def test_textgrid_reads_back_with_praat(report, tg_path) -> None:
    parselmouth = pytest.importorskip("parselmouth")
    from parselmouth.praat import call

    tg = parselmouth.read(str(tg_path))
    assert isinstance(tg, parselmouth.TextGrid)
    n_tiers = call(tg, "Get number of tiers")
    assert n_tiers == (3 if report.get("alignment", {}).get("chars") else 2)
    assert call(tg, "Get tier name", 1) == "speech"
    assert call(tg, "Is interval tier", 1) == 1 and call(tg, "Is interval tier", 2) == 0
    pauses = []
    for i in range(1, call(tg, "Get number of intervals", 1) + 1):
        if call(tg, "Get label of interval", 1, i).startswith("pause"):
            pauses.append((call(tg, "Get start time of interval", 1, i), call(tg, "Get end time of interval", 1, i)))
    want = [(p["start_s"], p["end_s"]) for p in report["pauses"]]
    assert len(pauses) == len(want)
    for (a, b), (c, d) in zip(pauses, want):
        assert abs(a - c) <= TOL and abs(b - d) <= TOL
    assert call(tg, "Get number of points", 2) == len(set(report["nuclei_s"]))


def test_characters_tier_only_with_aligned_characters(report) -> None:
    r = copy.deepcopy(report)
    r.pop("alignment", None)
    assert '"characters"' not in textgrid(r)
    r["alignment"] = {"chars": [{"char": '"引"', "start_s": 1.0, "end_s": 1.2}, {"char": "号", "start_s": 1.1, "end_s": 1.5}]}
    text = textgrid(r)
    assert 'name = "characters"' in text and 'text = """引"""' in text  # Praat doubles quotes
    iv = character_intervals(r["alignment"]["chars"], 3.0)
    assert iv == [(0.0, 1.0, ""), (1.0, 1.2, '"引"'), (1.2, 1.5, "号"), (1.5, 3.0, "")]


def test_speech_tier_without_pauses_or_leading_silence() -> None:
    r = {"input": {"duration_s": 5.0}, "speech": {"start_s": 0.0, "end_s": 5.0}, "pauses": [], "nuclei_s": []}
    assert speech_intervals(r) == [(0.0, 5.0, "speech")]
    assert "points: size = 0" in textgrid(r)


def test_audacity_labels(report) -> None:
    text = audacity_labels(report)
    lines = text.splitlines()
    assert text.endswith("\n")
    starts = []
    for ln in lines:
        fields = ln.split("\t")
        assert len(fields) == 3, ln
        a, b = float(fields[0]), float(fields[1])
        assert 0 <= a <= b and fields[2].strip()
        starts.append(a)
    assert starts == sorted(starts)
    pause_lines = [ln for ln in lines if ln.split("\t")[2].startswith("停顿")]
    assert len(pause_lines) == len(report["pauses"])
    first = report["pauses"][0]
    assert f"{first['start_s']:.6f}\t{first['end_s']:.6f}\t停顿 {shown_s(first['duration_s']):.1f} 秒" in text  # as every report shows it
    timed = [f for f in report["findings"] if (f.get("evidence") or {}).get("spans")]
    for f in timed:
        assert any(f["message"] in ln for ln in lines)


def test_audacity_labels_english_and_one_line(report) -> None:
    r = copy.deepcopy(report)
    r["lang"] = "en"
    r["findings"] = [{"id": "x", "severity": "warning", "message": "two\tlines\nhere", "evidence": {"spans": [[1, 2]]}, "start_s": 1}]
    lines = audacity_labels(r).splitlines()
    assert any(ln.split("\t")[2].startswith("pause ") for ln in lines)
    assert "1.000000\t2.000000\t[warning] two lines here" in lines


def test_cli_writes_html_markdown_and_exports(tmp_path) -> None:
    from typer.testing import CliRunner

    from speechcoach.app.cli import app

    wav, txt = SAMPLE.with_suffix(".wav"), SAMPLE.with_suffix(".txt")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["analyze", str(wav), "-s", str(txt), "-o", str(out / "r.html"), "--embed-audio", "--lang", "en",
         "--textgrid", str(out / "r.TextGrid"), "--labels", str(out / "r.txt")],
    )
    assert res.exit_code == 0, res.output
    doc = (out / "r.html").read_text(encoding="utf-8")
    assert 'src="data:audio/wav;base64,' in doc and '<html lang="en">' in doc
    assert (out / "r.TextGrid").read_text(encoding="utf-8").startswith('File type = "ooTextFile"')
    assert re.search(r"^\d+\.\d{6}\t\d+\.\d{6}\tpause ", (out / "r.txt").read_text(encoding="utf-8"), re.M)
    res = CliRunner().invoke(app, ["analyze", str(wav), "-o", str(out / "r.md")])
    assert res.exit_code == 0, res.output
    assert (out / "r.md").read_text(encoding="utf-8").startswith("# 讲解练习反馈报告")
    res = CliRunner().invoke(app, ["analyze", str(wav), "-f", "html", "-o", str(out / "x.htm")])
    assert res.exit_code == 0
    assert 'src="data:audio/mpeg;base64,' in (out / "x.htm").read_text(encoding="utf-8")  # by default: inside, compressed
    res = CliRunner().invoke(app, ["analyze", str(wav), "-f", "html", "--link-audio", "-o", str(out / "y.htm")])
    assert res.exit_code == 0
    rel = re.search(r'<audio id="player"[^>]* src="([^"]+)"', (out / "y.htm").read_text(encoding="utf-8")).group(1)
    assert (out / rel).resolve() == wav.resolve()
