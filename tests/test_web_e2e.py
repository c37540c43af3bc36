"""The practice page end to end: `speechcoach serve` + headless Chromium with a fake microphone.

Chromium plays a sample WAV as its microphone (``--use-file-for-fake-audio-capture``); the page
records it through the Web Audio API, encodes a WAV, uploads it and shows the report. Needs
Debian's ``chromium`` and the ``playwright`` Python package (never ``playwright install``).
Screenshots (zh and en) go to the test's tmp folder, or to ``$SPEECHCOACH_SCREENSHOTS``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import SAMPLES

CHROMIUM = os.environ.get("SPEECHCOACH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SAMPLE = SAMPLES / "on_target_retirement.wav"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def server(tmp_path: Path):
    """`speechcoach serve` in a subprocess on a free port; yields its base URL and data folder."""
    port = free_port()
    data = tmp_path / "data"
    exe = Path(sys.executable).with_name("speechcoach")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "speechcoach"]
    proc = subprocess.Popen(
        [*cmd, "serve", "--port", str(port), "--no-browser", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/config", timeout=1) as res:
                    if res.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out, err = proc.communicate(timeout=5) if proc.poll() is not None else ("", "")
                pytest.fail(f"speechcoach serve did not start: {err or out}")
            time.sleep(0.1)
        yield url, data
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SPEECHCOACH_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def launch(p, fake_wav: Path):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_wav}",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    )


def open_page(browser, url: str, *, errors: list[str] | None = None, width: int | None = None, height: int = 800,
              locale: str = "zh-CN", accept_dialogs: bool = False, init_script: str | None = None):
    """A new tab on the practice page, waited until it is idle; page errors go to ``errors``."""
    page = browser.new_page(locale=locale, **({"viewport": {"width": width, "height": height}} if width else {}))
    if errors is not None:
        page.on("pageerror", lambda e: errors.append(str(e)))
    if accept_dialogs:
        page.on("dialog", lambda d: d.accept())
    if init_script:
        page.add_init_script(init_script)
    page.goto(url + "/")
    page.wait_for_selector("body[data-state=idle]", timeout=10_000)
    return page


def test_record_in_the_browser_and_see_the_report(server, shots):
    url, data = server
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p, SAMPLE)
        try:
            page = open_page(browser, url, errors=errors, width=1100, height=900, accept_dialogs=True)
            assert page.inner_text("#record").strip() == "开始录音"

            page.fill("#trainee", "张三")
            page.select_option("#scenario", "retirement")
            assert "退休认证可以在手机上办" in page.inner_text("#script")
            page.click("#record")
            page.wait_for_selector("body[data-state=recording]", timeout=10_000)
            page.wait_for_timeout(4_000)
            assert page.locator("#script .c.now").count() == 1, "pace guide is not moving"
            assert page.locator("#script .c.done").count() >= 4
            # the recording clock runs: at least 3 s after a 4 s wait (a loaded machine may show more)
            minutes, seconds = page.inner_text("#elapsed").strip().split(":")
            assert int(minutes) * 60 + int(seconds) >= 3
            # the level meter moves (it drops to zero in the sample's pauses, so wait for speech)
            page.wait_for_function("() => parseFloat(document.getElementById('level').style.width) > 10", timeout=3_000)
            page.screenshot(path=str(shots / "recording_zh.png"))
            page.click("#stop")
            page.wait_for_selector("body[data-state=done], body[data-state=error]", timeout=20_000)
            assert page.get_attribute("body", "data-state") == "done", page.inner_text("#status")

            cpm = float(page.inner_text("#summary-cpm"))
            assert cpm > 0 and "字/分钟" in page.inner_text("#summary")
            frame = page.frame_locator("#report")
            frame.locator("audio").wait_for(state="attached", timeout=10_000)
            assert "字/分钟" in frame.locator("body").inner_text()
            # a recording made on the page is called 录音 in the report, not by its storage path
            assert frame.locator("p.file").inner_text().strip() == "文件：录音"
            rows = page.locator("#attempts tbody tr")
            assert rows.count() == 1 and str(round(cpm)) in rows.first.inner_text()
            assert page.locator("#chart circle").count() == 1
            page.wait_for_timeout(300)
            page.screenshot(path=str(shots / "report_zh.png"), full_page=True)

            # the stored attempt: a 16-bit WAV from the page, playable through the API
            wavs = list((data / "attempts" / "张三").glob("*/*.wav"))
            assert len(wavs) == 1
            import soundfile as sf

            info = sf.info(str(wavs[0]))
            assert info.subtype == "PCM_16" and info.channels == 1 and 3.0 < info.duration < 8.0

            page.click("#lang-en")
            assert page.inner_text("#record").strip() == "Record"
            assert "chars/min" in page.inner_text("#summary")
            page.screenshot(path=str(shots / "report_en.png"), full_page=True)

            # upload an existing file, then delete one attempt and finally all of them
            page.set_input_files("#file", str(SAMPLE))
            page.click("#upload")
            page.wait_for_function("() => document.querySelectorAll('#attempts tbody tr').length === 2", timeout=20_000)
            assert page.locator("#chart circle").count() == 2 and page.locator("#chart polyline").count() == 1
            page.screenshot(path=str(shots / "history_en.png"), full_page=True)
            page.locator("#attempts tbody tr").first.locator("button.delete").click()
            page.wait_for_function("() => document.querySelectorAll('#attempts tbody tr').length === 1", timeout=10_000)
            page.click("#delete-all")
            page.wait_for_selector("#no-attempts:not([hidden])", timeout=10_000)
            assert not list((data / "attempts").glob("*/*/*.wav"))

            # the name is remembered
            page.reload()
            page.wait_for_selector("body[data-state=idle]", timeout=10_000)
            assert page.input_value("#trainee") == "张三" and page.inner_text("#record").strip() == "Record"
        finally:
            browser.close()
    assert not errors, errors


def test_a_bad_upload_shows_the_servers_message_in_the_pages_language(server, tmp_path):
    url, _ = server
    notes = tmp_path / "notes.wav"
    notes.write_text("这是我的笔记，不是录音。\n" * 10, encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = launch(p, SAMPLE)
        try:
            page = open_page(browser, url)
            page.fill("#trainee", "王五")
            page.set_input_files("#file", str(notes))
            page.click("#upload")
            page.wait_for_selector("body[data-state=error]", timeout=20_000)
            # the server's message, then what to do: the formats this server accepts
            error, hint = page.inner_text("#status").strip().split("\n")
            assert error == "出错了：notes.wav：不是音频文件（里面是文字）"
            assert hint.startswith("可以上传的格式：WAV、FLAC、OGG、MP3")
            assert ("M4A" in hint) == (shutil.which("ffmpeg") is not None), hint
            page.click("#lang-en")  # the hint follows the language; the server's message stays as it was worded
            assert page.inner_text("#status").strip().split("\n")[1].startswith("Accepted formats: WAV, FLAC, OGG, MP3")
            page.set_input_files("#file", str(notes))
            page.click("#upload")
            page.wait_for_function("() => document.getElementById('status').textContent.includes('not an audio file')", timeout=20_000)
            error, hint = page.inner_text("#status").strip().split("\n")
            assert error == "Error: notes.wav: not an audio file (it contains text)"
            assert hint.startswith("Accepted formats: WAV, FLAC, OGG, MP3")
        finally:
            browser.close()


def test_microphone_errors_say_what_to_do_next(server, shots):
    """getUserMedia's errors become a sentence in the page's language with the next step, never the
    browser's English message: a real Chromium without any capture device, then each error name."""
    url, _ = server
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream"])
        try:
            page = open_page(browser, url, width=390)
            page.fill("#trainee", "王五")
            page.click("#record")
            page.wait_for_function("() => document.getElementById('status').textContent.length > 0", timeout=10_000)
            text = page.inner_text("#status")
            assert "没有找到麦克风" in text and "上传录音文件" in text and "Requested device" not in text, text
            page.screenshot(path=str(shots / "no_mic_zh_390.png"), full_page=True)
            page.close()

            expected = {
                "NotFoundError": ("没有找到麦克风", "No microphone found"),
                "NotAllowedError": ("地址栏", "address bar"),
                "NotReadableError": ("别的程序占用", "Another program is using"),
                "SecurityError": ("http://localhost:", "http://localhost:"),
                "WeirdError": ("无法使用麦克风（boom）", "Cannot use the microphone (boom)"),
            }
            for name, (zh, en) in expected.items():
                page = open_page(
                    browser, url, init_script="navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('boom', %r));" % name
                )
                page.fill("#trainee", "王五")
                page.click("#record")
                page.wait_for_function("() => document.getElementById('status').textContent.length > 0", timeout=10_000)
                assert zh in page.inner_text("#status"), (name, page.inner_text("#status"))
                page.click("#lang-en")
                assert en in page.inner_text("#status"), (name, page.inner_text("#status"))
                page.close()
        finally:
            browser.close()


def test_phone_width_history_fits_and_chart_is_legible(server, shots):
    """At 390 px (a phone) the page never scrolls sideways, in either language, with history present;
    the chart's text is drawn at real CSS pixels; its numbering is the table's; estimated counts
    (no script) are hollow points with their own legend entry; the report's gauge is the compact one."""
    url, _ = server
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p, SAMPLE)
        try:
            page = open_page(browser, url, errors=errors, width=390, accept_dialogs=True)
            page.fill("#trainee", "A long trainee name for a small phone")
            for n, scenario in ((1, "retirement"), (2, "")):  # scripted, then free talk (estimated)
                page.select_option("#scenario", scenario)
                page.set_input_files("#file", str(SAMPLE))
                page.click("#upload")
                page.wait_for_function(f"() => document.querySelectorAll('#attempts tbody tr').length === {n}", timeout=20_000)
            page.frame_locator("#report").locator("svg.gauge.narrow").wait_for(state="visible", timeout=10_000)
            page.wait_for_timeout(300)
            for lang in ("zh", "en"):
                page.click(f"#lang-{lang}")
                assert page.input_value("#scenario") == "", "a language switch must keep free talk chosen"
                width = page.evaluate("() => document.documentElement.scrollWidth")
                assert width <= 390, f"{lang}: the page is {width} px wide at 390 px"
                page.screenshot(path=str(shots / f"history_{lang}_390.png"), full_page=True)
                # no cell of the history is squeezed to one character a line
                for cell in page.locator("#attempts tbody td.scen, #attempts tbody td.date").all():
                    box = cell.bounding_box()
                    assert box and box["width"] > 60, (lang, cell.inner_text(), box)
                for button in page.locator("#attempts tbody button").all():
                    box = button.bounding_box()
                    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (lang, box)
            # chart text: at least 12 CSS px tall on the phone
            heights = page.eval_on_selector_all("#chart text", "els => els.map(e => e.getBoundingClientRect().height)")
            assert heights and min(heights) >= 12, heights
            # numbering: the chart's 1..n are the table's numbers (newest first)
            assert page.eval_on_selector_all("#attempts tbody td.no", "els => els.map(e => e.textContent)") == ["2", "1"]
            labels = page.eval_on_selector_all("#chart text", "els => els.map(e => e.textContent)")
            assert "1" in labels and "2" in labels
            assert page.locator("#chart circle.scripted").count() == 1 and page.locator("#chart circle.estimated").count() == 1
            legend = page.inner_text("#chart-legend")
            assert "moderate band 100–140" in legend and "target 120" in legend and "no script" in legend
            # the legend's colours are the points': blue inside the band, orange outside (was: blue keys, orange points)
            fills = page.eval_on_selector_all(
                "#chart circle", "els => els.map(e => [e.classList.contains('out') ? 'out' : 'in', getComputedStyle(e).stroke])")
            keys = dict(page.eval_on_selector_all(
                "#chart-legend .dot.in, #chart-legend .dot.out",
                "els => els.map(e => [e.classList.contains('out') ? 'out' : 'in', getComputedStyle(e).backgroundColor])"))
            assert fills and all(keys.get(where) == colour for where, colour in fills), (fills, keys)
            assert len(set(keys.values())) == len(keys)  # two kinds, two colours
            # band and target are named in the legend, not on the plot where the lines cross them
            assert not [t for t in labels if "120" in t or "band" in t]
            report = page.frame_locator("#report")
            assert report.locator("svg.gauge:not(.narrow)").is_hidden()
        finally:
            browser.close()
    assert not errors, errors


def test_report_frame_fits_each_report_and_a_failed_upload_hides_the_last_one(server, tmp_path):
    """The report frame is as tall as the report shown, also when a shorter report follows a
    longer one (it used to keep the longer one's height: blank space below); after a failed
    upload no report stays under "This attempt" (it would be the previous attempt's)."""
    url, _ = server
    notes = tmp_path / "notes.wav"
    notes.write_text("这是我的笔记，不是录音。\n" * 10, encoding="utf-8")
    errors: list[str] = []
    fit = """() => { const f = document.getElementById('report');
        return f.getBoundingClientRect().height - f.contentDocument.body.getBoundingClientRect().bottom; }"""
    with sync_api.sync_playwright() as p:
        browser = launch(p, SAMPLE)
        try:
            page = open_page(browser, url, errors=errors, width=390, locale="en-GB")
            page.fill("#trainee", "frame")
            page.select_option("#scenario", "")
            heights = []
            for n, stem in enumerate(("uneven_transfer", "no_pauses_card_loss"), start=1):  # the longer report first
                page.set_input_files("#file", str(SAMPLES / f"{stem}.wav"))
                page.click("#upload")
                page.wait_for_function(f"() => document.querySelectorAll('#attempts tbody tr').length === {n}", timeout=20_000)
                page.wait_for_function("() => document.getElementById('report').style.height !== ''", timeout=10_000)
                page.wait_for_timeout(300)
                gap = page.evaluate(fit)
                assert 0 <= gap < 30, (stem, gap)
                heights.append(page.evaluate("() => document.getElementById('report').getBoundingClientRect().height"))
            assert heights[1] < heights[0], heights  # the frame shrank to the shorter report (19 px shorter since the sound stopped guessing mid-phrase pauses)
            # wider: the report is shorter, and so is its frame
            page.set_viewport_size({"width": 1000, "height": 800})
            page.wait_for_timeout(600)
            assert 0 <= page.evaluate(fit) < 30
            assert page.evaluate("() => document.getElementById('report').getBoundingClientRect().height") < heights[1]

            page.set_input_files("#file", str(notes))
            page.click("#upload")
            page.wait_for_selector("body[data-state=error]", timeout=20_000)
            assert page.locator("#result").is_hidden()
            assert page.get_attribute("#report", "src") is None
            assert "不是音频文件" in page.inner_text("#status")
            # the history still has both attempts, and viewing one shows it again
            page.locator("#attempts tbody tr").first.locator("button.view").click()
            page.wait_for_selector("#result:not([hidden])", timeout=5_000)
            page.wait_for_function("() => document.getElementById('report').style.height !== ''", timeout=10_000)
        finally:
            browser.close()
    assert not errors, errors
