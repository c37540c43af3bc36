"""The command line through typer's CliRunner: reports, options, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from speechcoach.app.cli import app

from .conftest import NOT_TEXT, SAMPLES, SR, layout

runner = CliRunner()
SAMPLE = SAMPLES / "on_target_retirement.wav"
SCRIPT = SAMPLES / "on_target_retirement.txt"


def test_analyze_text_report_zh():
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(SCRIPT)])
    assert res.exit_code == 0, res.output
    assert "字/分钟" in res.stdout and "适中" in res.stdout
    assert "自查清单" in res.stdout


def test_analyze_says_what_it_wrote_in_the_report_language(tmp_path):
    from speechcoach.analysis.metrics import shown_cpm

    out = tmp_path / "r.json"
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(SCRIPT), "-o", str(out)])
    assert res.exit_code == 0, res.output
    cpm = shown_cpm(json.loads(out.read_text(encoding="utf-8"))["rate"]["cpm"])
    assert res.stderr == f"{out}：{cpm} 字/分钟，适中\n"
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(SCRIPT), "-o", str(out), "--lang", "en"])
    assert res.stderr == f"{out}: {cpm} chars/min, on target\n"


def test_analyze_json_en_with_options(tmp_path):
    out = tmp_path / "r.json"
    res = runner.invoke(
        app, ["analyze", str(SAMPLE), "--script", str(SCRIPT), "--lang", "en", "--target", "150", "--band", "130,170", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text(encoding="utf-8"))
    assert rep["settings"]["target_cpm"] == 150 and rep["settings"]["band_cpm"] == [130, 170]
    assert rep["rate"]["verdict"] == "slow"  # ~119 cpm against 130–170
    assert rep["lang"] == "en"
    assert rep["findings"][0]["id"] == "rate_slow"


def test_rubric_file_and_flags_win(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[rate]\ntarget_cpm = 200\nband_cpm = [180, 220]\n[report]\nlang = "en"\n', encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(SCRIPT), "--rubric", str(rubric), "-f", "json"])
    rep = json.loads(res.stdout)
    assert rep["settings"]["band_cpm"] == [180, 220] and rep["lang"] == "en"
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(SCRIPT), "--rubric", str(rubric), "--band", "100,140", "--target", "120", "-f", "json"])
    assert json.loads(res.stdout)["settings"]["band_cpm"] == [100, 140]


def test_bad_band_and_bad_rubric(tmp_path):
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--band", "fast"])
    assert res.exit_code == 2
    assert res.output.strip() == "speechcoach: error: --band expects LO,HI such as 100,140, got 'fast'"  # one line, like --band 140,100
    rubric = tmp_path / "r.toml"
    rubric.write_text("[rate]\ntarget = 1\n", encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--rubric", str(rubric)])
    assert res.exit_code == 2
    assert str(rubric) in res.stderr and "unknown key" in res.stderr


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    good, _ = layout([("s", 0.5), ("v", 3.0), ("s", 0.5)])
    sf.write(str(tmp_path / "good.wav"), good, SR)
    text = tmp_path / "text.wav"
    text.write_text("hello, I am not audio\n")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    trunc = tmp_path / "trunc.wav"
    trunc.write_bytes((tmp_path / "good.wav").read_bytes()[:20])
    half = tmp_path / "half.wav"  # header intact, half the samples missing
    half.write_bytes((tmp_path / "good.wav").read_bytes()[: len((tmp_path / "good.wav").read_bytes()) // 2])
    nan = tmp_path / "nan.wav"
    y = good.copy()
    y[500:600] = np.nan
    sf.write(str(nan), y, SR, subtype="FLOAT")
    silence = tmp_path / "silence.wav"
    sf.write(str(silence), np.zeros(5 * SR, dtype=np.float32), SR)
    short = tmp_path / "short.wav"
    y2, _ = layout([("s", 0.5), ("v", 1.0), ("s", 0.5)])
    sf.write(str(short), y2, SR)
    return {"missing": tmp_path / "missing.wav", "text": text, "empty": empty, "truncated": trunc, "half": half, "nan": nan, "silence": silence, "short": short}


@pytest.mark.parametrize("kind", ["missing", "text", "empty", "truncated", "half", "nan", "silence", "short"])
def test_bad_input_exits_2_with_one_line(tmp_path, kind):
    path = _bad_files(tmp_path)[kind]
    res = runner.invoke(app, ["analyze", str(path)])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2
    assert str(path) in lines[0]
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    if kind == "half":  # in the report language: zh by default, the English line with --lang en
        assert lines[0] == f"speechcoach：错误：{path}：文件不完整（被截断）：文件头标明 4.0 秒，实际只有 2.0 秒"
        en = runner.invoke(app, ["analyze", str(path), "--lang", "en"])
        assert en.stderr == f"speechcoach: error: {path}: the file is truncated: its header says 4.0 s, only 2.0 s present\n"


def test_bad_script(tmp_path):
    script = tmp_path / "s.txt"
    script.write_bytes(NOT_TEXT)
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(script), "--lang", "en"])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [f"speechcoach: error: {script}: script is not text in UTF-8, UTF-16 or GB18030 (GBK)"]
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(script)])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [f"speechcoach：错误：{script}：讲稿不是 UTF-8、UTF-16 或 GB18030（GBK）编码的文本"]
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(tmp_path / "none.txt"), "--lang", "en"])
    assert res.exit_code == 2 and "not found" in res.stderr


def test_demo():
    res = runner.invoke(app, ["demo", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "chars/min" in res.stdout and "counted from the script" in res.stdout


def test_demo_never_runs_the_recogniser_on_its_synthetic_voice(whisper_model, monkeypatch):
    """With precise mode installed the demo still shows no transcript, fillers or passages: the
    bundled espeak-ng voice is read by Whisper as nonsense that no check catches."""
    import json

    monkeypatch.setenv("SPEECHCOACH_ASR_MODEL", str(whisper_model))
    res = runner.invoke(app, ["demo", "--lang", "en", "-f", "json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert "transcript" not in rep and "fillers" not in rep and "asr" not in rep["characters"]


def test_console_script_process_has_no_traceback(tmp_path):
    """The real entry point, as a process: bad input → exit 2, one stderr line (in zh, the default)."""
    res = subprocess.run(
        [sys.executable, "-m", "speechcoach", "analyze", str(tmp_path / "gone.wav")], capture_output=True, text=True
    )
    assert res.returncode == 2
    assert res.stderr.strip() == f"speechcoach：错误：{tmp_path / 'gone.wav'}：文件不存在"


def test_output_over_an_input_file_is_refused_before_any_work(tmp_path):
    wav = tmp_path / "take.wav"
    wav.write_bytes(SAMPLE.read_bytes())
    txt = tmp_path / "take.txt"
    txt.write_text(SCRIPT.read_text(encoding="utf-8"), encoding="utf-8")
    for args in (["-f", "text", "-o", str(wav)], ["--textgrid", str(wav)], ["-s", str(txt), "-f", "text", "-o", str(txt)]):
        res = runner.invoke(app, ["analyze", str(wav), *args, "--lang", "en"])
        assert res.exit_code == 2, (args, res.output)
        assert "overwrite the input file" in res.output and len(res.output.strip().splitlines()) == 1
    res = runner.invoke(app, ["analyze", str(wav), "-s", str(txt), "-f", "text", "-o", str(txt)])
    assert res.stderr == f"speechcoach：错误：{txt}：--output 会覆盖输入文件 {txt}：请换一个文件名\n"
    assert wav.read_bytes() == SAMPLE.read_bytes() and txt.read_text(encoding="utf-8") == SCRIPT.read_text(encoding="utf-8")


def test_output_that_cannot_be_written_is_one_line_exit_2(tmp_path):
    folder = tmp_path / "r.html"
    folder.mkdir()
    blocker = tmp_path / "plain"
    blocker.write_text("x")
    for target in (folder, blocker / "r.html"):
        res = runner.invoke(app, ["analyze", str(SAMPLE), "-o", str(target), "--lang", "en"])
        assert res.exit_code == 2, res.output
        assert res.output.strip().startswith(f"speechcoach: error: {target}: ") and len(res.output.strip().splitlines()) == 1
        res = runner.invoke(app, ["analyze", str(SAMPLE), "-o", str(target)])
        assert res.exit_code == 2 and res.stderr.startswith(f"speechcoach：错误：{target}：") and res.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args, says",
    [
        (["-f", "json", "-o", "r.html"], "does not match"),
        (["-o", "r.xyz"], "cannot tell the report format"),
        (["--embed-audio"], "needs an HTML report"),
    ],
)
def test_conflicting_format_options_are_refused(tmp_path, args, says):
    args = [str(tmp_path / a) if a.startswith("r.") else a for a in args]
    res = runner.invoke(app, ["analyze", str(SAMPLE), *args])
    assert res.exit_code == 2 and says in res.output, res.output
    assert not list(tmp_path.iterdir())  # refused before anything was written


def test_written_report_is_confirmed_in_the_report_language(tmp_path):
    res = runner.invoke(app, ["analyze", str(SAMPLE), "-s", str(SCRIPT), "-o", str(tmp_path / "r.md")])
    assert res.exit_code == 0, res.output
    assert "字/分钟" in res.output and "on_target" not in res.output


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.startswith("speechcoach ")



def test_example_rubric_loads_and_holds_the_defaults(monkeypatch):
    from speechcoach.settings import Settings, load_rubric

    monkeypatch.delenv("SPEECHCOACH_COUNT", raising=False)  # the defaults out of the box (the suite's count is acoustic)
    # the README's examples pass it; it documents every key, so it must stay in step with Settings
    assert load_rubric(Path(__file__).resolve().parents[1] / "examples" / "rubric.toml") == Settings()


def test_a_script_that_cannot_be_what_was_said_is_set_aside(tmp_path):
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("今天天气很好", encoding="utf-8")  # 6 characters for ~30 s of speech
    res = runner.invoke(app, ["analyze", str(SAMPLE), "-s", str(wrong), "-f", "json", "--count", "acoustic"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["characters"]["source"] == "estimate"  # not 6 characters: the rate is not 11 cpm
    assert rep["rate"]["verdict"] != "slow"
    assert "script_mismatch" in {w["id"] for w in rep["warnings"]}
    assert not rep.get("script_marked")  # nothing lined up with a script that was not said


def test_outputs_are_checked_together_before_any_work(tmp_path):
    blocker = tmp_path / "plain"
    blocker.write_text("a file")
    same = tmp_path / "r.html"
    res = runner.invoke(app, ["analyze", str(SAMPLE), "-o", str(same), "--textgrid", str(same)])
    assert res.exit_code == 2 and "name the same file" in res.output, res.output
    ok = tmp_path / "ok.html"
    res = runner.invoke(app, ["analyze", str(SAMPLE), "-o", str(ok), "--labels", str(blocker / "sub" / "l.txt")])
    assert res.exit_code == 2 and "is a file, not a folder" in res.output, res.output
    assert not same.exists() and not ok.exists()  # nothing written before the refusal
    existing = tmp_path / "t.TextGrid"
    existing.write_text("old")
    res = runner.invoke(app, ["analyze", str(SAMPLE), "-o", str(tmp_path / "new.html"), "--textgrid", str(existing)])
    assert res.exit_code == 0, res.output  # one output existing, the other not yet: two files


def test_a_device_output_gets_the_text_report():
    res = runner.invoke(app, ["analyze", str(SAMPLE), "-o", "/dev/null"])
    assert res.exit_code == 0, res.output



@pytest.mark.parametrize("sig,code,lang", [("SIGTERM", 143, "en"), ("SIGINT", 130, "zh")])
def test_check_interrupted_says_so_and_writes_the_junit_file(tmp_path, sig, code, lang):
    """Stopped after its first recording (a cancelled CI job, Ctrl-C), ``check`` says it was
    interrupted and how many recordings it judged, and still writes the JUnit file with them
    and an error saying the run was cut short; exit 128 + the signal. Both in the run's language."""
    import os
    import signal

    for n in range(8):
        (tmp_path / f"talk{n}.wav").write_bytes(SAMPLE.read_bytes())
        (tmp_path / f"talk{n}.txt").write_bytes(SCRIPT.read_bytes())
    junit = tmp_path / "out" / "check.xml"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "speechcoach", "check", str(tmp_path), "--junit", str(junit), "--lang", lang],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 (a shell's background job ignores SIGINT)
    )
    first = proc.stdout.readline()  # the first recording's line: then stop the run
    proc.send_signal(getattr(signal, sig))
    rest, err = proc.communicate(timeout=60)
    assert first.startswith("PASS "), (first, err)
    assert proc.returncode == code, err
    judged = 1 + rest.count("PASS ")
    assert judged < 8, rest
    xml = junit.read_text(encoding="utf-8")
    assert xml.count("<testcase ") == judged + 1 and xml.count("<failure") == 0 and 'name="interrupted"' in xml
    if lang == "en":
        assert err.splitlines() == [f"speechcoach: interrupted by SIGTERM: {judged} of 8 recordings judged ({judged} pass, 0 fail, 0 error); {junit}"]
        assert f"interrupted by SIGTERM: {judged} of 8 recordings judged, {8 - judged} not judged" in xml
    else:
        assert err.splitlines() == [f"speechcoach：已中断：8 段录音中已考核 {judged} 段（通过 {judged}，未通过 0，错误 0）；{junit}"]
        assert f"已中断：8 段录音中已考核 {judged} 段，{8 - judged} 段未考核" in xml


@pytest.mark.parametrize("command", ["analyze", "check", "batch"])
def test_a_file_named_with_a_leading_dash_gets_a_hint_not_no_such_option(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    Path("-take1.wav").write_text("这不是录音\n", encoding="utf-8")
    extra = ["--lang", "en"] + (["--out", "out"] if command == "batch" else [])
    res = runner.invoke(app, [command, "-take1.wav", *extra])
    assert res.exit_code == 2
    assert "-take1.wav: a name that begins with '-' reads as an option: write ./-take1.wav (or put -- before it)" in res.stderr
    assert "No such option: -t" not in res.stderr
    res = runner.invoke(app, [command, *extra, "--", "-take1.wav"])  # as the hint says: now it is the file
    assert res.exit_code == 2 and "-take1.wav: not an audio file (it contains text)" in (res.stdout + res.stderr)
    assert "No such option: --bogus" in runner.invoke(app, [command, "--bogus", *extra]).stderr  # other typos as before
