"""The guidance files a trainer edits: validation at load, ``--guidance DIR``, the rubric's
``[report] guidance``, ``speechcoach guidance export|check``.

Each break is one a trainer makes (a typo, Chinese punctuation, Notepad's byte-order mark …);
every one must stop the command before any analysis with one line naming the file, exit 2.
Everything runs through the CLI on real recordings; nothing is mocked.
"""

from __future__ import annotations

import json
import pickle
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from speechcoach.precise import fillers, jargon
from speechcoach import guidance
from speechcoach.app.cli import app
from speechcoach.settings import Settings

from .conftest import SAMPLES

runner = CliRunner()
WAV = SAMPLES / "on_target_reimbursement.wav"
TXT = SAMPLES / "on_target_reimbursement.txt"
SHIPPED = guidance.SHIPPED


def exported(tmp_path: Path, name: str = "g") -> Path:
    """A trainer's folder: the shipped files copied by ``speechcoach guidance export``."""
    folder = tmp_path / name
    res = runner.invoke(app, ["guidance", "export", str(folder)])
    assert res.exit_code == 0, res.output
    return folder


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def one_line_error(res, file: Path) -> str:
    """The single stderr line of a refused command, checked: exit 2, names ``file``, no traceback."""
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"speechcoach: error: {file}: "), lines[0]
    assert "Traceback" not in res.output and "internal error" not in res.output
    return lines[0].removeprefix(f"speechcoach: error: {file}: ")


TITLE = 'title_zh = "语速适中：每分钟约 120 字"'

BREAKS = [
    # (file, old, new, the problem as reported)
    ("catalogue.toml", "title_zh", "titel_zh", "[pace] is missing title_zh (titel_zh is not a field: misspelt?)"),
    ("catalogue.toml", TITLE, 'title_zh ＝ "语速适中"',
     "line 14: invalid TOML (Expected '=' after a key in a key/value pair, column 10); full-width ＝ must be ASCII ="),
    ("catalogue.toml", TITLE, "title_zh = “语速适中”", 'line 14: invalid TOML (Invalid value, column 12); full-width “ ” must be ASCII " "'),
    ("catalogue.toml", TITLE, 'title_zh："语速适中：每分钟约 120 字"',  # the colon inside the quotes is text
     "line 14: invalid TOML (Expected '=' after a key in a key/value pair, column 9); full-width ： must be ASCII = (TOML joins a key and its value with =)"),
    ("catalogue.toml", TITLE, 'title_zh: "语速适中"',
     "line 14: invalid TOML (Expected '=' after a key in a key/value pair, column 9); use = between a key and its value, not :"),
    ("catalogue.toml", "[pace]", "【pace】", "line 10: invalid TOML (Invalid statement, column 1); full-width 【 】 must be ASCII [ ]"),
    ("catalogue.toml", "[pace]", "[speed]",
     "item [pace] is missing: findings point to it, so its id must stay (was it renamed [speed]?)"),
    ("catalogue.toml", "advice_en", "# advice_en", "[pace] is missing advice_en"),
    ("catalogue.toml", TITLE, 'title_zh = ["语速适中"]', '[pace] title_zh must be text in quotes, got the list ["语速适中"]'),
    ("catalogue.toml", ('tip_en = "Take a 120-character script and time yourself reading it in exactly one minute; repeat until the rhythm '
                        'feels natural."'), 'tip_en = "  "', "[pace] tip_en is empty"),
    ("catalogue.toml", 'checked = "self"', 'checked = "slef"', '[plain_words] checked must be "audio" or "self", got "slef"'),
    ("catalogue.toml", "tip_zh =", "tips_zh =", "[pace] is missing tip_zh (tips_zh is not a field: misspelt?)"),
    ("catalogue.toml", 'source = "四', 'note = "x"\nsource = "四', ("[pace] has an unknown field note (known: source, source_en, checked, "
                                                              "title_zh, title_en, advice_zh, advice_en, tip_zh, tip_en)")),
    ("jargon.toml", 'term = "实际缴费年限"', 'term = ""', "term 3 (line 19) has an empty term"),
    ("jargon.toml", 'plain = "您真正交过钱的年数"', 'plan = "您真正交过钱的年数"', "term 3 (line 19) has an unknown field plan (did you mean plain?)"),
    ("jargon.toml", 'term = "实际缴费年限"', 'term = "视同缴费年限"', "term 3 (line 19) repeats 视同缴费年限, already term 2: each spelling may belong to one term"),
    ("jargon.toml", '[[term]]\nterm = "个人账户', '[[terms]]\nterm = "个人账户', "unknown entry 'terms': each term is a [[term]] table (did you mean term?)"),
    ("fillers.toml", "max_per_minute = 4.0", "max_per_minute ＝ 4.0",
     "line 9: invalid TOML (Expected '=' after a key in a key/value pair, column 16); full-width ＝ must be ASCII ="),
    ("fillers.toml", "max_per_minute = 4.0", 'max_per_minute = "4"', 'max_per_minute must be a number, got the text "4"'),
    ("fillers.toml", '"就是",', '"就是"，', "line 13: invalid TOML (Unclosed array, column 9); full-width ， must be ASCII ,"),
    ("fillers.toml", '    "嗯",', '    "",', 'always has an empty word ("")'),
]


@pytest.mark.parametrize("name,old,new,problem", BREAKS, ids=[f"{b[0]}:{b[3][:30]}" for b in BREAKS])
def test_each_break_stops_analyze_with_one_line_naming_the_file(tmp_path, name, old, new, problem):
    folder = exported(tmp_path)
    edit(folder / name, old, new)
    res = runner.invoke(app, ["analyze", str(WAV), "--guidance", str(folder)])
    assert one_line_error(res, folder / name) == problem
    assert res.stdout == ""


def test_an_empty_catalogue_is_refused(tmp_path):
    folder = exported(tmp_path)
    (folder / "catalogue.toml").write_text("", encoding="utf-8")
    res = runner.invoke(app, ["guidance", "check", str(folder)])
    assert one_line_error(res, folder / "catalogue.toml").startswith("has no items (it needs at least [pace], [pauses]")


def test_english_text_is_checked_for_a_chinese_report(tmp_path):
    """advice_en missing used to fail only with --lang en; both languages are checked up front."""
    folder = exported(tmp_path)
    edit(folder / "catalogue.toml", "advice_en", "# advice_en")
    res = runner.invoke(app, ["analyze", str(WAV), "--lang", "zh", "--guidance", str(folder)])
    assert one_line_error(res, folder / "catalogue.toml") == "[pace] is missing advice_en"


def test_a_byte_order_mark_is_accepted_in_every_file(tmp_path):
    folder = exported(tmp_path)
    for name in guidance.FILES:
        p = folder / name
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    res = runner.invoke(app, ["guidance", "check", str(folder)])
    assert res.exit_code == 0, res.output
    assert res.stdout.count(": ok, ") == 3


def test_utf16_and_gbk_files_are_named(tmp_path):
    folder = exported(tmp_path)
    p = folder / "jargon.toml"
    p.write_bytes(p.read_text(encoding="utf-8").encode("utf-16"))
    res = runner.invoke(app, ["guidance", "check", str(folder)])
    assert one_line_error(res, p) == "saved as UTF-16 (Notepad's 'Unicode'): save it as UTF-8"
    p.write_bytes((SHIPPED / "jargon.toml").read_text(encoding="utf-8").encode("gbk"))
    res = runner.invoke(app, ["guidance", "check", str(folder)])
    assert one_line_error(res, p).endswith("not UTF-8 text (saved as GBK or ANSI?): save it as UTF-8")


def test_guidance_folder_problems(tmp_path):
    res = runner.invoke(app, ["analyze", str(WAV), "--guidance", str(tmp_path / "nope")])
    assert one_line_error(res, tmp_path / "nope") == "guidance folder not found"
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(app, ["analyze", str(WAV), "--guidance", str(empty)])
    assert one_line_error(res, empty).startswith("holds none of the guidance files catalogue.toml, jargon.toml, fillers.toml")
    (empty / "catalog.toml").write_text("", encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(WAV), "--guidance", str(empty)])
    assert one_line_error(res, empty / "catalog.toml").startswith("is not a guidance file name: rename it catalogue.toml")


def test_a_broken_shipped_file_is_refused_the_same_way(tmp_path, monkeypatch):
    """A trainer who edits the installed package gets the same one line (not an internal error)."""
    copy = tmp_path / "installed"
    copy.mkdir()
    for name in guidance.FILES:
        (copy / name).write_bytes((SHIPPED / name).read_bytes())
    edit(copy / "catalogue.toml", "title_zh", "titel_zh")
    caches = (guidance._catalogue_raw, guidance._shipped_ids, guidance.catalogue, guidance.jargon_entries, guidance.filler_lists)
    monkeypatch.setattr(guidance, "SHIPPED", copy)
    for f in caches:
        f.cache_clear()
    try:
        res = runner.invoke(app, ["analyze", str(WAV)])
        assert one_line_error(res, copy / "catalogue.toml") == "[pace] is missing title_zh (titel_zh is not a field: misspelt?)"
    finally:
        monkeypatch.undo()
        for f in caches:
            f.cache_clear()


def test_batch_stops_before_any_work(tmp_path):
    folder = exported(tmp_path)
    edit(folder / "catalogue.toml", "title_zh", "titel_zh")
    out = tmp_path / "out"
    res = runner.invoke(app, ["batch", str(WAV), str(SAMPLES / "slow_unemployment.wav"), "-o", str(out), "--guidance", str(folder)])
    one_line_error(res, folder / "catalogue.toml")
    assert not out.exists()


def test_check_exit_2_and_the_junit_file_names_the_guidance_file(tmp_path):
    folder = exported(tmp_path)
    edit(folder / "catalogue.toml", 'checked = "self"', 'checked = "slef"')
    junit = tmp_path / "ci" / "check.xml"
    res = runner.invoke(app, ["check", str(WAV), "--guidance", str(folder), "--junit", str(junit)])
    problem = one_line_error(res, folder / "catalogue.toml")
    assert res.stdout == ""
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case.get("name") == str(folder / "catalogue.toml")
    assert case.find("error").get("message") == problem
    res = runner.invoke(app, ["check", str(WAV), "--guidance", str(folder)])  # without --junit: the line alone
    one_line_error(res, folder / "catalogue.toml")


@pytest.mark.parametrize("command", [["serve", "--no-browser", "--port", "1"], ["demo"]])
def test_serve_and_demo_refuse_a_broken_folder(tmp_path, command):
    folder = exported(tmp_path)
    edit(folder / "jargon.toml", 'term = "实际缴费年限"', 'term = ""')
    res = runner.invoke(app, [*command, "--guidance", str(folder)])
    assert one_line_error(res, folder / "jargon.toml") == "term 3 (line 19) has an empty term"


def _microphone_playing(path: Path):
    """A stand-in for the ``sounddevice`` module: one input device that delivers ``path``
    (16 kHz mono, as ``record`` asks for) in 0.1 s blocks, as fast as they are taken, and the
    seconds of it to record."""
    import threading
    import types

    from speechcoach.audio import load

    y = load(path).samples

    class InputStream:
        def __init__(self, *, samplerate, channels, dtype, device, blocksize, callback):
            assert samplerate == 16_000 and channels == 1
            self.blocksize, self.callback = blocksize, callback

        def __enter__(self):
            def play() -> None:
                for i in range(0, len(y), self.blocksize):
                    block = y[i : i + self.blocksize]
                    self.callback(block[:, None], len(block), None, None)

            threading.Thread(target=play, daemon=True).start()
            return self

        def __exit__(self, *exc):
            return False

    device = {"name": "test microphone", "max_input_channels": 1, "max_output_channels": 0, "default_samplerate": 16000.0}
    module = types.SimpleNamespace(query_devices=lambda: [device], default=types.SimpleNamespace(device=(0, -1)), InputStream=InputStream)
    return module, (len(y) // 1600) / 10  # whole blocks: never more than it delivers


def test_record_takes_guidance_like_analyze(tmp_path, monkeypatch):
    """``record --analyze --guidance DIR``: the folder is checked before recording starts (one
    line naming the file, no recording made) and its texts reach the report."""
    import sys

    broken = exported(tmp_path, "broken")
    edit(broken / "jargon.toml", 'term = "实际缴费年限"', 'term = ""')
    wav = tmp_path / "take.wav"
    res = runner.invoke(app, ["record", str(wav), "--seconds", "1", "--analyze", "--guidance", str(broken)])
    assert one_line_error(res, broken / "jargon.toml") == "term 3 (line 19) has an empty term"
    assert not wav.exists()
    res = runner.invoke(app, ["record", str(wav), "--seconds", "1", "--guidance", str(broken)])
    assert res.exit_code == 2 and res.stderr == "speechcoach: error: --script, --rubric and --guidance are used with --analyze\n"

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "catalogue.toml").write_bytes((SHIPPED / "catalogue.toml").read_bytes())
    edit(mine / "catalogue.toml", TITLE, 'title_zh = "慢慢说，每分钟一百二十字"')
    microphone, seconds = _microphone_playing(WAV)
    monkeypatch.setitem(sys.modules, "sounddevice", microphone)
    res = runner.invoke(app, ["record", str(wav), "--seconds", str(seconds), "--analyze", "-s", str(TXT), "--guidance", str(mine)])
    assert res.exit_code == 0, res.output
    assert "慢慢说，每分钟一百二十字" in res.stdout and "语速适中：每分钟约 120 字" not in res.stdout


def test_rubric_names_a_folder_relative_to_itself(tmp_path, monkeypatch):
    course = tmp_path / "course"
    folder = exported(course, "mine")
    edit(folder / "fillers.toml", "max_per_minute = 4.0", "max_per_minute = 0")
    rubric = course / "rubric.toml"
    rubric.write_text('[report]\nguidance = "mine"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the rubric's folder
    res = runner.invoke(app, ["analyze", str(WAV), "--rubric", str(rubric)])
    assert one_line_error(res, folder / "fillers.toml") == "max_per_minute must be more than 0 and at most 600, got 0"
    rubric.write_text('[report]\nguidance = "elsewhere"\n', encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(WAV), "--rubric", str(rubric)])
    assert one_line_error(res, rubric) == f'[report] guidance: folder "elsewhere" not found (looked for {course / "elsewhere"})'


def test_edited_guidance_reaches_the_report_and_the_flag_wins_over_the_rubric(tmp_path):
    """Only the edited files are in the folder; the others come from speechcoach."""
    broken = exported(tmp_path, "broken")
    edit(broken / "catalogue.toml", "title_zh", "titel_zh")
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[report]\nguidance = "broken"\n', encoding="utf-8")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "catalogue.toml").write_bytes((SHIPPED / "catalogue.toml").read_bytes())
    edit(mine / "catalogue.toml", TITLE, 'title_zh = "慢慢说，每分钟一百二十字"')
    edit(mine / "catalogue.toml", "title_zh = \"仪态与距离\"", "title_zh = \"站姿\"")
    (mine / "jargon.toml").write_text('[[term]]\nterm = "出院小结"\nplain = "出院时医生写的那张病情说明"\n', encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(WAV), "-s", str(TXT), "-f", "json", "--rubric", str(rubric), "--guidance", str(mine)])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["guidance"]["pace"]["title"] == "慢慢说，每分钟一百二十字"
    assert "站姿" in [g["title"] for g in report["self_check"]]
    assert [j["term"] for j in report["jargon"]] == ["出院小结"]
    assert report["guidance"]["plain_words"]["title"] == "把政策术语换成大白话"


def test_batch_workers_use_the_folder_and_an_edit_redoes_the_reports(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    cat = mine / "catalogue.toml"
    cat.write_bytes((SHIPPED / "catalogue.toml").read_bytes())
    edit(cat, TITLE, 'title_zh = "第一版标题"')
    out = tmp_path / "out"
    wavs = [str(WAV), str(SAMPLES / "slow_unemployment.wav")]
    res = runner.invoke(app, ["batch", *wavs, "-o", str(out), "-j", "2", "--guidance", str(mine)])
    assert res.exit_code == 0, res.output
    reports = sorted((out / "reports").rglob("*.json"))
    assert len(reports) == 2
    assert all(json.loads(p.read_text(encoding="utf-8"))["guidance"]["pace"]["title"] == "第一版标题" for p in reports)
    res = runner.invoke(app, ["batch", *wavs, "-o", str(out), "-j", "2", "--guidance", str(mine)])
    assert "已分析 0 段，未变化 2 段" in res.stderr  # a zh run
    edit(cat, 'title_zh = "第一版标题"', 'title_zh = "第二版标题"')
    res = runner.invoke(app, ["batch", *wavs, "-o", str(out), "-j", "2", "--guidance", str(mine)])
    assert "已分析 2 段，未变化 0 段" in res.stderr
    assert all(json.loads(p.read_text(encoding="utf-8"))["guidance"]["pace"]["title"] == "第二版标题" for p in reports)


def test_settings_with_a_folder_pickle_and_the_loaders_follow_it(tmp_path):
    folder = exported(tmp_path)
    edit(folder / "fillers.toml", "max_per_minute = 4.0", "max_per_minute = 6")
    edit(folder / "fillers.toml", '    "额",\n', "")
    s = Settings(guidance=str(folder))
    assert pickle.loads(pickle.dumps(s)) == s
    assert fillers.rules(s.guidance).max_per_minute == 6.0
    assert "额" not in fillers.rules(s.guidance).always and "额" in fillers.rules().always
    assert len(jargon.catalogue(s.guidance)) == len(jargon.catalogue())


def test_export_keeps_edits_without_force(tmp_path):
    folder = exported(tmp_path)
    edit(folder / "catalogue.toml", TITLE, 'title_zh = "我的标题"')
    res = runner.invoke(app, ["guidance", "export", str(folder)])
    assert res.exit_code == 0, res.output
    assert f"kept {folder / 'catalogue.toml'}, {folder / 'jargon.toml'}, {folder / 'fillers.toml'} (already there; give --force" in res.stderr
    assert "wrote" not in res.stderr
    assert "我的标题" in (folder / "catalogue.toml").read_text(encoding="utf-8")
    res = runner.invoke(app, ["guidance", "export", str(folder), "--force"])
    assert res.exit_code == 0
    assert (folder / "catalogue.toml").read_bytes() == (SHIPPED / "catalogue.toml").read_bytes()


def test_export_brings_back_a_deleted_file_and_keeps_the_edited_one(tmp_path):
    """The README's way: delete the files left unchanged; exporting again copies only those."""
    folder = exported(tmp_path)
    edit(folder / "catalogue.toml", TITLE, 'title_zh = "我的标题"')
    (folder / "jargon.toml").unlink()
    (folder / "fillers.toml").unlink()
    res = runner.invoke(app, ["guidance", "export", str(folder)])
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    assert lines[0] == f"speechcoach: wrote {folder / 'jargon.toml'}, {folder / 'fillers.toml'}"
    assert lines[1].startswith(f"speechcoach: kept {folder / 'catalogue.toml'} (already there")
    assert "我的标题" in (folder / "catalogue.toml").read_text(encoding="utf-8")
    assert (folder / "jargon.toml").read_bytes() == (SHIPPED / "jargon.toml").read_bytes()


def test_export_only_the_files_named(tmp_path):
    folder = tmp_path / "g"
    res = runner.invoke(app, ["guidance", "export", str(folder), "jargon", "fillers.toml"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in folder.iterdir()) == ["fillers.toml", "jargon.toml"]
    res = runner.invoke(app, ["guidance", "export", str(folder), "catalog"])
    assert res.exit_code == 2
    assert one_line_error(res, "catalog").startswith("is not a guidance file: give catalogue.toml, jargon.toml, fillers.toml")
    assert not (folder / "catalogue.toml").exists()


def test_guidance_check_lists_where_each_file_comes_from(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "fillers.toml").write_bytes((SHIPPED / "fillers.toml").read_bytes())
    res = runner.invoke(app, ["guidance", "check", str(mine)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("catalogue.toml: ok, 11 items (shipped: ")
    assert lines[2] == f"fillers.toml: ok, 20 filler words (yours: {mine / 'fillers.toml'})"


def test_export_refuses_a_dir_named_like_a_guidance_file(tmp_path):
    folder = tmp_path / "g3" / "jargon.toml"  # the folder is missing: this would become a folder "jargon.toml"
    res = runner.invoke(app, ["guidance", "export", str(folder)])
    rest = one_line_error(res, folder)
    assert rest.endswith(f"did you mean: guidance export {tmp_path / 'g3'} jargon.toml?"), rest
    assert not (tmp_path / "g3").exists()


def test_export_accepts_a_tab_completed_path_inside_dir(tmp_path):
    folder = tmp_path / "g"
    res = runner.invoke(app, ["guidance", "export", str(folder), str(folder / "jargon.toml")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in folder.iterdir()) == ["jargon.toml"]
    other = tmp_path / "other" / "fillers.toml"
    res = runner.invoke(app, ["guidance", "export", str(folder), str(other)])
    assert one_line_error(res, other).startswith(f"is not in {folder}"), res.stderr
    res = runner.invoke(app, ["guidance", "export", str(folder), str(folder / "catalog.toml")])
    assert one_line_error(res, folder / "catalog.toml").startswith("is not a guidance file")
    assert sorted(p.name for p in folder.iterdir()) == ["jargon.toml"]


def test_force_says_replaced_for_a_file_that_was_there(tmp_path):
    folder = tmp_path / "g"
    runner.invoke(app, ["guidance", "export", str(folder), "jargon"])
    res = runner.invoke(app, ["guidance", "export", str(folder), "--force"])
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    assert lines[0] == f"speechcoach: wrote {folder / 'catalogue.toml'}, {folder / 'fillers.toml'}"
    assert lines[1] == f"speechcoach: replaced {folder / 'jargon.toml'} with the shipped version (--force)"
