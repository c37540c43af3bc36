"""Error messages in the user's language: codes, the ``[errors]`` templates, and where they show.

Every error here comes from the real code path (loading, the analysis, a batch, ``check``, the
practice server); nothing is mocked. ``str(err)`` stays English; the CLI's stderr line follows the
run's language (``--lang``, else the rubric's, else zh) when the problem has a code.
"""

from __future__ import annotations

import ast
import csv
import json
import pickle
import re
import shutil
import string
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from speechcoach.audio import load
from speechcoach.app.cli import app
from speechcoach.errors import AudioError, InputError, ScriptError
from speechcoach.locales import LANGS, error_text, strings
from speechcoach.analysis.pipeline import analyze_signal, read_script

from .conftest import NOT_TEXT, REPO, SAMPLES, layout

runner = CliRunner()
CJK = re.compile(r"[\u4e00-\u9fff]")
GOOD = SAMPLES / "on_target_retirement"
NOT_AUDIO_ZH = "不是音频文件（里面是文字）"
NOT_AUDIO_EN = "not an audio file (it contains text)"


# --------------------------------------------------------------------------- the registry


def codes_in_source() -> set[str]:
    """Every literal ``code="..."`` passed to a call in ``speechcoach/``, plus the server's HTTP codes."""
    found: set[str] = set()
    for path in (REPO / "speechcoach").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "code" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        found.add(kw.value.value)
    pytest.importorskip("fastapi")
    from speechcoach.app.server import HTTP_ERROR_CODES

    return found | set(HTTP_ERROR_CODES.values())


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_code_in_the_source_has_a_template_in_both_languages():
    codes = codes_in_source()
    must = {"file_not_found", "is_folder", "empty_file", "not_audio", "not_audio_text", "truncated", "too_short",
            "too_little_speech", "no_speech", "sample_rate_too_low", "corrupt_samples", "needs_ffmpeg",
            "script_not_text", "script_empty", "script_not_found", "no_match", "upload_too_large"}
    assert must <= codes, must - codes  # the source scan works
    for lang in LANGS:
        table = strings(lang)["errors"]
        assert not codes - set(table), f"{lang}: no template for {sorted(codes - set(table))}"
    zh, en = strings("zh")["errors"], strings("en")["errors"]
    assert set(zh) == set(en)
    for code in zh:
        assert fields(zh[code]) == fields(en[code]), code
        assert "\n" not in zh[code] and CJK.search(zh[code]), code


# --------------------------------------------------------------------------- real errors, both languages


def _raised(call) -> InputError:
    with pytest.raises(InputError) as info:
        call()
    return info.value


def _bad_inputs(tmp: Path) -> dict[str, InputError]:
    """One real error per code, from loading, the analysis and script reading."""
    (tmp / "folder.wav").mkdir()
    (tmp / "empty.wav").write_bytes(b"")
    (tmp / "notes.wav").write_text("这不是录音。\n" * 10, encoding="utf-8")
    (tmp / "noise.wav").write_bytes(bytes(range(7, 247)))
    (tmp / "cut.wav").write_bytes((SAMPLES / "slow_unemployment.wav").read_bytes()[:30])
    (tmp / "half.wav").write_bytes((SAMPLES / "slow_unemployment.wav").read_bytes()[:100_044])  # 3.1 s of 16-bit 16 kHz
    sf.write(str(tmp / "none.wav"), np.zeros(0, dtype=np.float32), 16_000)
    sf.write(str(tmp / "low.wav"), np.zeros(4_000, dtype=np.float32), 4_000)
    sf.write(str(tmp / "nan.wav"), np.full(16_000, np.nan, dtype=np.float32), 16_000, subtype="FLOAT")
    (tmp / "binary.txt").write_bytes(NOT_TEXT)
    (tmp / "marks.txt").write_text("，。！", encoding="utf-8")
    speech, _ = layout([("s", 1.0), ("v", 1.0), ("s", 1.0)])
    (tmp / "link.wav").symlink_to(tmp / "moved.wav")
    return {
        "file_not_found": _raised(lambda: load(tmp / "gone.wav")),
        "broken_link": _raised(lambda: load(tmp / "link.wav")),
        "is_folder": _raised(lambda: load(tmp / "folder.wav")),
        "empty_file": _raised(lambda: load(tmp / "empty.wav")),
        "not_audio_text": _raised(lambda: load(tmp / "notes.wav")),
        "not_audio": _raised(lambda: load(tmp / "noise.wav")),
        "truncated": _raised(lambda: load(tmp / "cut.wav")),
        "truncated_audio": _raised(lambda: load(tmp / "half.wav")),
        "no_samples": _raised(lambda: load(tmp / "none.wav")),
        "sample_rate_too_low": _raised(lambda: load(tmp / "low.wav")),
        "corrupt_samples": _raised(lambda: load(tmp / "nan.wav")),
        "not_mono": _raised(lambda: analyze_signal(np.zeros((2, 800)), 16_000)),
        "too_short": _raised(lambda: analyze_signal(np.zeros(800), 16_000)),
        "no_speech": _raised(lambda: analyze_signal(np.zeros(3 * 16_000), 16_000)),
        "too_little_speech": _raised(lambda: analyze_signal(speech, 16_000)),
        "script_not_found": _raised(lambda: read_script(tmp / "gone.txt")),
        "script_is_folder": _raised(lambda: read_script(tmp / "folder.wav")),
        "script_not_text": _raised(lambda: read_script(tmp / "binary.txt")),
        "script_empty": _raised(lambda: read_script(tmp / "marks.txt")),
    }


def test_each_error_has_its_code_a_chinese_text_and_the_english_unchanged(tmp_path):
    for code, err in _bad_inputs(tmp_path).items():
        assert err.code == code, (code, err)
        assert str(err) == f"{err.path}: {err.problem}"  # the CLI's line, as before
        zh, en = error_text(err, lang="zh"), error_text(err, lang="en")
        assert CJK.search(zh) and not CJK.search(en), (code, zh, en)
        if code == "no_speech":  # two English wordings share one template
            assert en.startswith("no speech found") and err.problem.startswith("no speech found")
        else:
            assert en == err.problem, code


def test_numbers_are_numbers_and_fill_the_templates(tmp_path):
    errs = _bad_inputs(tmp_path)
    few = errs["too_little_speech"]
    assert isinstance(few.params["speech"], float) and few.params["needed"] == 2.0
    assert error_text(few, lang="zh") == f"只找到 {few.params['speech']:.1f} 秒语音（至少需要 2 秒）"
    assert error_text(errs["too_short"], lang="zh") == "录音太短（0.05 秒）"
    assert errs["sample_rate_too_low"].params == {"rate": 4000, "min_rate": 8000}
    assert error_text(errs["sample_rate_too_low"], lang="zh") == "采样率 4000 Hz 太低（至少需要 8000 Hz）"
    assert error_text(errs["not_audio_text"], lang="zh", path="notes.wav") == f"notes.wav：{NOT_AUDIO_ZH}"
    cut = errs["truncated_audio"]
    assert cut.params["present_s"] == pytest.approx(3.125, abs=1e-3)  # 100,000 bytes / 32,000 bytes/s
    assert error_text(cut, lang="zh").startswith("文件不完整（被截断）：文件头标明 ") and error_text(cut, lang="zh").endswith("实际只有 3.1 秒")


def test_ffmpeg_formats_without_ffmpeg(tmp_path, monkeypatch):
    m4a = tmp_path / "phone.m4a"
    m4a.write_bytes(b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 64)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    err = _raised(lambda: load(m4a))
    assert err.code == "needs_ffmpeg" and err.params == {"suffix": ".m4a"}
    assert error_text(err, lang="en") == err.problem
    assert error_text(err, lang="zh").startswith(".m4a 文件需要 ffmpeg")


def test_fallback_to_english_and_pickling():
    bare = AudioError("x.wav", "something odd")
    assert bare.code is None and bare.params == {}
    assert error_text(bare, lang="zh") == "something odd"
    assert error_text(AudioError("x.wav", "odd", code="no_such_code"), lang="zh") == "odd"
    assert error_text(AudioError("x.wav", "short", code="too_short", params={}), lang="zh") == "short"  # value missing
    assert error_text("too_short", {"seconds": "n/a"}, "zh", fallback="short") == "short"  # not a number
    assert error_text(None, {}, "zh", fallback="plain") == "plain"
    assert error_text("empty_file", {}, "zh") == "文件是空的（0 字节）"
    err = ScriptError("a.txt", "script has no characters to speak", code="script_empty", params={"n": 0})
    back = pickle.loads(pickle.dumps(err))  # batch workers send errors between processes
    assert type(back) is ScriptError and (back.path, back.problem, back.code, back.params) == ("a.txt", err.problem, "script_empty", {"n": 0})


# --------------------------------------------------------------------------- batch


@pytest.fixture(scope="module")
def zh_batch(tmp_path_factory):
    """A zh batch (the default language): a good recording, a text file named .wav, a script that is not text."""
    root = tmp_path_factory.mktemp("cohort")
    d = root / "wang"
    d.mkdir()
    shutil.copy(GOOD.with_suffix(".wav"), d / "good.wav")
    shutil.copy(GOOD.with_suffix(".txt"), d / "good.txt")
    (d / "notes.wav").write_text("这不是录音，只是一段文字。\n" * 20, encoding="utf-8")
    shutil.copy(GOOD.with_suffix(".wav"), d / "binary.wav")
    (d / "binary.txt").write_bytes(NOT_TEXT)
    out = root / "out"
    res = runner.invoke(app, ["batch", str(d), "--out", str(out), "--jobs", "1"])
    return d, out, res


def _rows(out: Path) -> dict[str, dict]:
    return {Path(r["file"]).name: r for r in json.loads((out / "summary.json").read_text(encoding="utf-8"))["recordings"]}


def test_zh_batch_shows_chinese_errors_with_codes(zh_batch):
    d, out, res = zh_batch
    assert res.exit_code == 2
    rows = _rows(out)
    notes, binary, good = rows["notes.wav"], rows["binary.wav"], rows["good.wav"]
    assert notes["error"] == NOT_AUDIO_ZH and notes["error_code"] == "not_audio_text" and notes["error_en"] == NOT_AUDIO_EN
    assert binary["error_code"] == "script_not_text"
    assert binary["error"] == f"{d / 'binary.txt'}：讲稿不是 UTF-8、UTF-16 或 GB18030（GBK）编码的文本"
    assert binary["error_en"] == f"{d / 'binary.txt'}: script is not text in UTF-8, UTF-16 or GB18030 (GBK)"
    assert good["error"] == "" and good["error_code"] == "" and good["cpm"] > 0

    page = (out / "index.html").read_text(encoding="utf-8")
    assert f'data-code="not_audio_text" title="{NOT_AUDIO_EN}">{NOT_AUDIO_ZH}</td>' in page
    with open(out / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        table = {Path(r["file"]).name: r for r in csv.DictReader(fh)}
    assert (table["notes.wav"]["error"], table["notes.wav"]["error_code"]) == (NOT_AUDIO_ZH, "not_audio_text")
    assert table["good.wav"]["error_code"] == ""

    # the terminal says the same as summary.csv, one line per recording, and ends in Chinese
    lines = res.stderr.splitlines()
    assert f"speechcoach：错误：{d / 'notes.wav'}：{NOT_AUDIO_ZH}" in lines
    assert f"speechcoach：错误：{d / 'binary.wav'}：{binary['error']}" in lines
    assert not any("error" in ln or "speechcoach: " in ln for ln in lines), lines
    assert lines[-1].startswith("speechcoach：批量分析：共 3 段录音：已分析 1 段，未变化 0 段，无法分析 2 段；")


def test_batch_stderr_in_english_with_lang_en(tmp_path):
    d = tmp_path / "wang"
    d.mkdir()
    (d / "notes.wav").write_text("这不是录音，只是一段文字。\n" * 20, encoding="utf-8")
    res = runner.invoke(app, ["batch", str(d), "--out", str(tmp_path / "out"), "--jobs", "1", "--lang", "en"])
    assert res.exit_code == 2
    lines = res.stderr.splitlines()
    assert lines[0] == f"speechcoach: error: {d / 'notes.wav'}: {NOT_AUDIO_EN}"
    assert lines[-1].startswith("speechcoach: batch: 1 recording: 0 analysed, 0 unchanged, 1 failed; ")
    assert not any(CJK.search(ln) for ln in lines)


def test_remembered_failures_keep_their_codes_and_old_state_keeps_its_text(zh_batch, tmp_path):
    d, first, _ = zh_batch
    out = tmp_path / "out"
    shutil.copytree(first, out)
    res = runner.invoke(app, ["batch", str(d), "--out", str(out), "--jobs", "1"])
    assert res.exit_code == 2 and "共 3 段录音：已分析 0 段，未变化 1 段，无法分析 2 段" in res.stderr
    assert _rows(out)["notes.wav"] == _rows(first)["notes.wav"]
    assert f"speechcoach：错误：{d / 'notes.wav'}：{NOT_AUDIO_ZH}" in res.stderr.splitlines()  # from the state too

    # a state file written before error codes: its English text is kept, not lost
    for state in (out / ".speechcoach-state").glob("*.json"):
        entry = json.loads(state.read_text(encoding="utf-8"))
        if entry.get("row", {}).get("error_code") == "not_audio_text":
            entry["row"] = {k: v for k, v in entry["row"].items() if k not in ("error_code", "error_params", "error_en")}
            entry["row"]["error"] = NOT_AUDIO_EN
            state.write_text(json.dumps(entry), encoding="utf-8")
    res = runner.invoke(app, ["batch", str(d), "--out", str(out), "--jobs", "1"])
    notes = _rows(out)["notes.wav"]
    assert (notes["error"], notes["error_en"], notes["error_code"]) == (NOT_AUDIO_EN, NOT_AUDIO_EN, "")
    assert f"speechcoach: error: {d / 'notes.wav'}: {NOT_AUDIO_EN}" in res.stderr.splitlines()  # no code: English


# --------------------------------------------------------------------------- check and the CLI


def test_check_lines_in_zh_and_en(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all", encoding="utf-8")
    zh = runner.invoke(app, ["check", str(bad), str(tmp_path / "none*.wav")])
    assert zh.exit_code == 2
    assert f"ERROR {bad}: {NOT_AUDIO_ZH}" in zh.stdout.splitlines()
    assert "没有录音符合这个匹配模式" in zh.stdout
    en = runner.invoke(app, ["check", str(bad), "--lang", "en"])
    assert en.stdout.strip() == f"ERROR {bad}: {NOT_AUDIO_EN}"


def test_cli_stderr_line_follows_the_run_language(tmp_path):
    """``--lang``, else the rubric's language, else zh; the English line unchanged for en."""
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all", encoding="utf-8")
    zh_line = f"speechcoach：错误：{bad}：{NOT_AUDIO_ZH}\n"
    en_line = f"speechcoach: error: {bad}: {NOT_AUDIO_EN}\n"
    en_rubric = tmp_path / "en.toml"
    en_rubric.write_text('[report]\nlang = "en"\n', encoding="utf-8")
    for args, line in (([], zh_line), (["--lang", "zh"], zh_line), (["--lang", "en"], en_line),
                       (["--rubric", str(en_rubric)], en_line), (["--rubric", str(en_rubric), "--lang", "zh"], zh_line)):
        res = runner.invoke(app, ["analyze", str(bad), *args])
        assert (res.exit_code, res.stderr) == (2, line), args
    res = runner.invoke(app, ["analyze", str(GOOD.with_suffix(".wav")), "--script", str(tmp_path / "gone.txt")])
    assert res.stderr == f"speechcoach：错误：{tmp_path / 'gone.txt'}：讲稿文件不存在\n"
    res = runner.invoke(app, ["analyze", str(GOOD.with_suffix(".wav")), "--script", str(tmp_path / "gone.txt"), "--lang", "en"])
    assert res.stderr == f"speechcoach: error: {tmp_path / 'gone.txt'}: script file not found\n"


def test_errors_without_a_code_or_before_the_language_is_known_stay_english(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all", encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(bad), "--band", "100"])  # a flag's problem has no code
    assert res.exit_code == 2 and res.stderr.startswith("speechcoach: error: --band ") and not CJK.search(res.stderr)
    typo = tmp_path / "typo.toml"
    typo.write_text("[rate]\ntarget_cpn = 120\n", encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(bad), "--rubric", str(typo)])  # the rubric that would say the language
    assert res.exit_code == 2 and res.stderr.startswith(f"speechcoach: error: {typo}: ") and res.stderr.count("\n") == 1


def test_check_stderr_in_chinese(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all", encoding="utf-8")
    res = runner.invoke(app, ["check", str(bad), "--script", str(tmp_path / "gone.txt")])  # refused before any work
    assert (res.exit_code, res.stdout, res.stderr) == (2, "", f"speechcoach：错误：{tmp_path / 'gone.txt'}：讲稿文件不存在\n")
    res = runner.invoke(app, ["check", str(bad)])
    assert res.exit_code == 2 and res.stdout == f"ERROR {bad}: {NOT_AUDIO_ZH}\n"
    assert res.stderr == "speechcoach：考核：共 1 段录音：通过 0，未通过 0，错误 1\n"
    res = runner.invoke(app, ["check", str(bad), "--lang", "en"])
    assert res.stderr == "speechcoach: check: 1 recording: 0 pass, 0 fail, 1 error\n"


def test_record_checks_its_files_in_the_run_language(tmp_path):
    """``record`` refuses a bad target or script before opening the microphone (none needed here)."""
    folder = tmp_path / "take.wav"
    folder.mkdir()
    res = runner.invoke(app, ["record", str(folder), "--seconds", "1"])
    assert (res.exit_code, res.stderr) == (2, f"speechcoach：错误：{folder}：这是一个文件夹：请给出要写入的文件名\n")
    res = runner.invoke(app, ["record", str(folder), "--seconds", "1", "--lang", "en"])
    assert (res.exit_code, res.stderr) == (2, f"speechcoach: error: {folder}: is a folder: give the recording a file name\n")
    gone = tmp_path / "gone.txt"
    res = runner.invoke(app, ["record", str(tmp_path / "new.wav"), "--seconds", "1", "--analyze", "--script", str(gone)])
    assert (res.exit_code, res.stderr) == (2, f"speechcoach：错误：{gone}：讲稿文件不存在\n")
    res = runner.invoke(app, ["record", str(tmp_path / "new.wav")])  # no terminal to press Enter in
    assert (res.exit_code, res.stderr) == (2, "speechcoach：错误：没有可以按回车键的终端：请用 --seconds 给出录音时长\n")
    assert not (tmp_path / "new.wav").exists()


# --------------------------------------------------------------------------- the practice server


@pytest.fixture()
def client(tmp_path):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from speechcoach.app.server import create_app

    return TestClient(create_app(tmp_path / "data", port=8765), base_url="http://127.0.0.1:8765", raise_server_exceptions=False)


def _post(client, name: str, data: bytes, **form: str):
    return client.post("/api/analyze", files={"audio": (name, data, "audio/wav")}, data=form)


def test_server_answers_in_the_requests_language(client):
    text = "这是我的笔记，不是录音。\n".encode("utf-8") * 5
    zh = _post(client, "notes.txt", text, trainee="wang", lang="zh")
    assert zh.status_code == 400
    assert zh.json() == {"error": f"notes.txt: {NOT_AUDIO_EN}", "code": "not_audio_text", "message": f"notes.txt：{NOT_AUDIO_ZH}"}
    en = _post(client, "notes.txt", text, trainee="wang", lang="en")
    assert en.status_code == 400 and en.json()["message"] == en.json()["error"] == f"notes.txt: {NOT_AUDIO_EN}"

    short = _post(client, "blip.wav", _wav(np.zeros(800, dtype=np.float32)), lang="zh")
    assert short.status_code == 400 and short.json()["code"] == "too_short"
    assert short.json()["message"] == "blip.wav：录音太短（0.05 秒）"

    marks = _post(client, "x.wav", _wav(np.zeros(800, dtype=np.float32)), script="，。！", lang="zh")
    assert marks.json()["code"] == "script_empty" and marks.json()["message"] == "讲稿里没有要读的字"

    bad_lang = _post(client, "x.wav", b"RIFF", lang="fr")  # the server's default language (zh) then
    assert bad_lang.status_code == 400 and bad_lang.json()["code"] == "bad_lang" and CJK.search(bad_lang.json()["message"])
    missing = client.get("/api/attempts/20250101-000000-abcdef", params={"lang": "en"})
    assert missing.status_code == 404 and missing.json()["code"] == "attempt_not_found"
    assert missing.json()["message"] == "no attempt '20250101-000000-abcdef'"
    assert client.get("/nope").json()["message"] == "找不到这个页面"


def test_refusals_before_routing_are_localized_too(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from speechcoach.app.server import create_app

    small = TestClient(create_app(tmp_path / "d", port=8765, max_upload_mb=0.001), base_url="http://127.0.0.1:8765")
    res = _post(small, "big.wav", b"x" * 5_000)
    assert res.status_code == 413 and res.json()["code"] == "upload_too_large"
    assert res.json()["message"] == "上传的文件太大（上限 0.001 MB）"
    res = small.post("/api/analyze?lang=en", files={"audio": ("big.wav", b"x" * 5_000, "audio/wav")})
    assert res.status_code == 413 and res.json()["message"] == res.json()["error"] == "upload too large (the limit is 0.001 MB)"
    res = small.get("/api/config", headers={"host": "evil.example"})
    assert res.status_code == 421 and res.json()["code"] == "host_refused" and res.json()["message"].startswith("拒绝访问")


def test_the_page_shows_the_servers_message():
    js = (REPO / "speechcoach" / "app" / "web" / "app.js").read_text(encoding="utf-8")
    assert "data.message || data.error" in js and "lang=${encodeURIComponent(state.lang)}" in js


def _wav(y: np.ndarray, sr: int = 16_000) -> bytes:
    import io

    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()
