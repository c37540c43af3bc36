"""Script files as Windows tools save them: UTF-8 (BOM or not), UTF-16 with a BOM, GBK/GB18030."""

from __future__ import annotations

import codecs
import json
import shutil

import pytest
from typer.testing import CliRunner

from speechcoach.app.cli import app
from speechcoach.app.discovery import find_script
from speechcoach.errors import ScriptError
from speechcoach.analysis.pipeline import decode_script, read_script

from .conftest import NOT_TEXT, SAMPLES

runner = CliRunner()
SAMPLE = SAMPLES / "on_target_retirement.wav"
TEXT = (SAMPLES / "on_target_retirement.txt").read_text(encoding="utf-8")
NOT_TEXT_EN = "script is not text in UTF-8, UTF-16 or GB18030 (GBK)"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # a BOM in this machine's byte order, as Notepad's "Unicode" writes one
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("gbk"),  # "ANSI" on Chinese Windows
        TEXT.encode("gb18030"),
        TEXT.replace("\n", "\r\n").encode("gbk"),  # Notepad's line ends
    ],
    ids=["utf-8", "utf-8-bom", "utf-16", "utf-16-le", "utf-16-be", "gbk", "gb18030", "gbk-crlf"],
)
def test_every_accepted_encoding_gives_the_same_text(data):
    assert decode_script(data).replace("\r\n", "\n") == TEXT


def test_gb18030_beyond_gbk_and_plain_ascii_in_it():
    text = "请到𠀀号窗口办理，tab\there。"  # 𠀀 (U+20000) is a four-byte GB18030 code
    assert decode_script(text.encode("gb18030")) == text
    assert decode_script("café".encode("gb18030")) == "café"  # printable, no CJK: still text


@pytest.mark.parametrize(
    "data",
    [
        NOT_TEXT,  # a PNG header: \x89P is a GB18030 pair, then \x1a and NULs
        b"\x00\x01\x02\x03\xff\xfe",  # GB18030 cannot decode it (and it is not UTF-8)
        "请出示社保卡".encode("gbk") + b"\x00\x00",  # decodable as GB18030, but with NULs
        "caf\xe9".encode("latin-1"),  # a lead byte with nothing after it
        codecs.BOM_UTF16_LE + "退休".encode("utf-16-le") + b"\x00",  # an odd byte after a UTF-16 BOM
        codecs.BOM_UTF16_LE + "\x00\x01认证".encode("utf-16-le"),  # UTF-16 with control characters
        codecs.BOM_UTF8 + b"\xc3\x28",  # a UTF-8 BOM, then bytes that are not UTF-8
    ],
    ids=["png", "binary", "gbk-with-nul", "latin-1", "utf-16-odd", "utf-16-controls", "utf-8-bom-broken"],
)
def test_bytes_that_are_not_text_are_refused(data, tmp_path):
    assert decode_script(data) is None
    path = tmp_path / "s.txt"
    path.write_bytes(data)
    with pytest.raises(ScriptError) as info:
        read_script(path)
    assert (info.value.code, info.value.problem) == ("script_not_text", NOT_TEXT_EN)


def _json_report(tmp_path, name: str, data: bytes) -> dict:
    script = tmp_path / name
    script.write_bytes(data)
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(script), "-f", "json", "--lang", "en"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_gbk_and_utf16_scripts_give_the_utf8_result(tmp_path):
    utf8 = _json_report(tmp_path, "utf8.txt", TEXT.encode("utf-8"))
    assert utf8["characters"]["source"] == "script"
    for name, data in (("gbk.txt", TEXT.encode("gbk")), ("utf16.txt", TEXT.encode("utf-16"))):
        other = _json_report(tmp_path, name, data)
        assert other["characters"]["source"] == "script", name
        assert other["characters"]["count"] == utf8["characters"]["count"], name  # exact: the same text
        assert other["rate"]["cpm"] == pytest.approx(utf8["rate"]["cpm"], abs=0.1), name
        assert other["script"] == utf8["script"], name


def test_binary_script_is_refused_in_one_line_exit_2(tmp_path):
    script = tmp_path / "scan.txt"
    script.write_bytes(NOT_TEXT + bytes(range(256)))
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--script", str(script), "--lang", "en"])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [f"speechcoach: error: {script}: {NOT_TEXT_EN}"]
    assert "Traceback" not in res.output



# --------------------------------------------------------------------------- NAME.txt beside NAME.wav


def _analyze(*args: str) -> dict:
    res = runner.invoke(app, ["analyze", *args, "-f", "json", "--lang", "en"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_analyze_picks_up_the_script_beside_the_recording_and_names_it(tmp_path):
    wav = tmp_path / "talk.wav"
    shutil.copy(SAMPLE, wav)
    alone = _analyze(str(wav))
    assert alone["characters"]["source"] == "estimate" and "script_path" not in alone["input"]

    beside = tmp_path / "talk.txt"
    beside.write_bytes(TEXT.encode("gbk"))  # as Notepad saves it on Chinese Windows
    given = _analyze(str(SAMPLE), "--script", str(SAMPLES / "on_target_retirement.txt"))
    picked = _analyze(str(wav))
    assert picked["characters"]["source"] == "script" and picked["input"]["script_path"] == str(beside)
    assert picked["characters"]["count"] == given["characters"]["count"]  # exact: the same text
    assert picked["rate"]["cpm"] == pytest.approx(given["rate"]["cpm"], abs=0.1)

    res = runner.invoke(app, ["analyze", str(wav), "--lang", "en"])  # the terminal report says which file
    assert res.exit_code == 0, res.output
    assert f"Script file: {beside}" in res.stdout.splitlines()
    assert "counted from the script" in res.stdout
    res = runner.invoke(app, ["analyze", str(wav), "-f", "md", "--lang", "zh"])
    assert res.exit_code == 0 and f"- **讲稿文件**：`{beside}`" in res.stdout.splitlines(), res.stdout

    other = tmp_path / "other.txt"  # --script wins over the file beside
    other.write_text("您好。", encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(wav), "--script", str(other), "-f", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["input"]["script_path"] == str(other)


def test_a_bad_script_beside_the_recording_is_one_line_exit_2(tmp_path):
    wav = tmp_path / "talk.wav"
    shutil.copy(SAMPLE, wav)
    (tmp_path / "talk.txt").write_bytes(NOT_TEXT)
    res = runner.invoke(app, ["analyze", str(wav), "--lang", "en"])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [f"speechcoach: error: {tmp_path / 'talk.txt'}: {NOT_TEXT_EN}"]


def test_no_script_ignores_the_script_beside_the_recording(tmp_path):
    wav = tmp_path / "talk.wav"
    shutil.copy(SAMPLE, wav)
    (tmp_path / "talk.txt").write_bytes(NOT_TEXT)  # not even read
    res = runner.invoke(app, ["analyze", str(wav), "--no-script", "-f", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["characters"]["source"] != "script" and "script_path" not in report["input"]
    res = runner.invoke(app, ["analyze", str(wav), "--no-script", "--script", str(tmp_path / "talk.txt")])
    assert res.exit_code == 2 and "either --script or --no-script" in res.stderr


def test_batch_reports_name_the_script_they_counted(tmp_path):
    folder = tmp_path / "wang"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "talk.wav")
    (folder / "talk.txt").write_bytes(TEXT.encode("utf-16"))
    out = tmp_path / "out"
    res = runner.invoke(app, ["batch", str(folder), "--out", str(out), "-j", "1"])
    assert res.exit_code == 0, res.output
    (report,) = [json.loads(p.read_text(encoding="utf-8")) for p in (out / "reports").rglob("*.json")]
    assert report["characters"]["source"] == "script" and report["input"]["script_path"] == str(folder / "talk.txt")


def test_a_recording_is_never_its_own_script(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("您好。", encoding="utf-8")
    assert find_script(notes) is None
    assert find_script(tmp_path / "notes.wav") == notes
