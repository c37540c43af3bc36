"""Settings: every numeric setting is finite and in its documented range, from a rubric or a flag."""

from __future__ import annotations

import json
import pickle
import re

import pytest
from typer.testing import CliRunner

from speechcoach.app.cli import app
from speechcoach.errors import ParameterError, RubricError
from speechcoach.settings import Settings, load_rubric, parse_band

from .conftest import SAMPLES

runner = CliRunner()
SAMPLE = SAMPLES / "on_target_retirement.wav"


def test_defaults_and_the_documented_edges_are_accepted():
    Settings()
    Settings(target_cpm=30.0, band_lo_cpm=30.0, band_hi_cpm=600.0)
    Settings(target_cpm=600.0, band_lo_cpm=30.0, band_hi_cpm=600.0)
    Settings(min_pause_s=0.05, max_pause_s=0.05, max_mid_phrase=0, max_run_chars=1, window_s=1.0, hop_s=1.0, max_cv=0.01)
    Settings(max_pause_s=60.0, max_mid_phrase=100_000, max_run_chars=100_000, window_s=120.0, hop_s=0.1, max_cv=2.0)


@pytest.mark.parametrize(
    "values,message",
    [
        ({"target_cpm": float("inf"), "band_hi_cpm": float("inf")}, "target_cpm must be a finite number, got inf"),
        ({"target_cpm": float("nan")}, "target_cpm must be a finite number, got nan"),
        ({"band_lo_cpm": 1.0, "band_hi_cpm": 1e308, "target_cpm": 1e300},
         "band_cpm must be LO,HI with 30 <= LO < HI <= 600 characters/min, got 1,1e+308"),
        ({"band_lo_cpm": 140.0, "band_hi_cpm": 100.0}, "band_cpm must be LO,HI with 30 <= LO < HI <= 600 characters/min, got 140,100"),
        ({"target_cpm": 150.0}, "target_cpm 150 lies outside the band 100–140"),
        ({"min_pause_s": 0.01}, "min_pause_s must be between 0.05 s and 5 s, got 0.01"),
        ({"max_pause_s": -1.0}, "max_pause_s must be between min_pause_s (0.25 s) and 60 s, got -1"),
        ({"max_mid_phrase": -3}, "max_mid_phrase must be between 0 and 100000, got -3"),
        ({"max_mid_phrase": 2.5}, "max_mid_phrase must be a whole number, got 2.5"),
        ({"max_run_chars": 0}, "max_run_chars must be between 1 and 100000, got 0"),
        ({"max_cv": -1.0}, "max_cv must be between 0.01 and 2, got -1"),
        ({"max_cv": 0.0}, "max_cv must be between 0.01 and 2, got 0"),
        ({"hop_s": 20.0}, "hop_s must be between 0.1 s and window_s (8 s), got 20"),
        ({"window_s": 0.5, "hop_s": 0.5}, "window_s must be between 1 s and 120 s, got 0.5"),
        ({"lang": "fr"}, "lang must be 'zh' or 'en', got 'fr'"),
    ],
)
def test_out_of_range_values_are_refused_naming_key_and_value(values, message):
    with pytest.raises(ParameterError) as info:
        Settings(**values)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "toml,message",
    [
        ("[rate]\ntarget_cpm = inf\n", "[rate] target_cpm must be a finite number, got inf"),
        ("[rate]\nband_cpm = [1, nan]\n", "[rate] band_cpm must be a finite number, got nan"),
        ("[rate]\nband_cpm = [150, 200]\n", "[rate] band_cpm [150, 200] does not contain the target 120 (set [rate] target_cpm too)"),
        ("[pauses]\nmax_pause_s = -1\n", "[pauses] max_pause_s must be between min_pause_s (0.25 s) and 60 s, got -1"),
        ("[pauses]\nmax_mid_phrase = -3\n", "[pauses] max_mid_phrase must be between 0 and 100000, got -3"),
        ("[pace]\nmax_cv = -1\n", "[pace] max_cv must be between 0.01 and 2, got -1"),
        ("[pace]\nhop_s = 20.0\n", "[pace] hop_s must be between 0.1 s and window_s (8 s), got 20"),
    ],
)
def test_rubric_errors_name_the_file_and_the_key(tmp_path, toml, message):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(toml, encoding="utf-8")
    with pytest.raises(RubricError) as info:
        load_rubric(rubric)
    assert str(info.value) == f"{rubric}: {message}"


def test_report_lang_is_a_rubric_key(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[report]\nlang = "en"\n', encoding="utf-8")
    assert load_rubric(rubric).lang == "en"


def test_flags_are_named_as_flags():
    base = Settings()
    with pytest.raises(ParameterError, match=re.escape("--target must be a finite number, got inf")):
        base.with_overrides(target_cpm=float("inf"), band_lo_cpm=1.0, band_hi_cpm=float("inf"))
    with pytest.raises(ParameterError, match=re.escape("--band 150,200 does not contain the target 120 (give --target too)")):
        base.with_overrides(band_lo_cpm=150.0, band_hi_cpm=200.0)
    assert base.with_overrides(target_cpm=170.0, band_lo_cpm=150.0, band_hi_cpm=200.0).target_cpm == 170.0
    err = pickle.loads(pickle.dumps(ParameterError("x must be 1", key="x", problem="must be 1")))
    assert (str(err), err.key, err.problem) == ("x must be 1", "x", "must be 1")


@pytest.mark.parametrize(
    "args,line",
    [
        (["--target", "inf", "--band", "1,inf"], "--target must be a finite number, got inf"),
        (["--band", "1,1e308", "--target", "1e300"], "--band must be LO,HI with 30 <= LO < HI <= 600 characters/min, got 1,1e+308"),
        (["--min-pause", "-1"], "--min-pause must be between 0.05 s and 5 s, got -1"),
    ],
)
def test_cli_flags_exit_2_with_one_line(args, line):
    res = runner.invoke(app, ["analyze", str(SAMPLE), *args])
    assert res.exit_code == 2
    assert res.stderr.strip() == f"speechcoach: error: {line}"


# --------------------------------------------------------------------------- what a trainer types


def test_a_rubric_saved_with_a_byte_order_mark_is_read(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_bytes(b"\xef\xbb\xbf" + '[rate]\ntarget_cpm = 130\n[report]\nlang = "en"\n'.encode())
    s = load_rubric(rubric)
    assert (s.target_cpm, s.lang) == (130.0, "en")


@pytest.mark.parametrize(
    "toml,message",
    [
        ("[rate]\nband_cpm = [100，140]\n", "line 2: invalid TOML (Unclosed array, column 16); full-width ， must be ASCII ,"),
        ("[rate]\ntarget_cpm ＝ 120\n", "line 2: invalid TOML (Expected '=' after a key in a key/value pair, column 12); full-width ＝ must be ASCII ="),
        ('[report]\nlang = “en”\n', 'line 2: invalid TOML (Invalid value, column 8); full-width “ ” must be ASCII " "'),
        # a key and its value are joined by =: the full-width colon's ASCII form would fail too
        ('[report]\nlang："en"\n', ("line 2: invalid TOML (Expected '=' after a key in a key/value pair, column 5); "
                                    "full-width ： must be ASCII = (TOML joins a key and its value with =)")),
        ('[report]\nlang: "en"\n', ("line 2: invalid TOML (Expected '=' after a key in a key/value pair, column 5); "
                                    "use = between a key and its value, not :")),
        ("【rate】\ntarget_cpm = 120\n", "line 1: invalid TOML (Invalid statement, column 1); full-width 【 】 must be ASCII [ ]"),
        ("［rate］\ntarget_cpm = 120\n", "line 1: invalid TOML (Invalid statement, column 1); full-width ［ ］ must be ASCII [ ]"),
        # corner brackets are quotes in a value, but brackets on a table line or around a list
        ("「rate」\ntarget_cpm = 120\n", "line 1: invalid TOML (Invalid statement, column 1); full-width 「 」 must be ASCII [ ]"),
        ("[rate]\nband_cpm = 「100, 140」\n", "line 2: invalid TOML (Invalid value, column 12); full-width 「 」 must be ASCII [ ]"),
        ("[rate]\nband_cpm = 「100，140」\n", "line 2: invalid TOML (Invalid value, column 12); full-width 「 ， 」 must be ASCII [ , ]"),
        ('[report]\nlang = 「en」\n', 'line 2: invalid TOML (Invalid value, column 8); full-width 「 」 must be ASCII " "'),
        ("[rate]\ntarget_cpm = １２０\n", "line 2: invalid TOML (Invalid value, column 14); full-width digits １２０ must be ASCII 120"),
        ("[pace]\nmax_cv = ０．２５\n", "line 2: invalid TOML (Invalid value, column 10); full-width digits ０．２５ must be ASCII 0.25"),
        ("[rate]\nband_cpm = [100；140]\n", "line 2: invalid TOML (Unclosed array, column 16); full-width ； must be ASCII ,"),
        ("[rate]\ntarget_cpm = 120；band_cpm = [100, 140]\n", ("line 2: invalid TOML (Expected newline or end of document after a statement, column 17); "
                                                           "full-width ； must be a new line (one key = value per line)")),
        ('[report]\nlang = "en"  # “英文”\nx = [1\n', "invalid TOML at the end of the file (Unclosed array: a bracket or quote is not closed)"),
        ("[rates]\ntarget_cpm = 120\n",
         "unknown table [rates] (expected one of [rate], [pauses], [pace], [report], [batch], [check]; did you mean [rate]?)"),
        ("[speed]\ntarget_cpm = 120\n", "unknown table [speed] (expected one of [rate], [pauses], [pace], [report], [batch], [check])"),
        ("[rate]\ntargt_cpm = 120\n", "unknown key [rate] targt_cpm (did you mean target_cpm?)"),
        ("[pauses]\ntarget_cpm = 120\n", "unknown key [pauses] target_cpm (it belongs in [rate])"),
        ("[pace]\nfoo = 1\n", "unknown key [pace] foo ([pace] keys are window_s, hop_s, max_cv)"),
        ("target_cpm = 120\n", "target_cpm must be inside its table: write it under [rate]"),
        ('[rate]\ntarget_cpm = "120"\n', '[rate] target_cpm must be a number, got the text "120" (remove the quotes)'),
        ("[pauses]\nmax_mid_phrase = 2.5\n", "[pauses] max_mid_phrase must be a whole number, got 2.5"),
        ('[pauses]\nmax_pause_s = " "\n', "[pauses] max_pause_s must be a number, got empty text"),
        ("[pace]\nmax_cv = [0.3, true, {}]\n", "[pace] max_cv must be a number, got the list [0.3, true, a table]"),
        ("[report]\nlang = 1\n", "[report] lang must be text in quotes, got 1"),
        ('[rate]\nband_cpm = [100, "140"]\n', '[rate] band_cpm must be two numbers [LO, HI] such as [100, 140], got the list [100, "140"]'),
        ("[report]\nguidance = 3\n", "[report] guidance must be a folder name in quotes, got 3"),
    ],
)
def test_rubric_mistakes_say_what_was_expected(tmp_path, toml, message):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(toml, encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--rubric", str(rubric)])
    assert res.exit_code == 2
    assert res.stderr.strip() == f"speechcoach: error: {rubric}: {message}"
    assert "Traceback" not in res.output


@pytest.mark.parametrize("text", ["100,140", "100，140", "100, 140", "100-140", "100–140", "100~140", "100～140", "[100,140]"])
def test_band_flag_accepts_what_a_chinese_keyboard_types(text):
    assert parse_band(text) == (100.0, 140.0)


@pytest.mark.parametrize("text", ["abc", "100", "100,120,140", "100。140"])
def test_band_flag_refuses_anything_else(text):
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--band", text])
    assert res.exit_code == 2
    assert res.stderr.strip() == f"speechcoach: error: --band expects LO,HI such as 100,140, got {text!r}"


def test_a_rubric_band_without_target_is_completed_by_the_target_flag(tmp_path):
    rubric = tmp_path / "fast.toml"
    rubric.write_text("[rate]\nband_cpm = [150, 200]\n", encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--rubric", str(rubric), "--target", "170", "-f", "json", "--lang", "en"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.stdout)["settings"]
    assert st["band_cpm"] == [150.0, 200.0] and st["target_cpm"] == 170.0  # exact: the values given
    assert load_rubric(rubric, flags={"target_cpm": 170.0}).band == (150.0, 200.0)
    # a flag band replaces it: the default target 120 fits 100-140
    assert load_rubric(rubric, flags={"band_lo_cpm": 100.0, "band_hi_cpm": 140.0, "target_cpm": None}).band == (100.0, 140.0)
    # a flag that does not complete it leaves the rubric's own error
    with pytest.raises(RubricError, match=r"does not contain the target 120 \(set \[rate\] target_cpm too\)"):
        load_rubric(rubric, flags={"target_cpm": 120.0})


def test_count_is_a_rubric_key_and_its_flag_wins(tmp_path, monkeypatch):
    """A trainer sets whether the speech recogniser runs once for a cohort: ``[rate] count``."""
    rubric = tmp_path / "r.toml"
    rubric.write_text('[rate]\ncount = "asr"\n', encoding="utf-8")
    monkeypatch.delenv("SPEECHCOACH_COUNT", raising=False)
    assert Settings().count == "auto"
    monkeypatch.setenv("SPEECHCOACH_COUNT", "acoustic")  # a machine's default (the test suite's)
    assert Settings().count == "acoustic"
    assert load_rubric(rubric).count == "asr"  # the rubric wins over it
    rubric.write_text('[rate]\ncount = "acoustic"\n', encoding="utf-8")
    assert load_rubric(rubric).count == "acoustic"
    assert load_rubric(rubric).with_overrides(count="asr").count == "asr"
    assert load_rubric(rubric).with_overrides(count=None).count == "acoustic"  # flag not given
    rubric.write_text('[rate]\ncount = "fast"\n', encoding="utf-8")
    with pytest.raises(RubricError, match=r"\[rate\] count must be one of 'auto', 'asr', 'acoustic', got 'fast'"):
        load_rubric(rubric)
    with pytest.raises(ParameterError, match=r"^--count must be one of"):
        Settings().with_overrides(count="fast")
