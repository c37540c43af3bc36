"""Wording of the reports as trainees read them: plurals, thresholds, no chart talk outside the
HTML page, no repeated times, no unexplained jargon, help texts."""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import pytest

from speechcoach.locales import LANGS, strings, template
from speechcoach.render.report import message

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"

PLURAL_OWNED_ELSEWHERE: set[tuple[str, str]] = set()
"""Messages another branch rewords (their plural forms come with that change)."""


def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


# --- 1. plurals -------------------------------------------------------------------------------
def test_no_placeholder_plurals_in_english():
    """``pause(s)``, ``stretch(es)``: every count agrees with its noun; ``Length (s)`` is a unit."""
    for section, table in strings("en").items():
        for key, text in table.items():
            if (section, key) in PLURAL_OWNED_ELSEWHERE or not isinstance(text, str):
                continue
            assert not re.search(r"\w\((s|es)\)", text), f"[{section}] {key}: {text}"


def test_singular_keys_pair_with_a_plural_and_take_the_same_values():
    for lang in LANGS:
        for section, table in strings(lang).items():
            for key, text in table.items():
                if key.endswith("_one"):
                    base = key[: -len("_one")]
                    assert base in table, f"[{section}] {key} without {base}"
                    assert fields(text) <= fields(table[base]), f"[{section}] {key}"
    assert not [k for t in strings("zh").values() for k in t if k.endswith("_one")]  # Chinese has no plural


@pytest.mark.parametrize(
    ("fid", "params", "one", "many"),
    [
        ("long_runs", dict(limit=25, longest=31, at="0:04.0"), "One stretch runs on", "2 stretches run on"),
        ("missed_breaks", dict(example="…了。 ⏸✗ 调…"), "One sentence end has no pause", "2 sentence ends have no pause"),
        ("long_pauses", dict(limit=3.0, longest=3.4, at="0:09.0"), "One pause lasts longer", "2 pauses last longer"),
        ("procedure_steps", dict(example="…"), "one step follows", "2 steps follow"),
        ("jargon_heard", dict(term="起付线", plain="自付部分", at="0:01.0"), "You used a policy term", "You used 2 policy terms"),
        ("jargon_script", dict(term="起付线", plain="自付部分"), "The script has a policy term", "The script has 2 policy terms"),
        ("passages_skipped", dict(example="第三步"), "You left out a passage", "You left out 2 passages"),
        ("passages_added", dict(example="第三步"), "You said a passage that is not", "You said 2 passages that are not"),
    ],
)
def test_counts_agree_with_their_nouns(fid, params, one, many):
    assert one in message(fid, dict(params, n=1), "en")
    assert many in message(fid, dict(params, n=2), "en")
    zh = strings("zh")["findings"]
    assert template(zh, fid, 1) == template(zh, fid, 2)  # one template for every count


@pytest.mark.parametrize("wid", ["asr_dropped", "asr_invented"])
def test_warning_counts_agree(wid):
    p = dict(at="0:03.0", asr=3, acoustic=12)
    assert "one stretch" in message(wid, dict(p, n=1), "en", "warnings")
    assert "that stretch is" in message(wid, dict(p, n=1), "en", "warnings")
    assert "2 stretches" in message(wid, dict(p, n=2), "en", "warnings")


def test_template_picks_the_singular_only_for_one():
    table = {"k": "{n} things", "k_one": "one thing"}
    assert template(table, "k", 1) == "one thing"
    assert template(table, "k", 0) == template(table, "k", 2) == template(table, "k", None) == "{n} things"
    assert template({"k": "{n} 个"}, "k", 1) == "{n} 个"


def test_check_lines_need_no_plural():
    """The gate's lines put counts after a colon (``pauses: 1``), never before a noun (``1 pauses``)."""
    T = strings("en")["check"]
    for key in ("summary", "long_pause", "mid_phrase"):
        assert not re.search(r"\{(n|pauses|mid)[^}]*\} (pause|mid)", T[key]), T[key]


# --- 2. thresholds in words match the rules ---------------------------------------------------
def test_threshold_wording_matches_the_rules():
    """A silence of exactly ``min_pause_s`` is a pause (segmentation splits at ``gap >= min``): "or
    more" / "达到", never "超过"/"以上"; a pause over ``max_pause_s`` and a run over
    ``max_run_chars`` are flagged only when strictly longer: "longer/more than" / "超过"; the band
    includes its edges ("inside" / "之内")."""
    zh, en = strings("zh"), strings("en")
    for text in (zh["findings"]["no_pauses"], zh["report"]["settings_value"]):
        assert "达到" in text and "超过" not in text and "以上" not in text, text
    for text in (en["findings"]["no_pauses"], en["report"]["settings_value"]):
        assert "or more" in text, text
    for key in ("long_pauses", "long_runs"):
        assert "超过" in zh["findings"][key]
        assert re.search(r"(longer|more) than", en["findings"][key]) and re.search(r"(longer|more) than", en["findings"][f"{key}_one"])
    assert "超过" in zh["check"]["long_pause"] and "longer than" in en["check"]["long_pause"]
    assert "超过" in zh["report"]["settings_pause_limit"] and "longer than" in en["report"]["settings_pause_limit"]
    assert "之内" in zh["findings"]["rate_on_target"] and "inside" in en["findings"]["rate_on_target"]



# --- reports of real samples ------------------------------------------------------------------
@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    """``{name.lang: report}`` of two samples with their scripts (and one without), each analysed once."""
    from speechcoach.analysis.pipeline import analyze_file, read_script
    from speechcoach.render.report import to_dict
    from speechcoach.settings import Settings

    out = {}
    for name, scripted in (("mid_phrase_pension", True), ("uneven_transfer", True), ("slow_unemployment", False)):
        script = read_script(SAMPLES / f"{name}.txt") if scripted else None
        an = analyze_file(SAMPLES / f"{name}.wav", script=script, settings=Settings())
        for lang in LANGS:
            out[f"{name}.{lang}"] = to_dict(an, lang=lang, created="2026-03-05T09:07:00+08:00")
    return out


CHART_WORDS = {
    "zh": ("颜色", "绿色", "虚线", "时间轴", "图表", "曲线", "着色"),
    "en": ("colour", "color", "green", "dashed", "timeline", "chart", "curve"),
}


@pytest.mark.parametrize("fmt", ["md", "text"])
def test_documents_without_charts_do_not_talk_about_them(reports, fmt):
    from speechcoach.render import render

    for key, r in reports.items():
        doc = render(r, fmt).lower()
        for word in CHART_WORDS[r["lang"]]:
            assert word not in doc, f"{key} {fmt}: {word!r}"
    md = render(reports["mid_phrase_pension.zh"], "md")
    assert strings("zh")["report"]["script_marks_md"] in md and "每 8 秒滑动窗口内的语速。" in md


# --- 4. a finding's time once ---------------------------------------------------------------------
def test_markdown_names_a_findings_time_once(reports):
    import copy

    from speechcoach.render import render

    r = copy.deepcopy(reports["mid_phrase_pension.zh"])
    base = {"severity": "warning", "guidance": "pauses", "evidence": {}}
    r["findings"] = [
        dict(base, id="long_runs", message="有 1 段话一口气讲了超过 25 个字（最长约 31 字，在 0:00.1 处）。", start_s=0.1),
        dict(base, id="pace_uneven", message="语速起伏较大：最快在 0:22.5–0:30.5。", start_s=22.5),
        dict(base, id="missed_breaks", message="有 1 处句末没有停顿（例如 …了。 ⏸✗ 调…）。", start_s=5.9),
    ]
    md = render(r, "md")
    found = "\n".join(ln for ln in md.splitlines() if re.match(r"\d+\. \*\*", ln))
    assert "0:00.1 处）。\\" in found and found.count("0:00.1") == 1
    assert found.count("0:22.5") == 1
    assert "调…）。（0:05.9）\\" in md  # a message without a time still gets it (in zh brackets)
    for key, rep in reports.items():  # the real reports: no line says the same time twice
        for line in render(rep, "md").splitlines():
            if re.match(r"\d+\. \*\*", line):
                times = re.findall(r"\d+:\d\d\.\d", line)
                assert len(times) == len(set(times)), f"{key}: {line}"


# --- 5. every text file ends with one newline ------------------------------------------------------
def test_files_written_end_with_a_newline(tmp_path):
    from typer.testing import CliRunner

    from speechcoach.app.cli import app

    wav, txt = SAMPLES / "mid_phrase_pension.wav", SAMPLES / "mid_phrase_pension.txt"
    runner = CliRunner()
    written = []
    for lang in LANGS:
        for suffix in ("txt", "md", "json", "html"):
            out = tmp_path / f"{lang}.{suffix}"
            extra = ["--textgrid", str(tmp_path / f"{lang}.TextGrid"), "--labels", str(tmp_path / f"{lang}.labels.txt")] if suffix == "md" else []
            res = runner.invoke(app, ["analyze", str(wav), "-s", str(txt), "--lang", lang, "-o", str(out), *extra])
            assert res.exit_code == 0, res.output
            written.append(out)
    written += [tmp_path / f"{lang}.{x}" for lang in LANGS for x in ("TextGrid", "labels.txt")]
    for path in written:
        data = path.read_bytes()
        assert data.endswith(b"\n") and not data.endswith(b"\n\n"), path.name


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory) -> Path:
    """A batch of one scripted recording, analysed in this process, English."""
    import shutil

    from speechcoach.app.batch import run_batch
    from speechcoach.settings import Settings

    src = tmp_path_factory.mktemp("cohort") / "amy"
    src.mkdir()
    for suffix in ("wav", "txt"):
        shutil.copy(SAMPLES / f"on_target_retirement.{suffix}", src / f"on_target_retirement.{suffix}")
    out = tmp_path_factory.mktemp("out")
    run_batch([src], out, settings=Settings(lang="en"), jobs=1)
    return out


def test_batch_files_end_with_a_newline(batch_out):
    files = [p for p in batch_out.rglob("*") if p.is_file() and p.suffix in (".json", ".csv", ".html", ".md", ".txt")]
    assert any(".speechcoach-state" in p.parts for p in files)  # the state files too
    for path in files:
        assert path.read_bytes().endswith(b"\n"), path


# --- 6. no jargon for trainees ---------------------------------------------------------------------
JARGON = ("变异系数", "dBFS", "信噪比", "削波", "coefficient of variation", "signal-to-noise", "full scale", " cv ")


def test_trainee_reports_explain_their_numbers(reports):
    from speechcoach.render import render

    for key, r in reports.items():
        assert "cv" in r["pace"]  # the JSON keeps its keys
        for fmt in ("text", "md", "html"):
            doc = render(r, fmt)
            for word in JARGON:
                assert word.lower() not in doc.lower(), f"{key} {fmt}: {word!r}"
    zh, en = reports["uneven_transfer.zh"], reports["uneven_transfer.en"]
    assert "语速变化幅度：" + f"{zh['pace']['cv']:.2f}（越小越均匀）" in render(zh, "md")
    assert f"Pace variation {en['pace']['cv']:.2f} (lower is steadier)" in render(en, "text")
    assert f"{en['pace']['cv']:.2f} (lower is steadier)" in render(en, "html")


@pytest.mark.parametrize("lang", LANGS)
def test_recording_warnings_say_what_their_decibels_mean(lang):
    texts = [
        message("low_level", {"level": -42.3}, lang, "warnings"),
        message("noisy", {"snr": 14.0}, lang, "warnings"),
        message("clipping", {"pct": 1.5}, lang, "warnings"),
    ]
    for text in texts:
        for word in JARGON:
            assert word.lower() not in text.lower(), text
    assert "-42" in texts[0] and ("0 分贝是录音能记下的最大音量" in texts[0] or "0 dB is the loudest" in texts[0])
    assert "14" in texts[1]


# --- 7. help texts -----------------------------------------------------------------------------------
def _help(*args: str) -> str:
    from typer.testing import CliRunner

    from speechcoach.app.cli import app

    res = CliRunner().invoke(app, [*args, "--help"])
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())  # unwrapped


def test_usage_lines_name_arguments_without_braces():
    for cmd, usage in (("analyze", "[OPTIONS] RECORDING"), ("check", "[OPTIONS] FILES..."), ("batch", "[OPTIONS] INPUTS..."),
                       ("record", "[OPTIONS] [OUT.wav]")):
        text = _help(cmd)
        assert f"{cmd} {usage}" in text, text[:120]
        assert "{" not in text.split("Options:")[0]


def test_help_says_what_each_command_does():
    assert "rubric" not in _help("demo")  # demo has no --rubric
    assert "folders (searched recursively)" in _help("check")
    assert "required, except with --list-devices" in _help("record")
    top = _help()
    for line in ("0 done", "1 check: some recording failed", "2 bad input", "3 internal error", "130 interrupted by Ctrl-C", "143 batch or check stopped by SIGTERM"):
        assert line in top, line
    assert "3 internal error" in _help("check") and "143 by SIGTERM" in _help("batch")
    assert "Ctrl-C (exit 130) or SIGTERM (143)" in _help("check")
    reference = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")  # the exit-code table moved from the README
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 130 |", "| 143 |"):
        assert code in reference


# --- 8. what the tool checked is not on the self-check list ------------------------------------------
def test_a_checked_item_is_not_left_to_the_trainee(reports, tmp_path):
    from speechcoach.analysis.pipeline import analyze_file
    from speechcoach.render.report import to_dict
    from speechcoach.settings import Settings

    an = analyze_file(SAMPLES / "on_target_reimbursement.wav", script="去外地看病，要先做异地就医备案。起付线以上的部分，医保按比例报销。",
                      settings=Settings())
    for lang in LANGS:
        r = to_dict(an, lang=lang)
        assert any(f["guidance"] == "plain_words" for f in r["findings"])  # a jargon finding, with its advice
        assert "plain_words" in r["guidance"]
        ids = [g["id"] for g in r["self_check"]]
        assert "plain_words" not in ids and {"posture", "expression", "aids"} <= set(ids)
        # a clean search of the script proves nothing beyond the short term list: still the trainee's
        assert "plain_words" in [g["id"] for g in reports[f"mid_phrase_pension.{lang}"]["self_check"]]
        # nothing searched (no script, no recogniser): the trainee's too
        assert "transcript" not in reports[f"slow_unemployment.{lang}"]  # the tests install no recogniser
        assert "plain_words" in [g["id"] for g in reports[f"slow_unemployment.{lang}"]["self_check"]]


# --- 9. the batch index's date -------------------------------------------------------------------------
def test_batch_index_dates_its_run_like_the_reports(batch_out):
    import json

    from speechcoach.render.index import render_index
    from speechcoach.render.words import Words

    summary = json.loads((batch_out / "summary.json").read_text(encoding="utf-8"))
    page = (batch_out / "index.html").read_text(encoding="utf-8")
    assert summary["created"] not in page and not re.search(r"\d{4}-\d\d-\d\dT\d\d:", page)
    assert f"Generated: {Words('en').date(summary['created'])} ·" in page
    summary["created"] = "2026-11-29T12:17:31+08:00"
    assert "生成时间：2026年11月29日 12:17 ·" in render_index(summary, lang="zh")
    assert "Generated: 29 November 2026, 12:17 ·" in render_index(summary, lang="en")


def test_batch_index_prints_band_edges_as_given(batch_out):
    import json

    from speechcoach.render.index import render_index

    summary = json.loads((batch_out / "summary.json").read_text(encoding="utf-8"))
    summary["settings"]["band_cpm"] = [100.0, 139.5]
    page = render_index(summary, lang="en")
    assert "100–139.5" in page and "100–140" not in page  # the header and the histogram legend


def test_times_round_up_into_the_next_minute():
    from speechcoach.locales import fmt_time

    assert [fmt_time(t) for t in (59.94, 59.96, 60.0, 6.05, 125.0)] == ["0:59.9", "1:00.0", "1:00.0", "0:06.1", "2:05.0"]
