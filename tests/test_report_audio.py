"""The HTML report plays wherever it goes: it carries the recording, compressed (analyze and
batch, by default), or, linked (``--link-audio``), says plainly when the recording is not beside it.

The recordings are the samples; the pages are opened in headless Chromium (Debian's, through
playwright; skipped where either is missing) from a folder the recordings are not in, and from
a zipped and unzipped batch ``results/`` folder.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from speechcoach.app.cli import app
from speechcoach.audio import load
from speechcoach.render import media

from .conftest import SAMPLES

runner = CliRunner()
SAMPLE = SAMPLES / "mid_phrase_pension"
CHROMIUM = os.environ.get("SPEECHCOACH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _decoded(data: bytes) -> tuple[np.ndarray, int]:
    y, sr = sf.read(io.BytesIO(data), dtype="float32")
    return y, sr


@pytest.mark.parametrize("encoder", ["ffmpeg", "soundfile"])
def test_the_recording_is_compressed_to_speech_mp3(encoder, monkeypatch):
    if encoder == "ffmpeg" and not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    if encoder == "soundfile":
        monkeypatch.setattr("speechcoach.audio.ffmpeg_available", lambda: False)  # as on a machine without it
    rec = load(SAMPLE.with_suffix(".wav"))
    data = media.compressed_mp3(rec.samples, rec.sr)
    assert data is not None
    seconds = len(rec.samples) / rec.sr
    kbps = len(data) * 8 / seconds / 1000
    assert abs(kbps - media.SPEECH_KBPS) < 2, kbps  # constant bit rate: 240 kB a minute
    y, sr = _decoded(data)
    assert sr == rec.sr and abs(len(y) / sr - seconds) < 0.1  # what plays is as long as what was analysed
    rms = lambda v: float(np.sqrt(np.mean(np.square(v, dtype=np.float64))))  # noqa: E731
    assert 0.8 < rms(y) / rms(rec.samples) < 1.25
    uri = media.embedded_recording(rec.samples, rec.sr)
    assert uri is not None and uri.startswith("data:audio/mpeg;base64,")


def test_analyze_embeds_by_default_and_links_when_asked(tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["analyze", str(SAMPLE.with_suffix(".wav")), "--count", "acoustic", "-o", str(out / "carried.html")])
    assert res.exit_code == 0, res.output
    page = (out / "carried.html").read_text(encoding="utf-8")
    assert 'src="data:audio/mpeg;base64,' in page and 'id="audio-missing"' not in page
    res = runner.invoke(app, ["analyze", str(SAMPLE.with_suffix(".wav")), "--count", "acoustic", "--link-audio", "-o", str(out / "linked.html")])
    assert res.exit_code == 0, res.output
    page = (out / "linked.html").read_text(encoding="utf-8")
    assert re.search(r'<audio id="player"[^>]* src="\.\./', page) and 'id="audio-missing"' in page
    for bad in (["--link-audio", "--embed-audio", "-o", str(out / "x.html")], ["--link-audio", "-f", "md"]):
        res = runner.invoke(app, ["analyze", str(SAMPLE.with_suffix(".wav")), *bad, "--lang", "en"])
        assert res.exit_code == 2 and "--link-audio" in res.output, res.output


# -- in a browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


def _player(browser, page_path: Path) -> dict:
    """What the report's player can do, opened from ``page_path`` (a file:// URL)."""
    page = browser.new_page()
    try:
        page.goto(page_path.as_uri())
        page.wait_for_function("document.documentElement.dataset.ready === '1'")
        page.wait_for_function(
            "(() => { const a = document.getElementById('player'); return a.readyState >= 1 || a.error"
            " || document.documentElement.dataset.audio === 'missing'; })()",
            timeout=15_000,
        )
        state = page.evaluate(
            "(() => { const a = document.getElementById('player'); const m = document.getElementById('audio-missing');"
            " return {duration: a.duration, error: !!a.error, missing: document.documentElement.dataset.audio === 'missing',"
            " notice: m && !m.hidden ? m.innerText : null}; })()"
        )
        if state["duration"] and np.isfinite(state["duration"]):
            # a pause of the table: the page plays from there (a muted, headless browser still plays)
            page.evaluate("document.querySelector('tr[data-t]').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
            page.wait_for_function("document.getElementById('player').currentTime > 0", timeout=10_000)
            state["seeked_to"] = page.evaluate("document.getElementById('player').currentTime")
        return state
    finally:
        page.close()


def test_a_mailed_report_plays_and_a_linked_one_says_why_it_cannot(browser, tmp_path):
    wav = SAMPLE.with_suffix(".wav")
    seconds = sf.info(str(wav)).duration
    here = tmp_path / "here"
    for name, extra in (("carried.html", []), ("linked.html", ["--link-audio"])):
        res = runner.invoke(app, ["analyze", str(wav), "--count", "acoustic", "--lang", "en", *extra, "-o", str(here / name)])
        assert res.exit_code == 0, res.output
    in_place = _player(browser, here / "linked.html")  # beside its recording: plays
    assert not in_place["missing"] and abs(in_place["duration"] - seconds) < 0.2, in_place
    mailed = tmp_path / "mail" / "inbox"  # another depth: the relative link leads nowhere from there
    mailed.mkdir(parents=True)
    for name in ("carried.html", "linked.html"):
        shutil.copy(here / name, mailed / name)  # the report alone, as a mail attachment
    carried = _player(browser, mailed / "carried.html")
    assert not carried["error"] and abs(carried["duration"] - seconds) < 0.2 and carried["seeked_to"] > 0, carried
    linked = _player(browser, mailed / "linked.html")
    assert linked["missing"] and "not beside this report" in (linked["notice"] or "") and "mid_phrase_pension.wav" in linked["notice"], linked


def test_batch_reports_play_from_a_zipped_results_folder(browser, tmp_path):
    cohort = tmp_path / "cohort" / "li"
    cohort.mkdir(parents=True)
    for stem in ("mid_phrase_pension", "on_target_retirement"):
        shutil.copy(SAMPLES / f"{stem}.wav", cohort / f"{stem}.wav")
        shutil.copy(SAMPLES / f"{stem}.txt", cohort / f"{stem}.txt")
    res = runner.invoke(app, ["batch", str(tmp_path / "cohort"), "--out", str(tmp_path / "results"), "--jobs", "1", "--count", "acoustic"])
    assert res.exit_code == 0, res.output
    archive = shutil.make_archive(str(tmp_path / "results"), "zip", tmp_path / "results")
    shutil.rmtree(tmp_path / "cohort")  # the trainer mails the zip; the recordings stay behind
    unzipped = tmp_path / "elsewhere"
    zipfile.ZipFile(archive).extractall(unzipped)
    for stem in ("mid_phrase_pension", "on_target_retirement"):
        state = _player(browser, unzipped / "reports" / "li" / f"{stem}.html")
        assert not state["missing"] and abs(state["duration"] - sf.info(str(SAMPLES / f"{stem}.wav")).duration) < 0.2, state
