"""`serve` accepts only its own page: cross-site requests, framing, scoped deletes, trainee
folders, a header-read timeout, private storage and the scripts folder read once per change.

Real requests throughout: FastAPI's TestClient (the whole ASGI stack, middleware included) and,
for the connection-level timeout, a real uvicorn on loopback in a subprocess.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the server needs fastapi (pip install -e '.[test]')")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (pip install -e '.[test]')")

from fastapi.testclient import TestClient  # noqa: E402

from speechcoach.app.attempts import AttemptStore, trainee_folder, trainee_key  # noqa: E402
from speechcoach.app.server import create_app  # noqa: E402

from .conftest import SAMPLES  # noqa: E402

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
SAMPLE = SAMPLES / "on_target_retirement.wav"
EVIL = "https://evil.example"


def client_for(data: Path, **options) -> TestClient:
    return TestClient(create_app(data, port=PORT, **options), base_url=BASE, raise_server_exceptions=False)


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    return client_for(tmp_path / "data", max_upload_mb=5)


def upload(client: TestClient, trainee: str, headers: dict[str, str] | None = None, **fields: str):
    with open(SAMPLE, "rb") as fh:
        return client.post(
            "/api/analyze", files={"audio": (SAMPLE.name, fh, "audio/wav")}, data={"trainee": trainee, "scenario": "retirement", **fields},
            headers=headers or {},
        )


def stored(data: Path) -> list[Path]:
    root = data / "attempts"
    return sorted(root.glob("*/*/meta.json")) if root.is_dir() else []


# -- other sites ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},  # any web page the trainee visits: a multipart POST needs no preflight
        {"Origin": "null"},  # a sandboxed frame or a file:// page
        {"Origin": "http://127.0.0.1:9999"},  # another server on this machine
        {"Sec-Fetch-Site": "cross-site"},  # a browser that names the site but not the origin
        {"Origin": BASE, "Sec-Fetch-Site": "same-site"},  # forged Origin cannot hide what the browser says
    ],
)
def test_a_cross_site_upload_is_403_and_nothing_is_stored(client, tmp_path, headers):
    res = upload(client, "victim", headers)
    assert res.status_code == 403, res.text
    body = res.json()
    assert body["code"] == "cross_site_refused" and set(body) == {"error", "code", "message"}
    assert "别的网站" in body["message"]  # in the server's language (zh)
    assert stored(tmp_path / "data") == []


def test_the_pages_own_requests_pass(client, tmp_path):
    own = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}
    res = upload(client, "li", own)
    assert res.status_code == 200, res.text
    aid = res.json()["attempt"]["id"]
    assert client.get("/api/attempts", params={"trainee": "li"}, headers=own).status_code == 200
    assert client.delete(f"/api/attempts/{aid}", params={"trainee": "li"}, headers=own).status_code == 200
    # "localhost" is the same server, as the Host check has it
    res = upload(client, "li", {"Origin": f"http://localhost:{PORT}", "Host": f"localhost:{PORT}"})
    assert res.status_code == 200, res.text


def test_a_cross_site_delete_is_403_and_deletes_nothing(client, tmp_path):
    aid = upload(client, "li").json()["attempt"]["id"]
    for headers in ({"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"}):
        assert client.delete(f"/api/attempts/{aid}", params={"trainee": "li"}, headers=headers).status_code == 403
        assert client.delete("/api/attempts", params={"trainee": "li"}, headers=headers).status_code == 403
    assert len(stored(tmp_path / "data")) == 1


def test_other_sites_cannot_read_the_api_but_may_link_to_the_page(client):
    aid = upload(client, "li").json()["attempt"]["id"]
    cross = {"Sec-Fetch-Site": "cross-site"}
    for url in ("/api/config", f"/api/attempts/{aid}/audio", f"/api/attempts/{aid}/report", "/api/attempts?trainee=li"):
        assert client.get(url, headers=cross).status_code == 403, url
    assert client.get("/", headers={**cross, "Sec-Fetch-Mode": "navigate"}).status_code == 200  # a link to the page


def test_no_page_can_be_framed(client):
    aid = upload(client, "li").json()["attempt"]["id"]
    answers = {
        "page": client.get("/"),
        "static": client.get("/static/app.js"),
        "api": client.get("/api/config"),
        "not found": client.get("/nope"),
        "wrong host": client.get("/", headers={"host": "evil.example"}),
        "cross-site": client.post("/api/analyze", headers={"Origin": EVIL}),
    }
    for what, res in answers.items():
        csp = res.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and res.headers.get("x-frame-options") == "DENY", what
    # the attempt's report is framed by the practice page itself, and by nothing else
    rep = client.get(f"/api/attempts/{aid}/report")
    assert rep.status_code == 200 and "frame-ancestors 'self'" in rep.headers["content-security-policy"]
    assert rep.headers["x-frame-options"] == "SAMEORIGIN"


# -- deletes and trainee folders --------------------------------------------------------------


def test_a_delete_reaches_only_the_named_trainees_attempts(client, tmp_path):
    mine = upload(client, "li").json()["attempt"]["id"]
    theirs = upload(client, "wang").json()["attempt"]["id"]
    res = client.delete(f"/api/attempts/{theirs}", params={"trainee": "li"})
    assert res.status_code == 404 and res.json()["code"] == "attempt_not_found"  # as if there were none
    assert client.get(f"/api/attempts/{theirs}").status_code == 200
    assert client.delete(f"/api/attempts/{theirs}").status_code == 400  # no trainee: refused
    assert client.delete(f"/api/attempts/{mine}", params={"trainee": "li"}).status_code == 200
    assert client.get(f"/api/attempts/{theirs}").status_code == 200


@pytest.mark.parametrize("name", ["", " ", "..", "../..", "/", "-", "\x00"])
def test_a_delete_or_listing_without_a_name_is_refused(client, tmp_path, name):
    anon = upload(client, "").json()["attempt"]  # an API user may upload without a name
    assert anon["trainee"] == "anonymous"
    for method in (client.delete, client.get):
        res = method("/api/attempts", params={"trainee": name})
        assert res.status_code == 400 and res.json()["code"] == "trainee_required", (method, name)
    assert client.delete(f"/api/attempts/{anon['id']}", params={"trainee": name}).status_code == 400
    assert len(stored(tmp_path / "data")) == 1


def test_distinct_names_never_share_a_folder(client, tmp_path):
    names = ["张 三", "张-三", "张三", "Li", "li", "LI", "anonymous", "con", "a_b", "a-b", "x" * 60, "x" * 61]
    folders = {n: trainee_folder(n) for n in names}
    assert len({f.lower() for f in folders.values()}) == len(names), folders  # apart even where case is ignored
    assert folders["张-三"] == "张-三" and folders["张三"] == "张三" and folders["li"] == "li"  # readable when they can be
    assert all("_" not in f and "/" not in f and not f.startswith(".") for f in folders.values())
    assert trainee_folder(" 张  三 ") == folders["张 三"] and trainee_key(" 张  三 ") == "张 三"  # one trainee
    a = upload(client, "张 三").json()["attempt"]
    b = upload(client, "张-三").json()["attempt"]
    assert a["trainee"] != b["trainee"]
    listed = {n: [x["id"] for x in client.get("/api/attempts", params={"trainee": n}).json()["attempts"]] for n in ("张 三", "张-三")}
    assert listed == {"张 三": [a["id"]], "张-三": [b["id"]]}
    assert client.delete("/api/attempts", params={"trainee": "张 三"}).json()["deleted"] == 1
    assert client.get(f"/api/attempts/{b['id']}").status_code == 200


def test_attempts_stored_by_an_earlier_version_stay_their_makers(tmp_path):
    """Before, "张 三" was stored in the folder "张-三", which is now the name "张-三"'s own."""
    data = tmp_path / "data"
    client = client_for(data)
    new = upload(client, "张-三").json()["attempt"]["id"]
    old_id = "20240101-120000-abcdef"
    old = data / "attempts" / "张-三" / old_id
    old.mkdir(parents=True)
    (old / "meta.json").write_text(json.dumps({"id": old_id, "trainee": "张-三", "trainee_name": "张 三", "audio": "x.wav", "saved_at": 1.0}), encoding="utf-8")
    (old / "report.json").write_text("{}", encoding="utf-8")
    ids = {n: [a["id"] for a in client.get("/api/attempts", params={"trainee": n}).json()["attempts"]] for n in ("张 三", "张-三")}
    assert ids == {"张 三": [old_id], "张-三": [new]}
    assert client.delete(f"/api/attempts/{old_id}", params={"trainee": "张-三"}).status_code == 404
    assert client.delete(f"/api/attempts/{old_id}", params={"trainee": "张 三"}).status_code == 200
    assert client.get(f"/api/attempts/{new}").status_code == 200


# -- storage ----------------------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_attempts_are_readable_by_their_owner_only(tmp_path):
    data = tmp_path / "data"
    (data / "attempts" / "old").mkdir(parents=True, mode=0o755)  # left by an earlier version
    os.chmod(data / "attempts", 0o755)
    client = client_for(data)
    assert stat.S_IMODE((data / "attempts").stat().st_mode) == 0o700
    upload(client, "li")
    paths = [p for p in (data / "attempts").rglob("*") if "old" not in p.parts]
    assert paths
    for p in paths:
        want = 0o700 if p.is_dir() else 0o600
        assert stat.S_IMODE(p.stat().st_mode) == want, (p, oct(p.stat().st_mode))
    for folder in (data / ".staging", data / "attempts"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_the_scripts_folder_is_read_once_per_change(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "问候.txt").write_text("您好，请问您要办理什么业务？", encoding="utf-8")
    (folder / "huge.txt").write_bytes("字".encode("utf-8") * 400_000)  # 1.2 MB: skipped unread
    app = create_app(tmp_path / "data", port=PORT, scripts_dir=folder)
    client = TestClient(app, base_url=BASE)
    desk_scripts = _scripts_of(app)
    for _ in range(5):
        own = [s["id"] for s in client.get("/api/scenarios").json()["scenarios"] if s["source"] == "folder"]
        assert own == ["folder:问候"]
    assert desk_scripts.reads == 1
    time.sleep(0.01)
    (folder / "退休.txt").write_text("退休人员待遇资格认证每年一次。", encoding="utf-8")
    own = [s["id"] for s in client.get("/api/scenarios").json()["scenarios"] if s["source"] == "folder"]
    assert own == ["folder:退休", "folder:问候"] and desk_scripts.reads == 2
    client.get("/api/scenarios")
    assert desk_scripts.reads == 2


def _scripts_of(app):
    """The app's :class:`~speechcoach.app.server.ScriptFolder` (reached through a route's closure)."""
    from speechcoach.app.server import ScriptFolder

    for route in app.routes:
        for cell in getattr(getattr(route, "endpoint", None), "__closure__", None) or ():
            desk = cell.cell_contents
            if isinstance(getattr(desk, "scripts", None), ScriptFolder):
                return desk.scripts
    raise AssertionError("no ScriptFolder found")


# -- a real server on loopback ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def live(tmp_path: Path):
    """A real uvicorn serving the app on loopback with a 1 s header timeout; yields its port."""
    port = _free_port()
    code = (
        "import sys; from speechcoach.app.server import create_app, run; "
        f"run(create_app(sys.argv[1], port={port}), host='127.0.0.1', port={port}, header_timeout_s=1.0)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "data")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start: {proc.communicate(timeout=5)[1]!r}")
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _request(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(raw)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def test_a_request_whose_headers_never_end_is_closed(live):
    """The slow client trickles a byte every 0.2 s, which keeps uvicorn's own idle timer from ever firing."""
    with socket.create_connection(("127.0.0.1", live), timeout=10) as s:
        s.sendall(f"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1:{live}\r\n".encode())
        t0 = time.monotonic()
        closed = False
        while time.monotonic() - t0 < 6:
            try:
                s.sendall(b"X")
            except OSError:  # reset: closed
                closed = True
                break
            s.settimeout(0.2)
            try:
                if s.recv(1024) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
        elapsed = time.monotonic() - t0
    assert closed and elapsed < 4, f"still open after {elapsed:.1f} s"
    # a whole request is answered as always, and a cross-site POST is refused on the wire too
    ok = _request(live, f"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1:{live}\r\nConnection: close\r\n\r\n".encode())
    assert ok.startswith(b"HTTP/1.1 200")
    body = b"--b\r\nContent-Disposition: form-data; name=\"trainee\"\r\n\r\nx\r\n--b--\r\n"
    refused = _request(
        live,
        f"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1:{live}\r\nOrigin: {EVIL}\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body,
    )
    assert refused.startswith(b"HTTP/1.1 403") and b"x-frame-options: deny" in refused.lower()
