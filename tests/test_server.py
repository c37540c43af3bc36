"""The practice-desk server through FastAPI's TestClient; attempt storage; `serve` and `record` CLI errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import types
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the server needs fastapi (pip install -e '.[test]')")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (pip install -e '.[test]')")

from fastapi.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from speechcoach import SCHEMA  # noqa: E402
from speechcoach.app.attempts import AttemptStore, is_attempt_id, safe_trainee, trainee_folder  # noqa: E402
from speechcoach.app.cli import app as cli_app  # noqa: E402
from speechcoach.errors import ParameterError  # noqa: E402
from speechcoach.app.server import bundled_scenarios, create_app, default_data_dir, sniff_suffix  # noqa: E402

from .conftest import NOT_TEXT, REPO, SAMPLES  # noqa: E402

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
SAMPLE = SAMPLES / "on_target_retirement.wav"
FAST = SAMPLES / "fast_remote_care.wav"


def client_for(data: Path, **options) -> TestClient:
    """A TestClient whose requests carry the Host header of a server on 127.0.0.1:PORT."""
    app = create_app(data, port=PORT, **options)
    return TestClient(app, base_url=BASE, raise_server_exceptions=False)


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    return client_for(tmp_path / "data", max_upload_mb=5)


def upload(client: TestClient, path: Path = SAMPLE, name: str | None = None, **fields: str):
    with open(path, "rb") as fh:
        return client.post("/api/analyze", files={"audio": (name or path.name, fh, "audio/wav")}, data=fields)


def test_page_and_static_files_are_local(client):
    res = client.get("/")
    assert res.status_code == 200 and "text/html" in res.headers["content-type"]
    assert "/static/app.js" in res.text
    for name in ("app.js", "app.css", "recorder-worklet.js"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200, name
    web = REPO / "speechcoach" / "app" / "web"
    for f in web.iterdir():
        text = f.read_text(encoding="utf-8")
        urls = [u for u in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text) if "www.w3.org/2000/svg" not in u]
        assert not urls, f"{f.name} refers outside: {urls}"
    assert "default-src 'self'" in res.headers["content-security-policy"]


def test_config_and_scenarios(client, tmp_path):
    cfg = client.get("/api/config").json()
    assert cfg["target_cpm"] == 120 and cfg["band_cpm"] == [100, 140] and cfg["max_upload_mb"] == 5
    scen = client.get("/api/scenarios").json()["scenarios"]
    assert len(scen) == 7 and {s["source"] for s in scen} == {"bundled"}
    texts = {s["text"] for s in scen}
    for txt in SAMPLES.glob("*.txt"):
        assert txt.read_text(encoding="utf-8").strip() in texts, f"{txt.name} is not bundled"
    assert all(s["title"]["zh"] and s["title"]["en"] for s in scen)


def test_scripts_folder(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "窗口问候.txt").write_text(SAMPLE.with_suffix(".txt").read_text(encoding="utf-8"), encoding="utf-8")  # what SAMPLE says
    (folder / "empty.txt").write_text("，。！", encoding="utf-8")  # nothing to speak: skipped
    (folder / "binary.txt").write_bytes(NOT_TEXT)  # not text: skipped
    said = SAMPLE.with_suffix(".txt").read_text(encoding="utf-8")
    (folder / "记事本.txt").write_bytes(said.encode("gbk"))  # saved as "ANSI" by Notepad: read as GBK
    client = client_for(tmp_path / "data", scripts_dir=folder, max_upload_mb=5)
    scen = client.get("/api/scenarios").json()["scenarios"]
    own = {s["id"]: s["text"] for s in scen if s["source"] == "folder"}
    assert set(own) == {"folder:窗口问候", "folder:记事本"}
    assert own["folder:记事本"] == own["folder:窗口问候"] == said.strip()
    res = upload(client, SAMPLE, scenario="folder:窗口问候", trainee="t")
    assert res.status_code == 200, res.text
    assert res.json()["characters"]["source"] == "script"
    assert res.json()["script"] == said.strip() or res.json()["script"] == said


def test_analyze_sample_stores_attempt(client, tmp_path):
    res = upload(client, SAMPLE, name="练习.wav", scenario="retirement", trainee="张三", lang="zh")
    assert res.status_code == 200, res.text
    body = res.json()
    report, attempt = body, body["attempt"]
    assert report["schema"] == SCHEMA == "speechcoach.report/1"
    assert report["characters"] == {**report["characters"], "count": 63, "source": "script"}
    assert 110 < report["rate"]["cpm"] < 130 and report["rate"]["verdict"] == "on_target"
    assert is_attempt_id(attempt["id"]) and attempt["trainee"] == "张三" and attempt["scenario"] == "retirement"
    assert attempt["cpm"] == report["rate"]["cpm"] and attempt["score"] == report["score"]

    import jsonschema

    schema = json.loads((REPO / "docs" / "report-schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, schema)

    folder = tmp_path / "data" / "attempts" / "张三" / attempt["id"]
    names = sorted(p.name for p in folder.iterdir())
    stem = f"张三_{attempt['id']}"
    assert names == sorted([f"{stem}.wav", f"{stem}.txt", "meta.json", "report.html", "report.json"])
    assert (folder / f"{stem}.wav").read_bytes() == SAMPLE.read_bytes()
    assert json.loads((folder / "report.json").read_text(encoding="utf-8"))["rate"] == report["rate"]
    # the report names the upload as the trainee knows it, never the storage path
    assert report["input"]["path"] == "练习.wav" and attempt["audio"] == f"{stem}.wav"
    assert json.loads((folder / "report.json").read_text(encoding="utf-8"))["input"]["path"] == "练习.wav"
    assert not any((tmp_path / "data" / ".staging").iterdir()), "staging folder left behind"

    page = client.get(attempt["report_url"])
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "练习.wav" in page.text and "attempts/张三" not in page.text and stem not in page.text
    assert f'src="/api/attempts/{attempt["id"]}/audio"' in page.text
    audio = client.get(attempt["audio_url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == SAMPLE.read_bytes()
    one = client.get(f"/api/attempts/{attempt['id']}").json()
    assert one["report"]["rate"] == report["rate"]


def test_practice_page_report_shows_what_the_score_lost(client):
    """The page's report frame shows the HTML report, with the points the score lost beside it
    (the fast sample: 213 cpm against 100–140 costs rate points)."""
    from speechcoach.locales import strings

    res = upload(client, FAST, trainee="li", lang="zh")
    assert res.status_code == 200, res.text
    body = res.json()
    lost = body["score_deductions"]
    assert lost["rate"] > 0 and body["score"] == max(0, 100 - sum(lost.values()))  # exact: whole points
    page = client.get(body["attempt"]["report_url"]).text
    R = strings("zh")["report"]
    assert f'<div class="num">{body["score"]}</div>' in page
    assert R["deduction_rate"].format(n=lost["rate"]) in page and 'class="lost"' in page


def test_a_recording_made_on_the_page_is_named_recording_in_the_report(client):
    for lang, word in (("zh", "录音"), ("en", "Recording")):
        res = upload(client, SAMPLE, name="recording.wav", scenario="retirement", trainee="张三", lang=lang, source="recorder")
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["input"]["path"] == word
        page = client.get(body["attempt"]["report_url"]).text
        assert f"<span translate=\"no\">{word}</span>" in page and "attempts/张三" not in page


def test_an_attempt_stored_with_its_storage_path_shows_the_upload_name(client, tmp_path):
    body = upload(client, SAMPLE, name="old.wav", scenario="retirement", trainee="张三", lang="zh").json()
    attempt = body["attempt"]
    stored = tmp_path / "data" / "attempts" / "张三" / attempt["id"] / "report.json"
    report = json.loads(stored.read_text(encoding="utf-8"))
    report["input"]["path"] = f"attempts/张三/{attempt['id']}/{attempt['audio']}"  # as stored before
    stored.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    assert client.get(f"/api/attempts/{attempt['id']}").json()["report"]["input"]["path"] == "old.wav"
    page = client.get(attempt["report_url"]).text
    assert "old.wav" in page and "attempts/张三" not in page


def test_config_lists_the_accepted_formats(client, monkeypatch):
    import speechcoach.audio as audio

    monkeypatch.setattr(audio, "ffmpeg_available", lambda: False)
    formats = client.get("/api/config").json()["formats"]
    assert formats["native"][:4] == ["WAV", "FLAC", "OGG", "MP3"] and formats["ffmpeg_available"] is False
    assert {"M4A", "AAC", "WEBM"} <= set(formats["ffmpeg"])
    monkeypatch.setattr(audio, "ffmpeg_available", lambda: True)
    assert client.get("/api/config").json()["formats"]["ffmpeg_available"] is True


def test_free_talk_and_own_script_and_english(client):
    free = upload(client, FAST, trainee="li", lang="en")
    assert free.status_code == 200, free.text
    rep = free.json()
    assert rep["characters"]["source"] == "estimate" and rep["lang"] == "en" and "script" not in rep
    assert free.json()["attempt"]["scenario"] == ""
    own = upload(client, FAST, trainee="li", script=(SAMPLES / "fast_remote_care.txt").read_text(encoding="utf-8"))
    assert own.status_code == 200
    assert own.json()["rate"]["verdict"] == "fast" and own.json()["attempt"]["scenario"] == "custom"


def test_non_audio_upload_is_400_with_the_cli_message(client, tmp_path):
    from speechcoach.audio import load
    from speechcoach.errors import AudioError

    notes = tmp_path / "notes.txt"
    notes.write_text("these are my notes, not a recording\n", encoding="utf-8")
    with pytest.raises(AudioError) as err:
        load(notes)
    res = upload(client, notes, trainee="wang")
    assert res.status_code == 400
    assert res.json()["error"] == f"notes.txt: {err.value.problem}" and res.json()["code"] == err.value.code
    assert "not an audio file" in res.json()["error"]
    res = client.post("/api/analyze", files={"audio": ("broken.wav", b"RIFF\x10\x00\x00\x00WAVEfmt ", "audio/wav")})
    assert res.status_code == 400 and res.json()["error"].startswith("broken.wav: truncated or corrupt")
    res = client.post("/api/analyze", data={"trainee": "wang"})
    assert res.status_code == 400 and "audio" in res.json()["error"]
    assert client.get("/api/attempts", params={"trainee": "wang"}).json()["attempts"] == []


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed: m4a decoding is not available here")
def test_a_phone_m4a_uploaded_under_a_wav_name_is_analysed(client, tmp_path):
    """The page's file picker takes any name; the upload used to be stored and read as WAV: 400."""
    import subprocess

    m4a = tmp_path / "from_phone.m4a"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(FAST), "-c:a", "aac", str(m4a)], check=True)
    res = upload(client, m4a, name="录音.wav", trainee="wang", lang="en")
    assert res.status_code == 200, res.json()
    assert res.json()["input"]["duration_s"] == pytest.approx(19.3, abs=0.1)  # AAC adds encoder padding


def test_bad_fields_are_400(client):
    assert upload(client, SAMPLE, scenario="nope").json()["error"] == "unknown scenario 'nope'"
    res = upload(client, SAMPLE, script="，。！")
    assert res.status_code == 400 and "no characters to speak" in res.json()["error"]
    res = upload(client, SAMPLE, lang="fr")
    assert res.status_code == 400 and "lang" in res.json()["error"]


def test_oversize_upload_is_413(tmp_path):
    small = client_for(tmp_path / "data", max_upload_mb=0.05)  # 50 kB; the sample is ~1 MB
    res = upload(small, SAMPLE, trainee="big")
    assert res.status_code == 413 and "too large" in res.json()["error"]

    def chunks():  # no Content-Length: refused while streaming
        for _ in range(40):
            yield b"x" * 10_000

    res = small.post("/api/analyze", content=chunks(), headers={"content-type": "multipart/form-data; boundary=zz"})
    assert res.status_code == 413 and "too large" in res.json()["error"]
    assert not (tmp_path / "data" / "attempts").exists()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1:9999", "localhost", "192.168.1.5:8765"])
def test_wrong_host_is_refused(client, host):
    res = client.get("/api/config", headers={"host": host})
    assert res.status_code == 421 and "Host" in res.json()["error"]
    assert client.get("/", headers={"host": host}).status_code == 421


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "LOCALHOST:8765"])
def test_loopback_hosts_are_served(client, host):
    assert client.get("/api/config", headers={"host": host}).status_code == 200


def test_attempts_listed_and_deleted(client, tmp_path):
    ids = [upload(client, SAMPLE, scenario="retirement", trainee="Zhang San").json()["attempt"]["id"] for _ in range(2)]
    other = upload(client, FAST, trainee="Li Si").json()["attempt"]["id"]
    listed = client.get("/api/attempts", params={"trainee": "Zhang San"}).json()
    folder = trainee_folder("Zhang San")
    assert folder.startswith("Zhang-San-") and listed["trainee"] == folder and [a["id"] for a in listed["attempts"]] == ids
    assert {"cpm", "verdict", "score", "created", "scenario"} <= set(listed["attempts"][0])

    store = AttemptStore(tmp_path / "data")
    audio = store.get(ids[0]).audio_path
    assert audio.exists()
    res = client.delete(f"/api/attempts/{ids[0]}", params={"trainee": "Zhang San"})
    assert res.status_code == 200 and res.json() == {"deleted": ids[0]}
    assert not audio.exists() and not audio.parent.exists()
    assert client.get(f"/api/attempts/{ids[0]}/audio").status_code == 404
    assert client.delete(f"/api/attempts/{ids[0]}", params={"trainee": "Zhang San"}).status_code == 404
    assert [a["id"] for a in client.get("/api/attempts", params={"trainee": "Zhang San"}).json()["attempts"]] == [ids[1]]

    res = client.delete("/api/attempts", params={"trainee": "Zhang San"})
    assert res.json() == {"trainee": folder, "deleted": 1}
    assert not (tmp_path / "data" / "attempts" / folder).exists()
    assert client.get("/api/attempts", params={"trainee": "Zhang San"}).json()["attempts"] == []
    assert client.get(f"/api/attempts/{other}").status_code == 200, "another trainee's attempt was touched"
    assert not any((tmp_path / "data" / ".trash").iterdir())


def test_errors_are_json_without_traceback(client):
    for method, url in [("get", "/api/attempts/20250101-000000-abcdef"), ("get", "/api/attempts/../../etc/passwd"), ("get", "/nope")]:
        res = getattr(client, method)(url)
        assert res.status_code == 404 and set(res.json()) == {"error", "code", "message"}, url
    res = client.get("/api/attempts")  # trainee missing
    assert res.status_code == 400 and "trainee" in res.json()["error"]
    assert "Traceback" not in res.text


def test_trainee_names_are_safe_for_paths(client, tmp_path):
    assert safe_trainee("../../etc/passwd") == "etc-passwd"
    assert safe_trainee(" 张 三 ") == "张-三"
    assert safe_trainee("a_b") == "a-b"  # '_' separates trainee and id in file names
    assert safe_trainee("...") == safe_trainee("") == safe_trainee(None) == "anonymous"
    assert safe_trainee("con") == "con-" and safe_trainee("x" * 300) == "x" * 48
    assert safe_trainee("a/b\\c:d*e?f\x00g") == "a-b-c-d-e-f-g"
    res = upload(client, SAMPLE, trainee="../../outside")
    assert res.status_code == 200
    assert res.json()["attempt"]["trainee"] == trainee_folder("../../outside") and trainee_folder("../../outside").startswith("outside-")
    folder = tmp_path / "data" / "attempts" / trainee_folder("../../outside") / res.json()["attempt"]["id"]
    assert folder.is_dir() and not (tmp_path / "outside").exists()


def test_sniffing_and_store_units(tmp_path):
    assert sniff_suffix(b"RIFF\0\0\0\0WAVE") == ".wav" and sniff_suffix(b"fLaC") == ".flac"
    assert sniff_suffix(b"\0\0\0\x20ftypM4A ") == ".m4a" and sniff_suffix(b"hello") is None
    store = AttemptStore(tmp_path)
    assert store.list("nobody") == [] and store.get("not-an-id") is None and not store.delete("20250101-000000-abcdef", "nobody")
    assert len(bundled_scenarios()) == 7


def test_default_data_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("SPEECHCOACH_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / "speechcoach"


# -- the command line ------------------------------------------------------------------------

runner = CliRunner()


def _one_line_error(res) -> str:
    err = res.stderr if hasattr(res, "stderr") else res.output
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(("speechcoach: error: ", "speechcoach：错误：")), err  # en, zh
    assert "Traceback" not in res.output
    return lines[0]


def test_serve_refuses_a_busy_port(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        res = runner.invoke(cli_app, ["serve", "--port", str(port), "--no-browser", "--data", str(tmp_path), "--lang", "en"])
        zh = runner.invoke(cli_app, ["serve", "--port", str(port), "--no-browser", "--data", str(tmp_path)])
    assert res.exit_code == 2
    line = _one_line_error(res)
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in line and line.endswith("try another --port")
    assert zh.exit_code == 2 and _one_line_error(zh).startswith(f"speechcoach：错误：无法在 127.0.0.1:{port} 上监听：端口已被占用")


@pytest.mark.parametrize(("args", "start"), [([], "speechcoach：练习页面在 http://127.0.0.1:{port}/（练习记录保存在 {data}；"),
                                             (["--lang", "en"], "speechcoach: practice page at http://127.0.0.1:{port}/  (attempts in {data};")])
def test_serve_says_where_the_page_is_in_the_run_language(tmp_path, args, start):
    """The real command as a process: its start-up line on stderr, then it is stopped."""
    import subprocess

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "speechcoach", "serve", "--port", str(port), "--no-browser", "--data", str(data), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # printed before the server starts listening (stderr is line-buffered)
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    assert line.startswith(start.format(port=port, data=data)), line


def test_serve_names_a_host_that_does_not_resolve(tmp_path):
    res = runner.invoke(cli_app, ["serve", "--host", "not-a-host.invalid", "--no-browser", "--data", str(tmp_path)])
    assert res.exit_code == 2
    line = _one_line_error(res)  # one line: no "listening on …" warning before it
    assert line.startswith("speechcoach: error: --host not-a-host.invalid: cannot resolve this host name")
    assert "--port" not in line


def test_serve_refuses_a_data_path_that_is_a_file_or_cannot_be_created(tmp_path):
    a_file = tmp_path / "good.wav"
    a_file.write_bytes(SAMPLE.read_bytes())
    with socket.socket() as sock:  # a port that is free, so the data folder is what fails
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    res = runner.invoke(cli_app, ["serve", "--data", str(a_file), "--no-browser", "--port", str(port)])
    assert res.exit_code == 2
    assert _one_line_error(res) == f"speechcoach: error: --data {a_file}: is a file, not a folder"
    with pytest.raises(ParameterError, match=re.escape(f"--data {a_file / 'sub'}: cannot create the folder")):
        create_app(a_file / "sub", port=PORT)
    fresh = tmp_path / "new" / "data"
    create_app(fresh, port=PORT)
    assert fresh.is_dir() and not any(fresh.iterdir())  # created, the write test left nothing behind


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes in read-only folders; chmod means little on Windows")
def test_serve_refuses_a_read_only_data_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(ParameterError, match=re.escape(f"--data {ro}: cannot write in the folder (Permission denied)")):
            create_app(ro, port=PORT)
    finally:
        ro.chmod(0o755)


def test_serve_rejects_bad_options(tmp_path):
    res = runner.invoke(cli_app, ["serve", "--scripts", str(tmp_path / "missing"), "--no-browser"])
    assert res.exit_code == 2 and "not a folder" in _one_line_error(res)
    res = runner.invoke(cli_app, ["serve", "--max-upload-mb", "0", "--no-browser", "--data", str(tmp_path), "--port", "1"])
    assert res.exit_code == 2


@pytest.fixture()
def no_sounddevice(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError


@pytest.fixture()
def no_microphone(monkeypatch):
    fake = types.ModuleType("sounddevice")
    fake.query_devices = lambda: [{"name": "HDMI out", "max_input_channels": 0, "max_output_channels": 2, "default_samplerate": 48000.0}]
    fake.default = types.SimpleNamespace(device=(-1, 0))
    monkeypatch.setitem(sys.modules, "sounddevice", fake)


def test_record_without_sounddevice(no_sounddevice, tmp_path):
    res = runner.invoke(cli_app, ["record", str(tmp_path / "x.wav"), "--seconds", "1"])
    assert res.exit_code == 2
    assert "pip install 'speechcoach[record]'" in _one_line_error(res)
    assert not (tmp_path / "x.wav").exists()


def test_record_without_microphone(no_microphone, tmp_path):
    res = runner.invoke(cli_app, ["record", str(tmp_path / "x.wav"), "--seconds", "1", "--lang", "en"])
    assert res.exit_code == 2 and "no microphone" in _one_line_error(res)
    res = runner.invoke(cli_app, ["record", "--list-devices"])  # zh, the default
    assert res.exit_code == 2 and _one_line_error(res) == "speechcoach：错误：找不到麦克风（没有音频输入设备）"


def test_record_on_this_machine_fails_cleanly(tmp_path):
    """No microphone here (and perhaps no PortAudio): a one-line error, never a traceback."""
    import subprocess

    exe = Path(sys.executable).with_name("speechcoach")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "speechcoach"]
    res = subprocess.run([*cmd, "record", str(tmp_path / "x.wav"), "--seconds", "1"], capture_output=True, text=True, timeout=60)
    if res.returncode == 0:
        pytest.skip("this machine has a working microphone")
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("speechcoach：错误：") and "Traceback" not in res.stderr  # zh, the default


def test_record_needs_a_target_file(no_microphone):
    res = runner.invoke(cli_app, ["record", "--seconds", "1"])
    assert res.exit_code == 2


def test_stored_report_html_plays_the_file_beside_it(client, tmp_path):
    attempt = upload(client, SAMPLE, scenario="retirement", trainee="zhao").json()["attempt"]
    folder = tmp_path / "data" / "attempts" / "zhao" / attempt["id"]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert f'src="{attempt["audio"]}"' in html and (folder / attempt["audio"]).exists()


def test_no_browser_opened_without_a_display(monkeypatch):
    from speechcoach.app.server import open_browser, reachable_names
    from speechcoach.app.webguard import is_loopback

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert open_browser("http://127.0.0.1:1/") is False
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("[::1]") and not is_loopback("0.0.0.0")
    assert reachable_names("192.168.1.5") == ["192.168.1.5"]
    assert all(not is_loopback(n) for n in reachable_names("0.0.0.0"))


def test_the_free_talk_hint_says_what_will_count(tmp_path, monkeypatch, whisper_model):
    """``/api/config``'s ``free_talk_count`` picks the page's hint for talk without a script: the
    recogniser when ``--count``/the rubric lets it run and it is installed, else the sound."""
    from speechcoach.settings import Settings

    def free_talk(settings: Settings) -> str:
        return client_for(tmp_path / "data", settings=settings).get("/api/config").json()["free_talk_count"]

    assert free_talk(Settings(count="auto")) == "asr"  # no model assembled yet: it will be, from its packages
    monkeypatch.setenv("SPEECHCOACH_ASR_MODEL", str(whisper_model))
    assert free_talk(Settings(count="auto")) == "asr"
    assert free_talk(Settings(count="acoustic")) == "estimate"
    monkeypatch.setattr("speechcoach.precise.asr.available", lambda: False)
    assert free_talk(Settings(count="auto")) == "estimate"  # the recogniser cannot run: the sound counts
    js = (REPO / "speechcoach" / "app" / "web" / "app.js").read_text(encoding="utf-8")
    hints = re.findall(r'free_talk_hint_asr: "([^"]+)"', js)
    assert len(hints) == 2 and "语音识别" in hints[0] and "speech recogniser" in hints[1]
    assert 'state.config.free_talk_count === "asr" ? "free_talk_hint_asr" : "free_talk_hint"' in js
