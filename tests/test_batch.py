"""``speechcoach batch``: discovery, pairing, bad files, resumable state, summaries and the index page.

The analysis is real (the sample recordings), nothing is mocked. A cohort of nine recordings:
six good ones in two trainee folders (one with a Chinese name) and three bad ones.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from speechcoach.app.batch import CSV_HEADER, STATE_DIR, Progress, run_batch
from speechcoach.app.cli import app
from speechcoach.app.discovery import assign_report_names, discover, find_script, plan, trainee_of
from speechcoach.analysis.metrics import shown_cv
from speechcoach.settings import Settings

from .conftest import SAMPLES

runner = CliRunner()

GOOD = {
    "张三": ["on_target_retirement", "slow_unemployment", "fast_remote_care"],
    "bob": ["on_target_reimbursement", "uneven_transfer", "no_pauses_card_loss"],
}


def make_cohort(root: Path) -> Path:
    """Nine recordings: six good ones with scripts, three bad ones (trainee ``carol``)."""
    for trainee, stems in GOOD.items():
        d = root / trainee
        d.mkdir(parents=True)
        for stem in stems:
            shutil.copy(SAMPLES / f"{stem}.wav", d / f"{stem}.wav")
            shutil.copy(SAMPLES / f"{stem}.txt", d / f"{stem}.txt")
    bad = root / "carol"
    bad.mkdir()
    (bad / "notes.wav").write_text("这不是录音，只是一段文字。\n" * 20, encoding="utf-8")
    (bad / "empty.wav").write_bytes(b"")
    (bad / "truncated.wav").write_bytes((SAMPLES / "slow_unemployment.wav").read_bytes()[:30])
    return root


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return make_cohort(tmp_path_factory.mktemp("cohort"))


@pytest.fixture(scope="module")
def first_run(cohort, tmp_path_factory):
    """One full batch with two worker processes, shared by several tests (read-only)."""
    out = tmp_path_factory.mktemp("out")
    res = runner.invoke(app, ["batch", str(cohort), "--out", str(out), "--jobs", "2", "--lang", "en"])
    return out, res


def rows_of(out: Path) -> list[dict]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))["recordings"]


def stable(out: Path) -> dict:
    """summary.json without its timestamp, for comparing runs."""
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    s.pop("created")
    return s


def last_run(out: Path) -> dict:
    return json.loads((out / STATE_DIR / "last-run.json").read_text(encoding="utf-8"))


def test_nine_rows_errors_explained_exit_2(first_run):
    out, res = first_run
    assert res.exit_code == 2, res.output
    rows = rows_of(out)
    assert len(rows) == 9
    errors = {Path(r["file"]).name: r["error"] for r in rows if r["error"]}
    assert set(errors) == {"notes.wav", "empty.wav", "truncated.wav"}
    assert "empty" in errors["empty.wav"]
    assert "not an audio file" in errors["notes.wav"]
    assert "truncated" in errors["truncated.wav"] or "corrupt" in errors["truncated.wav"]
    assert all("\n" not in e for e in errors.values())
    # each bad file is one line on stderr, plus the final line
    lines = res.stderr.strip().splitlines()
    assert sum(line.startswith("speechcoach: error: ") for line in lines) == 3
    assert re.search(r"9 recordings: 6 analysed, 0 unchanged, 3 failed", lines[-1])


def test_good_reports_written_per_trainee(first_run):
    out, _ = first_run
    rows = {Path(r["file"]).stem: r for r in rows_of(out) if not r["error"]}
    assert len(rows) == 6
    for trainee, stems in GOOD.items():
        for stem in stems:
            row = rows[stem]
            assert row["trainee"] == trainee
            report = json.loads((out / "reports" / trainee / f"{stem}.json").read_text(encoding="utf-8"))
            assert report["schema"] == "speechcoach.report/1"
            assert report["characters"]["source"] == "script"
            assert row["cpm"] == round(report["rate"]["cpm"], 1) and row["verdict"] == report["rate"]["verdict"]
            assert row["report_json"] == f"reports/{trainee}/{stem}.json"
            for fmt in ("json", "html") if row["report_html"] else ("json",):
                assert (out / "reports" / trainee / f"{stem}.{fmt}").is_file()
    assert rows["fast_remote_care"]["verdict"] == "fast" and rows["slow_unemployment"]["verdict"] == "slow"
    assert rows["on_target_retirement"]["verdict"] == "on_target"


def test_csv_has_bom_and_readable_chinese(first_run):
    out, _ = first_run
    raw = (out / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].split(",") == list(CSV_HEADER)
    assert len(lines) == 10
    assert sum(line.startswith("张三,") for line in lines) == 3


def test_csv_names_each_recordings_script(first_run, cohort):
    """``script`` after ``file``: the script each recording was counted with, named as ``file``
    is; empty for a recording without one (carol's)."""
    import csv as _csv

    out, _ = first_run
    rows = list(_csv.DictReader((out / "summary.csv").read_text(encoding="utf-8-sig").splitlines()))
    header = list(CSV_HEADER)
    assert header[header.index("file") + 1] == "script"
    for row in rows:
        wav = Path(row["file"])
        if wav.parent.name == "carol":
            assert row["script"] == ""
        else:
            assert row["script"] == str(wav.with_suffix(".txt"))  # beside it, named the same way
    assert sum(bool(r["script"]) for r in rows) == 6  # exact: the six good recordings
    assert {r["script"] for r in rows_of(out)} == {r["script"] for r in rows}  # summary.json too


def test_index_is_self_contained_and_links_every_report(first_run):
    out, _ = first_run
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<table" in page
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", page)
    assert not re.search(r"https?://", page.replace("http://www.w3.org/2000/svg", ""))
    links = re.findall(r'<a href="([^"]+)"', page)
    assert len(links) == 6
    from urllib.parse import unquote

    assert all((out / unquote(h)).is_file() for h in links)
    assert "Progress per trainee" in page and "张三" in page


def test_index_progress_says_how_many_attempts_failed_and_explains_its_colours(first_run):
    """The tester's case: "li: 4" attempts beside "1/3" in band: a trainee with a failed recording
    shows how many were analysed and how many failed, the in-band count says it is out of the
    analysed ones, and the colours of the rate change are explained under the table."""
    from speechcoach.locales import strings

    from speechcoach.render.index import render_index

    out, _ = first_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any(t["failed"] and not t["analysed"] for t in s["trainees"])  # carol: all failed
    mixed = next(t for t in s["trainees"] if t["analysed"] and not t["failed"])
    mixed.update(attempts=mixed["attempts"] + 1, failed=1)  # as if one more of theirs were broken
    page = render_index(s)
    L = strings(s["lang"])["batch"]
    for t in s["trainees"]:
        detail = L["attempts_detail"].format(analysed=t["analysed"], failed=t["failed"])
        assert (detail in page) == bool(t["failed"]), t["trainee"]
    assert f'title="{L["in_band_of"]}"' in page
    progress = page.split(f"<h2>{L['progress']}</h2>")[1].split("<h2>")[0]
    target = s["settings"]["target_cpm"]
    assert L["change_closer"].format(target=f"{target:g}") in progress.split("</table>")[1]  # the legend, under the table
    assert L["change_further"] in progress.split("</table>")[1]


def test_index_fits_a_phone(first_run):
    """At 390 px the page does not scroll sideways: the tables scroll inside their own box and
    the chart scales to the screen."""
    import os

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = os.environ.get("SPEECHCOACH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("chromium is not installed")
    out, _ = first_run
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 800})
            page.goto((out / "index.html").as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert page.evaluate("document.querySelector('svg').getBoundingClientRect().width") <= 390
            boxes = page.evaluate("Array.from(document.querySelectorAll('.wide')).map(e => [e.clientWidth, e.scrollWidth])")
            assert len(boxes) == 2 and all(cw <= 390 for cw, _ in boxes)
            assert any(sw > cw for cw, sw in boxes), "the tables were expected to be wider than a phone"
        finally:
            browser.close()


def test_summary_json_progress(first_run):
    out, _ = first_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["schema"] == "speechcoach.batch/1"
    assert s["counts"]["recordings"] == 9 and s["counts"]["failed"] == 3
    by = {t["trainee"]: t for t in s["trainees"]}
    assert by["张三"]["attempts"] == 3 and by["carol"]["analysed"] == 0
    assert "first" in by["bob"] and "latest" in by["bob"]


def test_second_run_skips_everything_then_force_redoes(tmp_path):
    cohort = make_cohort(tmp_path / "in")
    out = tmp_path / "out"
    runner.invoke(app, ["batch", str(cohort), "--out", str(out), "--jobs", "1", "--lang", "en"])
    before = stable(out)
    res = runner.invoke(app, ["batch", str(cohort), "--out", str(out), "--jobs", "1", "--lang", "en"])
    assert res.exit_code == 2
    # the summary line adds up: remembered failures count as failed, not as unchanged
    assert re.search(r"9 recordings: 0 analysed, 6 unchanged, 3 failed", res.stderr.strip().splitlines()[-1])
    log = last_run(out)
    assert log["counts"]["analysed"] == 0 and log["counts"]["skipped"] == 9
    assert set(log["recordings"].values()) == {"skipped", "skipped-failed"}
    assert stable(out) == before
    # a changed script is noticed; a missing output makes the recording redo
    (cohort / "bob" / "uneven_transfer.txt").write_text(
        (SAMPLES / "uneven_transfer.txt").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    (out / "reports" / "张三" / "slow_unemployment.json").unlink()
    res = runner.invoke(app, ["batch", str(cohort), "--out", str(out), "--jobs", "1", "--lang", "en"])
    log = last_run(out)
    assert log["counts"]["analysed"] == 2 and log["counts"]["skipped"] == 7
    assert (out / "reports" / "张三" / "slow_unemployment.json").is_file()
    res = runner.invoke(app, ["batch", str(cohort), "--out", str(out), "--jobs", "1", "--lang", "en", "--force"])
    assert last_run(out)["counts"] == {"total": 9, "analysed": 6, "skipped": 0, "failed": 3, "not_finished": 0}


def test_half_then_all_equals_one_run(cohort, tmp_path):
    out0 = tmp_path / "uninterrupted"
    runner.invoke(app, ["batch", str(cohort), "--out", str(out0), "--jobs", "1", "--lang", "en"])
    files = sorted(str(p) for p in cohort.rglob("*.wav"))
    out = tmp_path / "resumed"
    res = runner.invoke(app, ["batch", *files[: len(files) // 2], "--out", str(out), "--jobs", "1", "--lang", "en"])
    assert len(rows_of(out)) == len(files) // 2
    res = runner.invoke(app, ["batch", str(cohort), "--out", str(out), "--jobs", "1", "--lang", "en"])
    assert res.exit_code == 2
    assert last_run(out)["counts"]["skipped"] == len(files) // 2
    assert stable(out) == stable(out0)
    assert (out / "summary.csv").read_bytes() == (out0 / "summary.csv").read_bytes()


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_keeps_finished_results(cohort, tmp_path, jobs):
    out = tmp_path / "out"
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.done == 2:
            raise KeyboardInterrupt

    res = run_batch([cohort], out, settings=Settings(lang="en"), jobs=jobs, progress=progress)
    assert res.interrupted and res.exit_code == 130
    done = len(rows_of(out))
    assert 2 <= done < 9
    assert len(list((out / STATE_DIR).glob("*.json"))) - 1 == done  # one state file each + last-run.json
    assert last_run(out)["interrupted"] is True
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] is True and summary["missing"] == 9 - done
    assert f"Recordings without a result yet, not listed here: {9 - done} of 9." in (out / "index.html").read_text(encoding="utf-8")
    res = run_batch([cohort], out, settings=Settings(lang="en"), jobs=1)
    assert not res.interrupted and res.skipped == done and len(res.rows) == 9 and res.exit_code == 2
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] is False and summary["missing"] == 0
    assert "interrupted" not in (out / "index.html").read_text(encoding="utf-8")


def test_interrupted_rerun_keeps_the_earlier_valid_results(tmp_path):
    """A --force run stopped early lists every recording with a valid result: those it redid,
    and the earlier result of those it did not get to, unless their input changed since."""
    cohort = make_cohort(tmp_path / "in")
    out = tmp_path / "out"
    full = run_batch([cohort], out, settings=Settings(lang="en"), jobs=1)
    assert not full.interrupted and len(full.rows) == 9
    csv_before = (out / "summary.csv").read_bytes()

    def progress(p: Progress) -> None:
        if p.done == 2:
            raise KeyboardInterrupt

    res = run_batch([cohort], out, settings=Settings(lang="en"), jobs=1, force=True, progress=progress)
    assert res.interrupted and len(res.statuses) == 2 and res.exit_code == 130
    assert res.missing == 0 and len(res.rows) == 9
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] is True and summary["missing"] == 0 and len(summary["recordings"]) == 9
    assert (out / "summary.csv").read_bytes() == csv_before  # same inputs, same analysis: same rows
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "This run was interrupted before it finished" in page and "without a result yet" not in page

    changed = cohort / "张三" / "slow_unemployment.txt"  # its earlier result no longer counts
    changed.write_text(changed.read_text(encoding="utf-8") + "谢谢。\n", encoding="utf-8")
    res = run_batch([cohort], out, settings=Settings(lang="en"), jobs=1, force=True, progress=progress)
    assert res.interrupted and len(res.statuses) == 2
    wav = str(changed.with_suffix(".wav"))
    stale = 0 if wav in res.statuses else 1
    assert res.missing == stale and len(res.rows) == 9 - stale
    assert {r["file"] for r in res.rows} == {r["file"] for r in full.rows} - ({wav} if stale else set())
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] is True and summary["missing"] == stale
    assert len((out / "summary.csv").read_bytes().decode("utf-8-sig").splitlines()) == 1 + 9 - stale
    assert ("without a result yet, not listed here: 1 of 9" in (out / "index.html").read_text(encoding="utf-8")) == bool(stale)


def test_all_good_exits_0_and_missing_input_is_a_row(tmp_path):
    d = tmp_path / "dana"
    d.mkdir()
    shutil.copy(SAMPLES / "on_target_retirement.wav", d / "take1.wav")
    res = runner.invoke(app, ["batch", str(d / "take1.wav"), "--out", str(tmp_path / "o1"), "--jobs", "1", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert re.search(r"batch: 1 recording: 1 analysed, 0 unchanged, 0 failed;", res.stderr)
    row = rows_of(tmp_path / "o1")[0]
    assert row["char_source"] == "estimate" and row["trainee"] == "dana"
    res = runner.invoke(app, ["batch", str(d / "take1.wav"), str(d / "nope.wav"), "--out", str(tmp_path / "o2"), "--jobs", "1"])
    assert res.exit_code == 2
    errors = [r for r in rows_of(tmp_path / "o2") if r["error"]]
    assert len(errors) == 1 and errors[0]["error_code"] == "file_not_found"
    assert errors[0]["error"] == "文件不存在" and errors[0]["error_en"] == "file not found"  # a zh batch
    assert f"speechcoach：错误：{d / 'nope.wav'}：文件不存在" in res.stderr.splitlines()  # stderr in zh too
    assert res.stderr.splitlines()[-1].startswith("speechcoach：批量分析：共 2 段录音：已分析 1 段，未变化 0 段，无法分析 1 段；")


def test_a_broken_link_in_a_folder_is_a_row_not_dropped(tmp_path):
    d = tmp_path / "erin"
    d.mkdir()
    shutil.copy(SAMPLES / "on_target_retirement.wav", d / "take1.wav")
    (d / "take2.wav").symlink_to(tmp_path / "moved" / "take2.wav")  # the recording was moved away
    (d / "elsewhere").symlink_to(tmp_path / "gone")  # not audio: ignored as before
    files, problems = discover([d])
    assert [f.name for f in files] == ["take1.wav", "take2.wav"] and problems == []
    res = runner.invoke(app, ["batch", str(d), "--out", str(tmp_path / "o"), "--jobs", "1", "--lang", "en"])
    assert res.exit_code == 2
    bad = [r for r in rows_of(tmp_path / "o") if r["error"]]
    assert len(bad) == 1 and bad[0]["file"].endswith("take2.wav") and bad[0]["error_code"] == "broken_link"
    assert bad[0]["error_en"] == f"is a broken link: its target {tmp_path / 'moved' / 'take2.wav'} does not exist"
    assert "take2.wav: is a broken link" in res.stderr


def test_quoted_glob_scripts_dir_and_stem_prefix_rubric(tmp_path):
    a, b, scripts = tmp_path / "day1", tmp_path / "day2", tmp_path / "scripts"
    for d in (a, b, scripts):
        d.mkdir()
    shutil.copy(SAMPLES / "on_target_retirement.wav", a / "li_retire.wav")
    shutil.copy(SAMPLES / "on_target_retirement.wav", b / "li_retire.wav")
    shutil.copy(SAMPLES / "on_target_retirement.txt", scripts / "li_retire.txt")
    (a / "li_retire.json").write_text("{}", encoding="utf-8")  # not audio: ignored by the glob
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[batch]\ntrainee = "stem-prefix"\n[report]\nlang = "en"\n', encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["batch", str(tmp_path / "day*" / "li_*"), "--scripts", str(scripts), "--rubric", str(rubric), "--out", str(out), "--jobs", "1"]
    )
    assert res.exit_code == 0, res.output
    rows = rows_of(out)
    assert [r["trainee"] for r in rows] == ["li", "li"]
    assert all(r["char_source"] == "script" for r in rows)
    reports = {r["report_json"] for r in rows}
    assert len(reports) == 2 and all(p.startswith("reports/li/li_retire") for p in reports)


def test_discovery_pairing_and_names(tmp_path):
    (tmp_path / "x" / ".hidden").mkdir(parents=True)
    for name in ("x/a.wav", "x/a.txt", "x/a.mp3", "x/.hidden/b.wav", "x/notes.md"):
        (tmp_path / name).write_bytes(b"")
    files, problems = discover([tmp_path / "x", str(tmp_path / "x" / "a.wav"), str(tmp_path / "none*.wav"), tmp_path / "gone.wav"])
    assert [f.name for f in files] == ["a.mp3", "a.wav"]
    assert [p.problem for p in problems] == ["no recordings match this pattern", "file not found"]
    assert find_script(tmp_path / "x" / "a.mp3") == tmp_path / "x" / "a.txt"
    recs = plan(files)
    names = assign_report_names(recs)
    assert sorted(names.values()) == ["reports/x/a~mp3", "reports/x/a~wav"]
    assert trainee_of(Path("/d/wang-03.wav"), "stem-prefix") == "wang"
    assert trainee_of(Path("/d/陈/take.wav")) == "陈"
    # names given in an earlier run are kept
    assert assign_report_names(recs, {recs[1].id: "reports/x/a"})[recs[1].id] == "reports/x/a"


def test_bad_arguments_one_line(tmp_path):
    res = runner.invoke(app, ["batch", str(SAMPLES / "on_target_retirement.wav"), "--out", str(tmp_path), "--jobs", "0"])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "--jobs" in res.stderr
    res = runner.invoke(app, ["batch", str(SAMPLES / "on_target_retirement.wav"), "--out", str(tmp_path), "--scripts", str(tmp_path / "no")])
    assert res.exit_code == 2 and "--scripts" in res.stderr


def _forkserver_workers() -> list[int]:
    """Pids of processes forked by a multiprocessing fork server of this test process."""
    import os

    def parent_and_cmd(pid: str) -> tuple[int, bytes]:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return ppid, fh.read()
        except OSError:
            return -1, b""

    procs = {int(p): parent_and_cmd(p) for p in os.listdir("/proc") if p.isdigit()}
    servers = {pid for pid, (ppid, cmd) in procs.items() if ppid == os.getpid() and b"forkserver" in cmd}
    return [pid for pid, (ppid, _) in procs.items() if ppid in servers]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_crashed_worker_loses_nothing(cohort, tmp_path):
    import os
    import signal

    killed: list[int] = []

    def progress(p: Progress) -> None:
        if p.done >= 1 and not killed:
            workers = _forkserver_workers()
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])

    res = run_batch([cohort], tmp_path / "out", settings=Settings(lang="en"), jobs=2, progress=progress)
    assert killed, "no worker process found to kill"
    assert not res.interrupted and len(res.rows) == 9 and res.exit_code == 2
    assert sorted(Path(r["file"]).name for r in res.rows if r["error"]) == ["empty.wav", "notes.wav", "truncated.wav"]


def _player_src(html: Path) -> str:
    from urllib.parse import unquote

    m = re.search(r'<audio id="player"[^>]* src="([^"]+)"', html.read_text(encoding="utf-8"))
    assert m, html
    return unquote(m.group(1))


def test_html_player_links_to_the_recording_from_the_report_folder(first_run, cohort, tmp_path, monkeypatch):
    # by default (absolute inputs, two worker processes) every report carries its recording
    out, _ = first_run
    pages = sorted((out / "reports").rglob("*.html"))
    assert len(pages) == 6
    for page in pages:
        assert _player_src(page).startswith("data:audio/mpeg;base64,")
    # --link-audio: relative inputs and a relative output folder somewhere else, from the working folder
    monkeypatch.chdir(tmp_path)
    shutil.copytree(cohort / "bob", tmp_path / "in" / "bob")
    res = run_batch(["in"], Path("elsewhere") / "res", settings=Settings(lang="en"), jobs=1, link_audio=True)
    assert res.exit_code == 0
    pages = sorted((tmp_path / "elsewhere" / "res" / "reports" / "bob").glob("*.html"))
    assert len(pages) == 3
    for page in pages:
        src = _player_src(page)
        assert not Path(src).is_absolute() and src.startswith("../")
        assert (page.parent / src).resolve() == (tmp_path / "in" / "bob" / f"{page.stem}.wav").resolve()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_stops_like_ctrl_c(cohort, tmp_path):
    """SIGTERM (how CI cancels a job) keeps finished work, writes the summaries, stops the
    workers and gives exit code 128 + 15; the previous SIGTERM handler is back afterwards."""
    import os
    import signal
    import time

    before = signal.getsignal(signal.SIGTERM)
    sent: list[int] = []

    def progress(p: Progress) -> None:
        if p.done >= 2 and not sent:
            sent.append(p.done)
            os.kill(os.getpid(), signal.SIGTERM)

    out = tmp_path / "out"
    res = run_batch([cohort], out, settings=Settings(lang="en"), jobs=2, progress=progress)
    assert sent and res.interrupted and res.stop_signal == signal.SIGTERM and res.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) == before
    done = len(rows_of(out))
    assert 2 <= done < 9 and res.missing == 9 - done
    assert (out / "summary.csv").is_file() and (out / "index.html").is_file()
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["interrupted"] is True
    deadline = time.monotonic() + 10.0  # terminated workers are reaped by the fork server
    while _forkserver_workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _forkserver_workers() == []


def test_pace_cv_left_empty_when_the_speech_fits_in_one_pace_window(tmp_path):
    """A clip shorter than one pace window has no pace variation to measure: the report says it
    is too short, and the summaries leave pace_cv empty (null in JSON) instead of showing 0.0."""
    import soundfile as sf

    d = tmp_path / "erin"
    d.mkdir()
    y, sr = sf.read(SAMPLES / "on_target_retirement.wav", dtype="float32")
    sf.write(d / "short.wav", y[: 5 * sr], sr)  # 5 s: under the 8 s pace window
    shutil.copy(SAMPLES / "on_target_retirement.wav", d / "long.wav")
    out = tmp_path / "out"
    res = run_batch([d], out, settings=Settings(lang="en"), jobs=1)
    assert res.exit_code == 0
    rows = {Path(r["file"]).stem: r for r in rows_of(out)}
    report = json.loads((out / rows["short"]["report_json"]).read_text(encoding="utf-8"))
    assert len(report["pace"]["series"]) == 1 and "short" in {w["id"] for w in report["warnings"]}
    assert rows["short"]["pace_cv"] is None
    long_report = json.loads((out / rows["long"]["report_json"]).read_text(encoding="utf-8"))
    assert len(long_report["pace"]["series"]) > 1
    assert rows["long"]["pace_cv"] == shown_cv(long_report["pace"]["cv"])  # exact: the value shown and judged (2 decimals, half up)
    lines = (out / "summary.csv").read_bytes().decode("utf-8-sig").splitlines()
    col = list(CSV_HEADER).index("pace_cv")
    cells = {Path(line.split(",")[1]).stem: line.split(",")[col] for line in lines[1:]}
    assert cells["short"] == "" and float(cells["long"]) == shown_cv(long_report["pace"]["cv"])  # exact: the shown value


def test_an_out_folder_that_cannot_be_made_is_one_line_before_any_work(tmp_path):
    from typer.testing import CliRunner

    from speechcoach.app.cli import app

    blocker = tmp_path / "plain"
    blocker.write_text("a file")
    res = CliRunner().invoke(app, ["batch", str(SAMPLES / "on_target_retirement.wav"), "--out", str(blocker / "results")])
    assert res.exit_code == 2, res.output
    assert res.output.strip() == f"speechcoach: error: --out {blocker / 'results'}: cannot create the folder (Not a directory)"


def test_attempts_with_numbers_sort_as_numbers():
    """take2 before take10 and 第2次 before 第10次, in the table and in a trainee's progress."""
    from speechcoach.app.batch import _sorted_rows, natural_key, trainee_progress

    names = ["第10次.wav", "第2次.wav", "第1次.wav"]
    assert sorted(names, key=natural_key) == ["第1次.wav", "第2次.wav", "第10次.wav"]
    assert sorted(["take10", "take2", "take²"], key=natural_key) == ["take2", "take10", "take²"]
    rows = [
        {"trainee": "王芳", "file": f"王芳/{n}", "recorded": "2026-11-29T08:00:00+00:00", "cpm": cpm, "verdict": "fast", "score": s}
        for n, cpm, s in [("第10次.wav", 150.0, 80), ("第2次.wav", 170.0, 60), ("第1次.wav", 180.0, 50)]
    ]
    assert [r["file"] for r in _sorted_rows(rows)] == ["王芳/第1次.wav", "王芳/第2次.wav", "王芳/第10次.wav"]
    (entry,) = trainee_progress(rows, 120.0)
    assert entry["first"]["file"] == "王芳/第1次.wav" and entry["latest"]["file"] == "王芳/第10次.wav"


STOPPED_WORKER = '''
import sys, time
from pathlib import Path

from speechcoach.app import workers


def bar_then_wait(marker):
    from tqdm import tqdm

    tqdm(total=1, disable=True).close()  # what faster-whisper does in every transcription
    Path(marker).write_text("bar made")
    time.sleep(120)


if __name__ == "__main__":
    marker = Path(sys.argv[1])
    ex = workers._new_pool(1)
    ex.submit(bar_then_wait, str(marker))
    for _ in range(1200):  # until the worker has made its bar (it waits after that)
        if marker.exists():
            break
        time.sleep(0.05)
    workers._stop_pool(ex)  # as on Ctrl-C or SIGTERM: the worker is stopped mid-task
    print("stopped", marker.exists())
'''


def test_a_worker_stopped_mid_recording_leaves_no_semaphore_warning(tmp_path):
    """A worker stopped after faster-whisper made its (hidden) progress bar: the resource tracker
    printed "There appear to be 1 leaked semaphore objects to clean up at shutdown" on stderr."""
    pytest.importorskip("tqdm")
    import os
    import subprocess
    import sys

    script = tmp_path / "stop_worker.py"
    script.write_text(STOPPED_WORKER, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, str(script), str(tmp_path / "bar")], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert res.returncode == 0 and res.stdout.strip() == "stopped True", res.stderr
    assert "leaked" not in res.stderr, res.stderr


def test_count_acoustic_leaves_the_recogniser_out_and_is_part_of_the_settings(tmp_path, monkeypatch, whisper_model):
    """``batch --count acoustic``: no transcript in the reports and none kept, with the recogniser
    installed; another count mode redoes the recordings (their reports would differ)."""
    cohort = tmp_path / "in" / "ann"
    cohort.mkdir(parents=True)
    for ext in ("wav", "txt"):
        shutil.copy(SAMPLES / f"on_target_retirement.{ext}", cohort / f"on_target_retirement.{ext}")
    out = tmp_path / "out"
    monkeypatch.setenv("SPEECHCOACH_ASR_MODEL", str(whisper_model))
    res = runner.invoke(app, ["batch", str(cohort.parent), "--out", str(out), "--jobs", "1", "--lang", "en", "--count", "acoustic"])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "reports" / "ann" / "on_target_retirement.json").read_text(encoding="utf-8"))
    assert "transcript" not in report and report["characters"]["source"] == "script"
    assert not list((out / STATE_DIR / "transcripts").rglob("*.json"))
    monkeypatch.delenv("SPEECHCOACH_ASR_MODEL")  # auto with a script: the same report, other settings
    runner.invoke(app, ["batch", str(cohort.parent), "--out", str(out), "--jobs", "1", "--lang", "en", "--count", "auto"])
    assert last_run(out)["counts"]["analysed"] == 1
