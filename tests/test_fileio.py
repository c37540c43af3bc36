"""Atomic writes: whole files or nothing, and never a device or a link replaced by a file."""

from __future__ import annotations

import os
import stat
import sys
import threading
from pathlib import Path

import pytest

from speechcoach.fileio import write_atomic


def test_write_atomic_replaces_the_content_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.json"
    write_atomic(target, "first")
    write_atomic(target, "二次")
    assert target.read_text(encoding="utf-8") == "二次"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_write_atomic_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes are POSIX")
def test_write_atomic_writes_into_a_named_pipe_instead_of_replacing_it(tmp_path: Path) -> None:
    # the same path as `-o /dev/null`: a file that is not a regular file must stay what it is
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_atomic(fifo, "through the pipe")
    reader.join(timeout=10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_write_atomic_gives_the_permissions_open_would(tmp_path: Path) -> None:
    # mkstemp makes 0600 files; a report shared with a cohort must stay readable by others
    old = os.umask(0o022)
    try:
        fresh = write_atomic(tmp_path / "fresh.html", "x")
        kept = tmp_path / "kept.csv"
        kept.write_text("old")
        kept.chmod(0o640)
        write_atomic(kept, "new")
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # the umask read at import is this process's
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640


@pytest.mark.parametrize("where", ["folder", "file_as_parent"])
def test_write_atomic_failure_is_an_output_error_naming_the_target(tmp_path: Path, where: str) -> None:
    from speechcoach.errors import OutputError

    blocker = tmp_path / "taken"
    if where == "folder":
        blocker.mkdir()
        target = blocker
    else:
        blocker.write_text("a file, not a folder")
        target = blocker / "report.html"
    with pytest.raises(OutputError) as info:
        write_atomic(target, "report")
    assert str(info.value).startswith(f"{target}: ") and ".tmp" not in str(info.value)
    assert "\n" not in str(info.value)
