"""``speechcoach check``: PASS/FAIL lines against the rubric, exit codes 0/1/2, JUnit XML."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

from typer.testing import CliRunner

from speechcoach.app.check import judge, junit_xml, error_judgement
from speechcoach.app.cli import app

from .conftest import NOT_TEXT, SAMPLES

runner = CliRunner()
GOOD = SAMPLES / "on_target_retirement.wav"
FAST = SAMPLES / "fast_remote_care.wav"


def test_passing_sample_exits_0():
    res = runner.invoke(app, ["check", str(GOOD), "--lang", "en"])
    assert res.exit_code == 0, res.output
    line = res.stdout.strip()
    assert line.startswith(f"PASS {GOOD}: ") and "cpm" in line and "\n" not in line


def test_fast_sample_fails_the_rate_exits_1(tmp_path):
    junit = tmp_path / "ci" / "check.xml"
    res = runner.invoke(app, ["check", str(GOOD), str(FAST), "--lang", "en", "--junit", str(junit)])
    assert res.exit_code == 1, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[0].startswith("FAIL ") and "fast_remote_care.wav" in lines[0]
    assert "above band 100–140" in lines[0]
    assert lines[1].startswith("PASS ")
    root = ET.parse(junit).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 2
    fail = [c for c in cases if c.find("failure") is not None]
    assert len(fail) == 1 and fail[0].get("name").endswith("fast_remote_care.wav")
    assert "above band" in fail[0].find("failure").get("message")
    assert root.find("testsuite").get("failures") == "1"


def test_rubric_widens_the_band(tmp_path):
    rubric = tmp_path / "loose.toml"
    rubric.write_text("[rate]\ntarget_cpm = 160\nband_cpm = [100, 230]\n", encoding="utf-8")
    res = runner.invoke(app, ["check", str(FAST), "--rubric", str(rubric)])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("PASS ")


def test_bad_file_is_error_exit_2_and_junit_parses(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all", encoding="utf-8")
    junit = tmp_path / "j.xml"
    res = runner.invoke(app, ["check", str(GOOD), str(bad), str(tmp_path / "missing.wav"), "--junit", str(junit)])
    assert res.exit_code == 2
    errors = [ln for ln in res.stdout.splitlines() if ln.startswith("ERROR ")]
    assert len(errors) == 2 and any("bad.wav: 不是音频文件" in e for e in errors)  # in zh, the default language
    root = ET.parse(junit).getroot()
    assert root.find("testsuite").get("errors") == "2"
    assert len(root.findall(".//testcase/error")) == 2


def test_shared_script_option():
    res = runner.invoke(app, ["check", str(GOOD), "--script", str(SAMPLES / "on_target_retirement.txt"), "--lang", "en"])
    assert res.exit_code == 0
    res = runner.invoke(app, ["check", str(GOOD), "--script", str(SAMPLES / "nope.txt")])
    assert res.exit_code == 2 and res.stderr == f"speechcoach：错误：{SAMPLES / 'nope.txt'}：讲稿文件不存在\n"
    res = runner.invoke(app, ["check", str(GOOD), "--script", str(SAMPLES / "nope.txt"), "--lang", "en"])
    assert res.exit_code == 2 and res.stderr == f"speechcoach: error: {SAMPLES / 'nope.txt'}: script file not found\n"


REPORT = {
    "lang": "en",
    "input": {"path": "x.wav"},
    "settings": {"band_cpm": [100, 140], "target_cpm": 120, "max_pause_s": 3.0, "max_mid_phrase": 2, "max_cv": 0.25},
    "rate": {"cpm": 120.0},
    "pace": {"cv": 0.1},
    "pauses": [{"start_s": 1.0, "duration_s": 0.5, "placement": "clause"}],
}


def test_judge_each_rule():
    assert judge(REPORT).passed
    r = copy.deepcopy(REPORT)
    r["rate"]["cpm"] = 90.0
    r["pace"]["cv"] = 0.4
    r["pauses"] += [{"start_s": 5.0, "duration_s": 3.6, "placement": "mid_phrase"}] + [
        {"start_s": 9.0 + i, "duration_s": 0.4, "placement": "mid_phrase"} for i in range(2)
    ]
    j = judge(r)
    assert not j.passed and j.failed_rules == ("rate", "long_pause", "mid_phrase", "pace_cv")
    assert j.line().startswith("FAIL x.wav: rate 90 cpm below band 100–140; pauses longer than 3.0 s: 1 (longest 3.6 s at 0:05.0)")
    assert judge(r, lang="zh").reasons[0].startswith("语速每分钟 90 字")
    # rate exactly on the band edge passes; the limits come from the report's own settings
    r = copy.deepcopy(REPORT)
    r["rate"]["cpm"] = 140.0
    assert judge(r).passed
    r["settings"]["band_cpm"] = [100, 130]
    assert judge(r).failed_rules == ("rate",)


def test_junit_xml_structure():
    xml = junit_xml([judge(REPORT), error_judgement("bad.wav", "file is empty (0 bytes)")])
    root = ET.fromstring(xml)
    suite = root.find("testsuite")
    assert suite.get("tests") == "2" and suite.get("errors") == "1" and suite.get("failures") == "0"


def test_a_script_that_cannot_be_what_was_said_is_an_error_not_a_fail(tmp_path):
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("今天天气很好", encoding="utf-8")  # 6 characters for a ~130-syllable recording
    res = runner.invoke(app, ["check", str(SAMPLES / "on_target_retirement.wav"), "-s", str(wrong), "--lang", "en"])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("ERROR ") and "script" in res.output



def test_guessed_mid_phrase_pauses_are_not_judged_in_the_summary(tmp_path):
    """Without a script the pauses are placed from the sound alone: the summary must not say
    "mid-phrase: 0" while the report lists possible mid-phrase pauses."""
    import shutil

    wav = tmp_path / "mid_phrase_pension.wav"
    shutil.copy(SAMPLES / "mid_phrase_pension.wav", wav)  # without its .txt: no script
    for lang, said, wrong in (
        ("en", r"mid-phrase: not judged \(no script; \d+ possible\)", "mid-phrase: 0"),
        ("zh", r"短语中间停顿不作评判（无讲稿；可能 \d+ 次）", "短语中间停顿 0 次"),
    ):
        res = runner.invoke(app, ["check", str(wav), "--lang", lang])
        assert res.exit_code == 0, res.output
        assert re.search(said, res.stdout) and wrong not in res.stdout, res.stdout
    with_script = runner.invoke(app, ["check", str(SAMPLES / "on_target_retirement.wav"), "--lang", "en"])
    assert "mid-phrase: 0," in with_script.stdout, with_script.stdout  # placed in the text: counted


def test_one_pace_window_is_not_judged_in_the_summary(tmp_path):
    import soundfile as sf

    y, sr = sf.read(SAMPLES / "on_target_retirement.wav")
    short = tmp_path / "short.wav"
    sf.write(short, y[: int(6.5 * sr)], sr)  # one 8 s pace window
    for lang, said, wrong in (("en", "pace variation: not judged (too short)", "pace variation 0.00"), ("zh", "语速变化幅度不作评判（时间太短）", "语速变化幅度 0.00")):
        res = runner.invoke(app, ["check", str(short), "--lang", lang])
        assert res.exit_code == 0, res.output
        assert said in res.stdout and wrong not in res.stdout, res.stdout


def test_one_pace_window_breaks_no_pace_rule():
    from speechcoach.analysis.metrics import several_windows

    res = runner.invoke(app, ["analyze", str(GOOD), "--format", "json", "--lang", "en"])
    import json

    rep = json.loads(res.stdout)
    rep["pace"]["series"] = rep["pace"]["series"][:1]
    rep["pace"]["cv"] = 0.9  # whatever the cv says, one window has no spread to judge
    assert not several_windows(rep["pace"]["series"])
    j = judge(rep)
    assert "pace_cv" not in j.failed_rules and "not judged (too short)" in j.summary


def test_check_and_batch_word_a_bad_recording_alike(tmp_path):
    """``check`` and ``batch`` map a failure to the same line (``workers.analyse_report``): the
    recording's own problem without its name, a script's problem naming the script."""
    import json
    import shutil

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "noise.wav").write_text("not audio at all", encoding="utf-8")
    shutil.copy(GOOD, folder / "talk.wav")
    script = folder / "talk.txt"
    script.write_bytes(NOT_TEXT)  # not a script
    for lang in ("en", "zh"):
        res = runner.invoke(app, ["check", str(folder), "--lang", lang])
        assert res.exit_code == 2, res.output
        said = dict(line.removeprefix("ERROR ").split(": ", 1) for line in res.stdout.splitlines())
        out = tmp_path / f"out-{lang}"
        res = runner.invoke(app, ["batch", str(folder), "-o", str(out), "--lang", lang, "-j", "1"])
        assert res.exit_code == 2, res.output
        rows = json.loads((out / "summary.json").read_text(encoding="utf-8"))["recordings"]
        assert {r["file"]: r["error"] for r in rows} == said
        assert str(script) in said[str(folder / "talk.wav")], said


def test_failure_of_sorts_bad_input_from_internal_errors():
    from speechcoach.errors import AudioError, ScriptError
    from speechcoach.app.workers import failure_of

    own = failure_of(AudioError("a.wav", "file is empty (0 bytes)", code="empty_file"), "a.wav", "en")
    assert (own.error, own.code, own.cacheable, own.exit_code) == ("file is empty (0 bytes)", "empty_file", True, 2)
    other = failure_of(ScriptError("a.txt", "script has no characters to speak"), "a.wav", "en")
    assert other.error == other.message == "a.txt: script has no characters to speak" and other.exit_code == 2
    bug = failure_of(ValueError("bad\nvalue"), "a.wav", "zh")
    assert (bug.error, bug.code, bug.cacheable, bug.exit_code) == ("internal error: ValueError: bad value", "internal_error", False, 3)
    assert bug.message == "内部错误：ValueError: bad value"
    oom = failure_of(MemoryError(), "a.wav", "en")
    assert (oom.error, oom.code, oom.exit_code) == ("out of memory while analysing", "out_of_memory", 3)


def test_without_a_script_the_suffix_names_what_counted():
    """``(no script: estimated)`` for the count from the sound, ``(no script: recognised)`` for
    precise mode's recogniser; nothing with a script."""
    for source, en, zh in (("estimate", " (no script: estimated)", "（无讲稿，估计值）"), ("asr", " (no script: recognised)", "（无讲稿，语音识别计数）")):
        r = copy.deepcopy(REPORT)
        r["characters"] = {"count": 60, "source": source}
        r["rate"]["cpm"] = 90.0
        j = judge(r)
        assert j.summary.endswith(en) and j.reasons[0].endswith(en), j.line()
        jz = judge(r, lang="zh")
        assert jz.summary.endswith(zh) and jz.reasons[0].endswith(zh), jz.line()
    r = copy.deepcopy(REPORT)
    r["characters"] = {"count": 60, "source": "script"}
    assert not judge(r).summary.endswith(")")


def test_count_acoustic_never_runs_the_recogniser(tmp_path, monkeypatch, whisper_model):
    """``check --count acoustic`` (or the rubric's ``[rate] count``) leaves the recogniser out even
    when it is installed: no transcript is made (the transcript cache stays empty), the verdict is
    the script's. The flag wins over the rubric: ``--count auto`` runs it."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SPEECHCOACH_CACHE", str(cache))
    monkeypatch.setenv("SPEECHCOACH_ASR_MODEL", str(whisper_model))
    rubric = tmp_path / "r.toml"
    rubric.write_text('[rate]\ncount = "acoustic"\n', encoding="utf-8")
    for args in (["--count", "acoustic"], ["--rubric", str(rubric)]):
        res = runner.invoke(app, ["check", str(GOOD), "--lang", "en", *args])
        assert res.exit_code == 0, res.output
        assert res.stdout.startswith("PASS ") and not list(cache.rglob("*.json")), args
    res = runner.invoke(app, ["check", str(GOOD), "--lang", "en", "--rubric", str(rubric), "--count", "auto"])
    assert res.exit_code == 0, res.output
    assert not list(cache.rglob("*.json"))  # auto with a script: the script counts, the recogniser does not run
    res = runner.invoke(app, ["check", str(GOOD), "--lang", "en", "--rubric", str(rubric), "--count", "asr"])
    assert res.exit_code == 0, res.output
    assert list(cache.rglob("*.json"))  # the recogniser ran, and its transcript was kept


def test_count_asr_without_the_recogniser_stops_before_any_work(tmp_path, monkeypatch):
    from speechcoach.precise import asr

    monkeypatch.setattr(asr, "available", lambda: False)
    junit = tmp_path / "j.xml"
    res = runner.invoke(app, ["check", str(GOOD), "--count", "asr", "--lang", "en", "--junit", str(junit)])
    assert res.exit_code == 2 and res.stdout == ""
    assert "faster-whisper" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "faster-whisper" in junit.read_text(encoding="utf-8")  # the CI's test report says why
    res = runner.invoke(app, ["batch", str(GOOD), "--out", str(tmp_path / "out"), "--count", "asr"])
    assert res.exit_code == 2 and "faster-whisper" in res.stderr
    res = runner.invoke(app, ["serve", "--no-browser", "--count", "asr"])
    assert res.exit_code == 2 and "faster-whisper" in res.stderr


def test_the_count_option_is_the_same_on_every_command():
    import typer

    from speechcoach.app.cli import CountMode

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    opts = {name: next(p for p in commands[name].params if p.name == "count") for name in ("analyze", "check", "batch", "serve")}
    first = opts["analyze"]
    for name, opt in opts.items():
        assert opt.opts == ["--count"] and opt.help == first.help and opt.default is None, name
        assert list(opt.type.choices) == [m.value for m in CountMode], name
    assert "Default auto" in first.help and "never runs the recogniser" in first.help
