"""The HTML report in a real browser: headless Chromium runs its script without console errors.

Skipped (with the reason) where no Chromium is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "mid_phrase_pension"
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]


def _chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: browser rendering of the HTML report not checked")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """The English HTML report of one sample, written next to a copy of its recording."""
    from speechcoach.analysis.pipeline import analyze_file, read_script
    from speechcoach.render import render
    from speechcoach.render.html import audio_source
    from speechcoach.render.report import to_dict
    from speechcoach.settings import Settings

    folder = tmp_path_factory.mktemp("html")
    wav = folder / "rec.wav"
    shutil.copyfile(SAMPLE.with_suffix(".wav"), wav)
    an = analyze_file(wav, script=read_script(SAMPLE.with_suffix(".txt")), settings=Settings(lang="en"))
    out = folder / "report.html"
    out.write_text(render(to_dict(an), "html", audio_src=audio_source(wav, out)), encoding="utf-8")
    return out


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=60)


def _console_errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "CONSOLE" in ln and ("Uncaught" in ln or "Error" in ln)]


def test_page_script_runs_without_console_errors(page) -> None:
    res = _run(["--dump-dom", page.as_uri()])
    assert _console_errors(res.stderr) == []
    assert 'data-ready="1"' in res.stdout, "the page's script did not run to the end"
    assert res.stdout.count('class="pause ') > 0


def test_screenshot_renders(page) -> None:
    png = page.with_suffix(".png")
    res = _run([f"--screenshot={png}", "--window-size=1200,2400", page.as_uri()])
    assert _console_errors(res.stderr) == []
    assert png.exists() and png.stat().st_size > 20_000, res.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
