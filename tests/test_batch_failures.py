"""``batch`` survives what is not the recordings' fault: a full disk, a file where a folder should
go, the batch process killed with SIGKILL; and a recording whose script is set aside still gets
its report.

Real files and processes: a full disk is ``/dev/full`` (every write fails with ENOSPC) standing
where one output goes, the analysis is the real one on the sample recordings, and ``kill -9``
is sent to a real ``speechcoach batch`` process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from speechcoach.app.batch import STATE_DIR, run_batch
from speechcoach.app.cli import app
from speechcoach.app.discovery import recording_id
from speechcoach.errors import OutputError
from speechcoach.settings import Settings

from .conftest import SAMPLES

runner = CliRunner()
FULL = Path("/dev/full")
needs_full = pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (a device whose writes fail with ENOSPC)")
STEMS = ("on_target_retirement", "slow_unemployment", "fast_remote_care", "on_target_reimbursement")


def cohort(root: Path, stems=STEMS, trainee: str = "li") -> Path:
    d = root / "cohort" / trainee
    d.mkdir(parents=True)
    for stem in stems:
        shutil.copy(SAMPLES / f"{stem}.wav", d / f"{stem}.wav")
        shutil.copy(SAMPLES / f"{stem}.txt", d / f"{stem}.txt")
    return root / "cohort"


def batch(*args: str):
    return runner.invoke(app, ["batch", *args, "--lang", "en", "--count", "acoustic"])


def rows(out: Path) -> dict[str, dict]:
    return {Path(r["file"]).name: r for r in json.loads((out / "summary.json").read_text(encoding="utf-8"))["recordings"]}


def last_run(out: Path) -> dict:
    return json.loads((out / STATE_DIR / "last-run.json").read_text(encoding="utf-8"))


def test_a_recording_whose_script_is_set_aside_gets_its_report(tmp_path):
    """The script cannot be what was said (2 characters for ~60 syllables): the report says so
    (``script_mismatch``), check has nothing to judge, and the batch row is an analysed one with
    check ``error``. It was ``internal error: KeyError: 'mid_phrase'``, no report, redone every run."""
    d = tmp_path / "cohort" / "li"
    d.mkdir(parents=True)
    shutil.copy(SAMPLES / "on_target_retirement.wav", d / "a1.wav")
    (d / "a1.txt").write_text("您好。", encoding="utf-8")
    out = tmp_path / "out"
    res = batch(str(tmp_path / "cohort"), "--out", str(out), "--jobs", "1")
    assert res.exit_code == 0, res.output
    row = rows(out)["a1.wav"]
    assert row["error"] == "" and row["check"] == "error" and row["check_reasons"], row
    assert "script" in row["check_reasons"][0] and row["mid_phrase_pauses"] == 0
    report = json.loads((out / row["report_json"]).read_text(encoding="utf-8"))
    assert any(w["id"] == "script_mismatch" for w in report["warnings"])
    assert (out / row["report_html"]).is_file()
    again = batch(str(tmp_path / "cohort"), "--out", str(out), "--jobs", "1")
    assert again.exit_code == 0 and last_run(out)["counts"]["skipped"] == 1, again.output


@needs_full
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_stops_the_run_and_the_rerun_writes_what_was_missing(tmp_path, jobs):
    src = cohort(tmp_path)
    out = tmp_path / "out"
    blocked = out / "reports" / "li" / "fast_remote_care.json"
    blocked.parent.mkdir(parents=True)
    blocked.symlink_to(FULL)  # this one report lands on a full disk
    res = batch(str(src), "--out", str(out), "--jobs", jobs)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert lines == [f"speechcoach: error: {blocked}: cannot write file (No space left on device)"], res.output
    # never the recording's fault: no row, no state; the summaries hold what was finished
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] is True and "fast_remote_care.wav" not in rows(out)
    assert all(not r["error"] for r in rows(out).values())
    assert not (out / STATE_DIR / f"{recording_id(src / 'li' / 'fast_remote_care.wav')}.json").exists()
    assert last_run(out)["stopped_by"].startswith(str(blocked))
    done_before = len(rows(out))

    blocked.unlink()  # room again
    res = batch(str(src), "--out", str(out), "--jobs", jobs)
    assert res.exit_code == 0, res.output
    assert len(rows(out)) == 4 and all(not r["error"] for r in rows(out).values())
    counts = last_run(out)["counts"]
    assert counts["skipped"] == done_before and counts["analysed"] == 4 - done_before, counts
    assert json.loads(blocked.read_text(encoding="utf-8"))["schema"] == "speechcoach.report/1"


@needs_full
def test_a_full_disk_under_the_state_file_still_writes_the_summaries(tmp_path):
    src = cohort(tmp_path)
    out = tmp_path / "out"
    rid = recording_id(src / "li" / "slow_unemployment.wav")
    state = out / STATE_DIR / f"{rid}.json"
    state.parent.mkdir(parents=True)
    state.symlink_to(FULL)
    res = batch(str(src), "--out", str(out), "--jobs", "1")
    assert res.exit_code == 2 and f"{state}: cannot write file (No space left on device)" in res.output, res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip()]) == 1
    for name in ("summary.csv", "summary.json", "index.html"):
        assert (out / name).is_file(), name
    assert "slow_unemployment.wav" not in rows(out)
    state.unlink()
    res = batch(str(src), "--out", str(out), "--jobs", "1")
    assert res.exit_code == 0 and len(rows(out)) == 4, res.output
    assert json.loads(state.read_text(encoding="utf-8"))["row"]["error"] == ""


def test_a_file_where_an_output_folder_should_go_stops_the_run(tmp_path):
    src = cohort(tmp_path, stems=STEMS[:2])
    out = tmp_path / "out"
    (out / "reports").mkdir(parents=True)
    (out / "reports" / "li").write_text("not a folder", encoding="utf-8")
    with pytest.raises(OutputError) as err:
        run_batch([src], out, settings=Settings(lang="en", count="acoustic"), jobs=1)
    assert err.value.path.startswith(str(out / "reports" / "li")) and "in the way of its folder" in str(err.value)
    assert rows(out) == {} and json.loads((out / "summary.json").read_text(encoding="utf-8"))["missing"] == 2
    (out / "reports" / "li").unlink()
    res = run_batch([src], out, settings=Settings(lang="en", count="acoustic"), jobs=1)
    assert res.exit_code == 0 and res.analysed == 2


def test_stale_temporary_files_are_removed(tmp_path):
    src = cohort(tmp_path, stems=STEMS[:1])
    out = tmp_path / "out"
    stale = [out / STATE_DIR / ".abc.json.k2j4h5g6.tmp", out / "reports" / "li" / ".x.html.a_b1c2d3.tmp", out / ".summary.csv.zzzzzzzz.tmp"]
    keep = [out / STATE_DIR / "notes.tmp", out / "reports" / "li" / ".hidden.tmp"]
    for p in stale + keep:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("half", encoding="utf-8")
    res = run_batch([src], out, settings=Settings(lang="en", count="acoustic"), jobs=1)
    assert res.exit_code == 0
    assert not any(p.exists() for p in stale) and all(p.exists() for p in keep)


# -- kill -9 ----------------------------------------------------------------------------------


def _marked(mark: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``mark``."""
    found = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                if mark.encode() not in fh.read():
                    continue
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        found.append(int(pid))
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_kill_9_of_the_batch_ends_its_workers_and_the_rerun_reuses_every_report(tmp_path):
    stems = [*STEMS, "uneven_transfer", "mid_phrase_pension", "no_pauses_card_loss"]
    src = cohort(tmp_path, stems=stems)
    for stem in stems:  # more recordings, so that the kill lands mid-run
        for k in (2, 3):
            shutil.copy(SAMPLES / f"{stem}.wav", src / "li" / f"{stem}_{k}.wav")
            shutil.copy(SAMPLES / f"{stem}.txt", src / "li" / f"{stem}_{k}.txt")
    out = tmp_path / "out"
    mark = f"SPEECHCOACH_TEST_{uuid.uuid4().hex}"
    env = dict(os.environ, **{mark: "1"})
    exe = Path(sys.executable).with_name("speechcoach")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "speechcoach"]
    proc = subprocess.Popen([*cmd, "batch", str(src), "--out", str(out), "--jobs", "2", "--count", "acoustic", "--lang", "en"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    states = out / STATE_DIR
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(states.glob("*.json"))) < 2:
        time.sleep(0.05)
    assert len(_marked(mark)) >= 3, "expected the batch, its fork server and workers"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _marked(mark) == [], "processes of the killed batch are still alive"

    with_state = {json.loads(p.read_text(encoding="utf-8"))["name"] for p in states.glob("*.json") if p.name != "last-run.json"}
    html = {str(p.relative_to(out / "reports"))[: -len(".html")] for p in (out / "reports").rglob("*.html")}
    assert with_state and len(html - with_state) <= 2, (html, with_state)  # at most those killed between report and state
    res = run_batch([src], out, settings=Settings(lang="en", count="acoustic"), jobs=2)
    assert res.exit_code == 0 and res.total == 21
    assert res.unchanged == len(with_state), (res.unchanged, len(with_state))  # every report with its state is reused
