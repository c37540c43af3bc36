"""The practice desk: a small local web server (``speechcoach serve``) and its JSON API.

The page (``speechcoach/web``) records the trainee in the browser, uploads a 16-bit WAV to
``POST /api/analyze`` and shows the same HTML report the command line writes. Every attempt is
kept under ``DATA/attempts`` (see :mod:`speechcoach.app.attempts`).

Endpoints
---------
``GET  /``                         the page
``GET  /api/config``               target rate, band, upload limit, default language, accepted formats
``GET  /api/scenarios``            bundled practice scripts, plus those in ``--scripts DIR``
``POST /api/analyze``              multipart ``audio`` (+ ``script``, ``scenario``, ``trainee``, ``lang``, ``source``)
``GET  /api/attempts?trainee=N``   one trainee's attempts, oldest first
``DELETE /api/attempts?trainee=N`` all of one trainee's attempts
``GET  /api/attempts/ID``          one attempt's meta and JSON report
``DELETE /api/attempts/ID?trainee=N`` remove one of trainee N's attempts, recording included
``GET  /api/attempts/ID/report``   its HTML report (audio player included)
``GET  /api/attempts/ID/audio``    its recording

FastAPI and uvicorn are imported by this module, so import it only to serve.

Safety (the middleware is in :mod:`speechcoach.app.webguard`; ``docs/practice-page.md`` has the
whole model): the server answers only requests whose ``Host`` is its own loopback name and port
(DNS-rebinding protection); refuses with 403 a POST or DELETE whose ``Origin`` is not its own
and any API request a browser marks ``Sec-Fetch-Site: cross-site``; cannot be framed by another
page; deletes only the attempts of the trainee the page names (a name is needed: not empty,
not ``..``); closes a connection whose request headers are not complete within
:data:`HEADER_TIMEOUT_S`; stores attempts readable by their owner only (0600 files, 0700
folders); refuses bodies over the upload limit with 413 without buffering them; and every
error is one line of JSON — never a traceback::

    {"error": "notes.txt: not an audio file (it contains text)",   # English, as the CLI words it
     "code": "not_audio_text",                                     # stable (None when it has none)
     "message": "notes.txt：不是音频文件（里面是文字）"}              # in the request's language

The language of ``message`` is the ``lang`` of the upload (``POST /api/analyze``), else a
``lang`` query parameter, else the server's default (``--lang``); templates in the ``[errors]``
table of ``locales/*.toml``.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import json
import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from .attempts import FILE_MODE, Attempt, AttemptStore, display_name, is_attempt_id, named, new_attempt_id, trainee_folder, trainee_key
from ..errors import InputError, ParameterError, ScriptError, SpeechcoachError
from ..fileio import user_data_dir, writable_folder
from ..locales import LANGS
from ..settings import Settings
from .webguard import (
    BodyLimit,
    HostGuard,
    OriginGuard,
    SecurityHeaders,
    UploadTooLarge,
    allowed_hosts,
    allowed_origins,
    error_body,
    is_loopback,
    scope_lang,
)

log = logging.getLogger("speechcoach.server")

DEFAULT_PORT = 8765
DEFAULT_MAX_UPLOAD_MB = 50.0
MAX_SCRIPT_CHARS = 20_000
MAX_FIELD_CHARS = 200
HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}
"""Error codes of the web framework's own answers (unknown path, wrong method), by HTTP status."""
_REPORT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; media-src 'self' data: blob:; "
    "font-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
"""The attempt report's own Content-Security-Policy; it replaces the page's (:class:`~speechcoach.app.webguard.SecurityHeaders`):
only the practice page itself may frame it."""
HEADER_TIMEOUT_S = 10.0
"""A connection whose request line and headers are not complete this long (s) after it opened,
or after its previous response, is closed: a browser sends them at once, and a client that
trickles them would otherwise hold a connection open for ever."""
MAX_SCRIPT_FILE_BYTES = 1_000_000
"""A ``--scripts`` file larger than this (bytes) is skipped unread, as the command line refuses
scripts over 1 MB: a practice script is a few kilobytes."""


def default_data_dir() -> Path:
    """Where attempts are kept by default: the user's data folder (:func:`speechcoach.fileio.user_data_dir`),
    the same folder that holds the speech-recognition model."""
    return user_data_dir()


# -- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A practice script the trainee can pick.

    Attributes
    ----------
    id : str
        ``"retirement"`` for a bundled one, ``"folder:NAME"`` for ``NAME.txt`` in ``--scripts``.
    title : dict
        ``{"zh": ..., "en": ...}``.
    text : str
    source : str
        ``"bundled"`` or ``"folder"``.
    """

    id: str
    title: dict[str, str]
    text: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text, "source": self.source}


def bundled_scenarios() -> list[Scenario]:
    """The practice scripts shipped in ``speechcoach/data/scripts`` (copies of ``samples/*.txt``)."""
    base = resources.files("speechcoach").joinpath("data", "scripts")
    index = tomllib.loads(base.joinpath("index.toml").read_text(encoding="utf-8"))
    out = []
    for item in index.get("scenario", []):
        text = base.joinpath(item["file"]).read_text(encoding="utf-8").strip()
        out.append(Scenario(item["id"], {"zh": item["zh"], "en": item["en"]}, text, "bundled"))
    return out


def folder_scenarios(folder: Path | None) -> list[Scenario]:
    """Every usable ``*.txt`` script directly in ``folder``, read by :func:`~speechcoach.analysis.pipeline.read_script`
    (UTF-8, UTF-16 or GB18030; unusable ones, and those over :data:`MAX_SCRIPT_FILE_BYTES`, are skipped)."""
    if folder is None or not folder.is_dir():
        return []
    from ..analysis.pipeline import read_script

    out = []
    for path in sorted(folder.glob("*.txt")):
        try:
            if path.stat().st_size > MAX_SCRIPT_FILE_BYTES:
                log.warning("skipping script %s: larger than %d bytes", path, MAX_SCRIPT_FILE_BYTES)
                continue
            text = read_script(path).strip()
        except OSError as exc:
            log.warning("skipping script %s: %s", path, exc.strerror or exc)
            continue
        except SpeechcoachError as exc:
            log.warning("skipping script %s", exc)
            continue
        out.append(Scenario(f"folder:{path.stem}", {"zh": path.stem, "en": path.stem}, text[:MAX_SCRIPT_CHARS], "folder"))
    return out


class ScriptFolder:
    """The ``--scripts`` folder's practice scripts, read again only when the folder changes.

    Each call to :meth:`scenarios` looks at the folder's listing (every ``*.txt`` file's name,
    size and modification time, and the folder's own), which costs a few ``stat`` calls; the
    files are read (:func:`folder_scenarios`) only when that differs from the last read.
    Safe to call from several threads.
    """

    def __init__(self, folder: Path | None) -> None:
        import threading

        self.folder = folder
        self._lock = threading.Lock()
        self._seen: object = None
        self._scenarios: list[Scenario] = []
        self.reads = 0
        """How many times the scripts were read (for tests)."""

    def _listing(self) -> object:
        if self.folder is None:
            return None
        try:
            own = self.folder.stat().st_mtime_ns
            files = []
            for path in self.folder.glob("*.txt"):
                try:
                    st = path.stat()
                except OSError:
                    continue
                files.append((path.name, st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            return ("unreadable",)
        return (own, tuple(sorted(files)))

    def scenarios(self) -> list[Scenario]:
        """The folder's scripts as of now."""
        with self._lock:
            listing = self._listing()
            if listing != self._seen or self.reads == 0:
                self._scenarios = folder_scenarios(self.folder)
                self._seen = listing
                self.reads += 1
            return list(self._scenarios)


# -- uploads ---------------------------------------------------------------------------------

_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", ".wav"),
    (0, b"RF64", ".wav"),
    (0, b"fLaC", ".flac"),
    (0, b"OggS", ".ogg"),
    (0, b"ID3", ".mp3"),
    (0, b"\xff\xfb", ".mp3"),
    (0, b"\xff\xf3", ".mp3"),
    (0, b"\xff\xf2", ".mp3"),
    (4, b"ftyp", ".m4a"),
    (0, b"\x1a\x45\xdf\xa3", ".webm"),
    (0, b"#!AMR", ".amr"),
)


def sniff_suffix(head: bytes) -> str | None:
    """A file suffix for the audio container whose signature starts ``head``, or ``None``."""
    for offset, magic, suffix in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return suffix
    return None


def upload_name(filename: str | None) -> str:
    """The uploaded file's base name, made safe to show (no folders, no control characters)."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:120] or "upload"


def choose_suffix(filename: str, head: bytes) -> str:
    """The suffix to store an upload under: its own if it names an audio format, else sniffed."""
    from ..audio import AUDIO_SUFFIXES

    own = Path(filename).suffix.lower()
    if own in AUDIO_SUFFIXES:
        return own
    sniffed = sniff_suffix(head)
    if sniffed is not None:
        return sniffed
    return own if own and len(own) <= 10 and own[1:].isalnum() else ".bin"


# -- the HTML report -------------------------------------------------------------------------


def report_html(report: dict[str, Any], *, audio_src: str | None) -> str:
    """The attempt's HTML report (the one ``speechcoach analyze -o x.html`` writes) playing ``audio_src``.

    Falls back to a plain page around the text report if the HTML renderer fails, so an
    attempt is never lost to a rendering bug.
    """
    from ..render import render

    try:
        return render(report, "html", audio_src=audio_src)
    except Exception:
        log.exception("HTML renderer failed; using the plain report")
        return _plain_html(report, audio_src)


def _plain_html(report: dict[str, Any], audio_src: str | None) -> str:
    from ..locales import strings
    from ..render import render

    lang = report.get("lang", "zh")
    title = strings(lang)["labels"]["title"]
    player = f'<audio controls preload="metadata" src="{_html.escape(audio_src, quote=True)}"></audio>' if audio_src else ""
    text = render(report, "text")
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{_html.escape(title)}</title>"
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;margin:1rem}"
        "pre{white-space:pre-wrap;font-family:'Noto Sans Mono CJK SC','Noto Sans CJK SC',monospace;font-size:14px}"
        "audio{width:100%}</style></head><body>"
        f"<h1>{_html.escape(title)}</h1>{player}<pre>{_html.escape(text)}</pre></body></html>"
    )


# -- the application -------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the API: HTTP ``status``, the English ``message``, its ``code`` and ``params``.

    ``lang`` is the language of its ``message``; ``None`` (the default) means the request's
    (its ``lang`` query parameter, else the server's).
    """

    def __init__(
        self, status: int, message: str, *, code: str | None = None, params: dict[str, Any] | None = None, lang: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.params = dict(params or {})
        self.lang = lang


class Waiting:
    """How far each running analysis of the practice page has got, by the ``job`` id the page
    sent with its upload (``GET /api/progress/{job}``): the pipeline's progress callback
    (:data:`speechcoach.analysis.pipeline.Progress`) writes here, the page polls while it waits.
    At most :data:`MAX_JOBS` are kept (the oldest dropped first); an entry ends with its analysis."""

    MAX_JOBS = 64

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = {}

    def callback(self, job: str) -> Any:
        """A progress callback that records ``job``'s stage and the seconds of audio done."""

        def progress(stage: str, done_s: float, total_s: float) -> None:
            with self._lock:
                self._jobs.pop(job, None)
                self._jobs[job] = {"stage": stage, "done_s": round(float(done_s), 1), "total_s": round(float(total_s), 1)}
                while len(self._jobs) > self.MAX_JOBS:
                    self._jobs.pop(next(iter(self._jobs)))

        return progress

    def get(self, job: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._jobs.get(job)
            return dict(found) if found is not None else None

    def end(self, job: str) -> None:
        with self._lock:
            self._jobs.pop(job, None)


@dataclass(frozen=True)
class Desk:
    """What the routes share: the attempt store, the analysis settings and the practice scripts.

    Attributes
    ----------
    store : AttemptStore
    settings : Settings
        Target, band, pause thresholds and default report language for every analysis.
    scripts : ScriptFolder
        The ``--scripts`` folder's scripts, read again when the folder changes.
    bundled : list of Scenario
        The bundled practice scripts, read once.
    max_upload_mb : float
    """

    store: AttemptStore
    settings: Settings
    scripts: ScriptFolder
    bundled: list[Scenario]
    max_upload_mb: float
    waiting: Waiting = field(default_factory=Waiting)
    """The analyses running now and how far each has got (``GET /api/progress/{job}``)."""

    def scenarios(self) -> list[Scenario]:
        """The bundled practice scripts, then those in the ``--scripts`` folder."""
        return self.bundled + self.scripts.scenarios()

    def find_scenario(self, scenario_id: str) -> Scenario | None:
        """The practice script with this id, or ``None``."""
        for s in self.scenarios():
            if s.id == scenario_id:
                return s
        return None

    def attempt(self, attempt_id: str) -> Attempt:
        """The stored attempt with this id; :class:`ApiError` 404 when there is none."""
        attempt = self.store.get(attempt_id) if is_attempt_id(attempt_id) else None
        if attempt is None:
            raise not_found(attempt_id)
        return attempt


def not_found(attempt_id: str) -> ApiError:
    """The 404 of an attempt id that names no attempt (or, for a delete, none of this trainee's)."""
    return ApiError(404, f"no attempt {attempt_id[:40]!r}", code="attempt_not_found", params={"id": attempt_id[:40]})


def trainee_param(trainee: str) -> str:
    """The ``trainee`` query parameter of a listing or a delete, checked: :class:`ApiError` 400
    when it names nobody (empty, ``..``, ``/``: :func:`~speechcoach.app.attempts.named`), which
    would otherwise mean the attempts stored without a name."""
    if not named(trainee):
        shown = trainee[:40]
        raise ApiError(400, f"give the trainee's name ({shown!r} is not a name)", code="trainee_required", params={"trainee": shown})
    return trainee


def create_app(
    data_dir: str | Path,
    settings: Settings = Settings(),
    *,
    scripts_dir: str | Path | None = None,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    port: int = DEFAULT_PORT,
    extra_hosts: Iterable[str] = (),
) -> FastAPI:
    """The FastAPI application.

    Parameters
    ----------
    data_dir : path-like
        Attempts are stored under ``data_dir/attempts``.
    settings : Settings
        Target, band, pause thresholds and default report language for every analysis.
    scripts_dir : path-like, optional
        A folder of extra practice scripts (``*.txt``), read again when it changes (:class:`ScriptFolder`).
    max_upload_mb : float, keyword-only
        Bodies larger than this many megabytes (10^6 bytes) are refused with 413.
    port : int, keyword-only
        The port the server listens on; the ``Host`` header must name it.
    extra_hosts : iterable of str, keyword-only
        Further host names (without port) to answer, when serving beyond loopback.

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    ParameterError
        ``max_upload_mb`` is not positive, or ``data_dir`` is not a folder this process can
        create and write in (:func:`speechcoach.fileio.writable_folder`).
    """
    if not max_upload_mb > 0:
        raise ParameterError(f"--max-upload-mb must be positive, got {max_upload_mb!r}")
    writable_folder(data_dir, option="--data")
    scripts = ScriptFolder(Path(scripts_dir) if scripts_dir is not None else None)
    desk = Desk(AttemptStore(data_dir), settings, scripts, bundled_scenarios(), max_upload_mb)

    app = FastAPI(title="speechcoach", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = desk.store
    app.state.settings = settings
    _add_error_handlers(app, settings.lang)
    _add_page_routes(app)
    _add_practice_routes(app, desk)
    _add_attempt_routes(app, desk)
    # Outermost last: every answer gets the security headers (refusals too), then the Host
    # check runs, then the origin check, then the size limit.
    hosts = allowed_hosts(port, extra_hosts)
    app.add_middleware(BodyLimit, limit=int(max_upload_mb * 1_000_000), lang=settings.lang)
    app.add_middleware(OriginGuard, origins=allowed_origins(hosts), lang=settings.lang)
    app.add_middleware(HostGuard, allowed=hosts, lang=settings.lang)
    app.add_middleware(SecurityHeaders)
    return app


# -- error answers ---------------------------------------------------------------------------


def _error(status: int, message: str, lang: str, **kw: Any) -> JSONResponse:
    """An error answer; ``kw``: ``code``, ``params``, ``fallback``, ``path`` of :func:`error_body`."""
    return JSONResponse(error_body(message, lang, **kw), status_code=status)


def _input_error(exc: InputError, lang: str) -> JSONResponse:
    # a script on this page is a text field, not a file: its problem needs no name in front
    path = None if isinstance(exc, ScriptError) else exc.path
    return _error(400, str(exc), lang, code=exc.code, params=exc.params, fallback=exc.problem, path=path)


def _add_error_handlers(app: FastAPI, default_lang: str) -> None:
    """Make every error one line of JSON in the request's language (``lang`` query parameter, else ``default_lang``)."""

    def lang_of(request: Request) -> str:
        return scope_lang(request.scope, default_lang)

    @app.exception_handler(UploadTooLarge)
    async def _too_large(request: Request, exc: UploadTooLarge) -> JSONResponse:
        return JSONResponse(exc.body(lang_of(request)), status_code=413)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.lang or lang_of(request), code=exc.code, params=exc.params)

    @app.exception_handler(SpeechcoachError)
    async def _own_error(request: Request, exc: SpeechcoachError) -> JSONResponse:
        if isinstance(exc, InputError):
            return _input_error(exc, lang_of(request))
        return _error(400, str(exc), lang_of(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, ensure_ascii=False)
        return _error(exc.status_code, detail, lang_of(request), code=HTTP_ERROR_CODES.get(exc.status_code))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
        detail = "; ".join(parts) or "invalid request"
        return _error(400, detail, lang_of(request), code="bad_request", params={"detail": detail})

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error")
        kind = type(exc).__name__
        return _error(500, f"internal error: {kind}", lang_of(request), code="internal_error", params={"detail": kind})


# -- routes ----------------------------------------------------------------------------------


def _add_page_routes(app: FastAPI) -> None:
    """``GET /``, the page's files under ``/static`` and an empty favicon."""
    web_dir = Path(str(resources.files("speechcoach.app").joinpath("web")))

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(web_dir / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=str(web_dir)), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)


def free_talk_count(settings: Settings) -> str:
    """How an attempt without a script is counted (``/api/config``'s ``free_talk_count``, which
    picks the page's hint): ``"asr"`` when ``settings.count`` lets the speech recogniser run and
    it and its model are installed, else ``"estimate"`` (from the sound)."""
    from ..precise.asr import can_count
    from ..errors import SpeechcoachError

    try:
        return "asr" if settings.count != "acoustic" and can_count() else "estimate"
    except SpeechcoachError:  # --count asr without the recogniser: serve refuses to start before this
        return "estimate"


def _add_practice_routes(app: FastAPI, desk: Desk) -> None:
    """``GET /api/config``, ``GET /api/scenarios`` and ``POST /api/analyze``."""
    settings = desk.settings
    free_talk = free_talk_count(settings)

    @app.get("/api/config")
    async def config() -> dict[str, Any]:
        return {
            "version": __version__,
            "target_cpm": settings.target_cpm,
            "band_cpm": [settings.band_lo_cpm, settings.band_hi_cpm],
            "lang": settings.lang,
            "free_talk_count": free_talk,
            "max_upload_mb": desk.max_upload_mb,
            "ffmpeg": _ffmpeg(),
            "formats": accepted_formats(),
        }

    @app.get("/api/progress/{job}")
    async def progress(job: str) -> dict[str, Any]:
        """How far the analysis of the upload sent with this ``job`` id has got: ``stage``
        (``load``, ``sound``, ``model``, ``recognise``, ``findings``; null when it is not running),
        ``done_s`` and ``total_s`` (seconds of the recording)."""
        found = desk.waiting.get(job)
        return found if found is not None else {"stage": None, "done_s": 0.0, "total_s": 0.0}

    @app.get("/api/scenarios")
    async def scenarios() -> dict[str, Any]:
        found = await run_in_threadpool(desk.scenarios)
        return {"scenarios": [s.to_dict() for s in found]}

    @app.post("/api/analyze")
    async def analyze(request: Request) -> JSONResponse:
        form = await request.form(max_files=1, max_fields=10, max_part_size=MAX_SCRIPT_CHARS * 4)
        sub = _submission(form, desk)
        try:
            attempt = await run_in_threadpool(
                _analyze_upload,
                desk.store,
                sub.upload.file,
                upload_name(sub.upload.filename),
                sub.script,
                sub.scenario,
                sub.trainee_raw,
                settings.with_overrides(lang=sub.lang),
                sub.recorded,
                desk.waiting.callback(sub.job) if sub.job is not None else None,
            )
        except InputError as exc:
            return _input_error(exc, sub.lang)
        finally:
            if sub.job is not None:
                desk.waiting.end(sub.job)
            await sub.upload.close()
        # the response is the report itself (schema speechcoach.report/1) with the stored attempt inside
        return JSONResponse({**attempt.report(), "attempt": _public_meta(attempt)})


def _add_attempt_routes(app: FastAPI, desk: Desk) -> None:
    """``/api/attempts``: list, fetch and delete attempts, an attempt's HTML report and recording."""
    store = desk.store

    @app.get("/api/attempts")
    async def list_attempts(trainee: str) -> dict[str, Any]:
        items = await run_in_threadpool(store.list, trainee_param(trainee))
        return {"trainee": trainee_folder(trainee), "attempts": [_public_meta(a) for a in items]}

    @app.delete("/api/attempts")
    async def delete_all(trainee: str) -> dict[str, Any]:
        count = await run_in_threadpool(store.delete_trainee, trainee_param(trainee))
        return {"trainee": trainee_folder(trainee), "deleted": count}

    @app.get("/api/attempts/{attempt_id}")
    async def get_attempt(attempt_id: str) -> dict[str, Any]:
        attempt = desk.attempt(attempt_id)
        return {"attempt": _public_meta(attempt), "report": _page_report(attempt)}

    @app.delete("/api/attempts/{attempt_id}")
    async def delete_attempt(attempt_id: str, trainee: str) -> dict[str, Any]:
        name = trainee_param(trainee)
        desk.attempt(attempt_id)
        if not await run_in_threadpool(store.delete, attempt_id, name):  # another trainee's: as if there were none
            raise not_found(attempt_id)
        return {"deleted": attempt_id}

    @app.get("/api/attempts/{attempt_id}/report")
    async def attempt_report(attempt_id: str) -> HTMLResponse:
        attempt = desk.attempt(attempt_id)
        page = await run_in_threadpool(report_html, _page_report(attempt), audio_src=f"/api/attempts/{attempt.id}/audio")
        return HTMLResponse(page, headers={"Content-Security-Policy": _REPORT_CSP, "X-Frame-Options": "SAMEORIGIN"})

    @app.get("/api/attempts/{attempt_id}/audio")
    async def attempt_audio(attempt_id: str) -> FileResponse:
        attempt = desk.attempt(attempt_id)
        return FileResponse(attempt.audio_path, media_type=_audio_type(attempt.audio_path.suffix))


# -- POST /api/analyze -----------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A checked ``POST /api/analyze`` form.

    Attributes
    ----------
    upload : UploadFile
        The recording.
    script : str or None
        What was said: the ``script`` field, else the chosen scenario's text.
    scenario : Scenario or None
    trainee_raw : str
        The ``trainee`` field as typed (at most :data:`MAX_FIELD_CHARS`).
    lang : {"zh", "en"}
        The report's language.
    recorded : bool
        The page recorded it (``source=recorder``): the report names it "recording", not by
        its file name.
    """

    upload: UploadFile
    script: str | None
    scenario: Scenario | None
    trainee_raw: str
    lang: str
    recorded: bool = False
    job: str | None = None
    """The page's id for this upload (``job`` field), under which ``GET /api/progress/{job}``
    says how far its analysis has got; None when absent or not a plain id."""


def _submission(form: FormData, desk: Desk) -> Submission:
    """Check the fields of a ``POST /api/analyze`` form.

    Raises
    ------
    ApiError
        400, worded in the form's ``lang`` when it is a known one (else the server's): no
        ``audio`` file, another field sent as a file, an unknown ``lang`` or scenario, a script
        over :data:`MAX_SCRIPT_CHARS`.
    """
    default = desk.settings.lang
    raw = {k: form.get(k) for k in ("script", "scenario", "trainee", "lang", "source", "job")}
    asked = raw["lang"].strip() if isinstance(raw["lang"], str) else ""
    lang = asked if asked in LANGS else default  # for the messages below, until lang is checked
    upload = form.get("audio")
    if upload is None or isinstance(upload, str):
        raise ApiError(400, "no audio file in the request (send it as the multipart field 'audio')", code="no_audio_field", lang=lang)
    if any(v is not None and not isinstance(v, str) for v in raw.values()):
        raise ApiError(400, "only 'audio' may be a file", code="only_audio_file", lang=lang)
    fields: dict[str, str | None] = {k: v if isinstance(v, str) else None for k, v in raw.items()}
    script_text = (fields["script"] or "").strip() or None
    scenario_id = (fields["scenario"] or "").strip()[:MAX_FIELD_CHARS]
    trainee_raw = (fields["trainee"] or "")[:MAX_FIELD_CHARS]
    requested = (fields["lang"] or default).strip()
    if requested not in LANGS:
        raise ApiError(400, f"lang must be 'zh' or 'en', got {requested!r}", code="bad_lang", params={"lang": requested}, lang=lang)
    if script_text is not None and len(script_text) > MAX_SCRIPT_CHARS:
        raise ApiError(
            400, f"script is too long (more than {MAX_SCRIPT_CHARS} characters)", code="script_too_long", params={"limit": MAX_SCRIPT_CHARS}, lang=lang
        )
    scenario = desk.find_scenario(scenario_id) if scenario_id else None
    if scenario_id and scenario is None:
        raise ApiError(400, f"unknown scenario {scenario_id!r}", code="unknown_scenario", params={"scenario": scenario_id}, lang=lang)
    if script_text is None and scenario is not None:
        script_text = scenario.text
    recorded = (fields["source"] or "").strip() == "recorder"
    job = (fields["job"] or "").strip()
    return Submission(upload, script_text, scenario, trainee_raw, lang, recorded, job if _JOB_ID.fullmatch(job) else None)


_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What a ``job`` id looks like (the page makes a random one)."""


def _analyze_upload(
    store: AttemptStore,
    stream: Any,
    name: str,
    script: str | None,
    scenario: Scenario | None,
    trainee_raw: str,
    settings: Settings,
    recorded: bool = False,
    progress: Any = None,
) -> Attempt:
    """Copy the upload into a staging folder, analyse it and store the attempt (runs in a thread);
    ``progress`` is the pipeline's progress callback (:class:`Waiting`).

    Raises
    ------
    AudioError, ScriptError
        With the uploaded file's name in place of the staging path, as the CLI would word it.
    """
    import shutil

    from ..characters import spoken_units
    from ..analysis.pipeline import analyze_file
    from ..render.report import to_dict

    attempt_id = new_attempt_id()
    staged = store.stage(attempt_id)
    try:
        head = stream.read(16)
        trainee = trainee_folder(trainee_raw)
        audio_name = f"{trainee}_{attempt_id}{choose_suffix(name, head)}"
        target = staged / audio_name
        with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), FILE_MODE), "wb") as out:
            out.write(head)
            shutil.copyfileobj(stream, out, 1 << 20)
        if script is not None and not spoken_units(script):
            raise ScriptError("script", "script has no characters to speak", code="script_empty")
        try:
            analysis = analyze_file(target, script=script, settings=settings, progress=progress)
        except InputError as exc:
            raise type(exc)(name, exc.problem, code=exc.code, params=exc.params) from None
        report = to_dict(analysis)
        # the report names the recording as the trainee knows it: the uploaded file's name, or
        # "录音"/"recording" for one made on the page -- never the storage path (meta.json keeps
        # that as "audio"; the audio route serves the file from there)
        report["input"]["path"] = _shown_name(name, recorded, report["lang"])
        html = report_html(report, audio_src=audio_name)
        meta = {
            "trainee_name": display_name(trainee_raw),
            "trainee_key": trainee_key(trainee_raw),
            "created": report.get("created") or _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "scenario": scenario.id if scenario is not None else ("" if script is None else "custom"),
            "scenario_title": scenario.title if scenario is not None else None,
            "upload_name": name,
            "lang": report["lang"],
            "cpm": report["rate"]["cpm"],
            "verdict": report["rate"]["verdict"],
            "score": report["score"],
            "duration_s": report["input"]["duration_s"],
            "char_source": report["characters"]["source"],
            "target_cpm": settings.target_cpm,
            "band_cpm": [settings.band_lo_cpm, settings.band_hi_cpm],
        }
        return store.commit(staged, trainee=trainee, audio_name=audio_name, report=report, html=html, meta=meta, script=script)
    except BaseException:
        store.discard(staged)
        raise


def _shown_name(upload: str, recorded: bool, lang: str) -> str:
    """The name the report gives the recording: ``upload`` (the uploaded file's base name), or
    the report's word for "recording" when the page recorded it."""
    if not recorded:
        return upload
    from ..locales import strings

    return strings(lang)["report"]["recording"]


def accepted_formats() -> dict[str, Any]:
    """The audio formats an upload may be in, for the page's file picker and its error hints.

    ``native`` are read without ffmpeg; ``ffmpeg`` need it, and are accepted only when
    ``ffmpeg`` (whether it is on the PATH) is true. Names are upper-case without the dot.
    """
    from ..audio import FFMPEG_SUFFIXES, SOUNDFILE_SUFFIXES

    # the usual name of each format, most common first (.wave, .oga, .aif are the same formats)
    order = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".m4a", ".aac", ".mp4", ".webm", ".opus", ".amr", ".3gp", ".wma", ".mka")

    def names(suffixes: frozenset[str]) -> list[str]:
        return [s[1:].upper() for s in order if s in suffixes]

    return {"native": names(SOUNDFILE_SUFFIXES), "ffmpeg": names(FFMPEG_SUFFIXES), "ffmpeg_available": _ffmpeg()}


def _page_report(attempt: Attempt) -> dict[str, Any]:
    """An attempt's report for the page: one stored before the report named the upload (its
    ``input.path`` is the storage path ``attempts/...``) names the uploaded file instead."""
    report = attempt.report()
    path = str(report.get("input", {}).get("path", ""))
    if path.startswith("attempts/") and attempt.meta.get("upload_name"):
        report["input"]["path"] = str(attempt.meta["upload_name"])
    return report


def _public_meta(attempt: Attempt) -> dict[str, Any]:
    """An attempt's meta for the page, with its URLs."""
    meta = dict(attempt.meta)
    meta["report_url"] = f"/api/attempts/{attempt.id}/report"
    meta["audio_url"] = f"/api/attempts/{attempt.id}/audio"
    return meta


def _audio_type(suffix: str) -> str:
    return {
        ".wav": "audio/wav",
        ".flac": "audio/flac",
        ".ogg": "audio/ogg",
        ".mp3": "audio/mpeg",
        ".m4a": "audio/mp4",
        ".webm": "audio/webm",
    }.get(suffix.lower(), "application/octet-stream")


def _ffmpeg() -> bool:
    from ..audio import ffmpeg_available

    return ffmpeg_available()


# -- running ---------------------------------------------------------------------------------


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`ParameterError` when ``host:port`` cannot be bound.

    The message says what is wrong: a host name that does not resolve, an address that is not
    this machine's, a port already in use (only then suggesting another ``--port``), or a port
    that needs privileges.
    """
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except socket.gaierror as exc:
            raise ParameterError(f"--host {host}: cannot resolve this host name ({exc.strerror or exc}); check --host") from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == errno.EADDRINUSE:
                raise ParameterError(f"cannot listen on {host}:{port}: the port is in use ({reason}); try another --port",
                                     code="port_in_use", params={"host": host, "port": port, "reason": reason}) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ParameterError(f"--host {host}: not an address of this machine, cannot listen on it ({reason}); check --host") from None
            if exc.errno == errno.EACCES:
                raise ParameterError(f"cannot listen on {host}:{port}: permission denied (ports below 1024 need privileges); try another --port") from None
            raise ParameterError(f"cannot listen on {host}:{port} ({reason})") from None


def header_timeout_protocol(timeout_s: float) -> type:
    """uvicorn's h11 protocol, closing a connection whose request headers are not all in within
    ``timeout_s`` (s) of its opening or of its previous response.

    uvicorn times out idle keep-alive connections, but not a request whose headers never end
    (one byte a second keeps it open for ever): its timer is stopped by any data. This one runs
    until h11 has parsed the whole request line and headers.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeout(H11Protocol):  # type: ignore[misc]
        _header_timer: Any = None

        def _arm(self) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self._header_timer = self.loop.call_later(timeout_s, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():  # still waiting for the headers
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # the request line and headers are in
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.conn.their_state is h11.IDLE:  # waiting for the next request on this connection
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeout


def run(
    app: Any,
    *,
    host: str,
    port: int,
    on_started: Callable[[], None] | None = None,
    header_timeout_s: float = HEADER_TIMEOUT_S,
) -> None:
    """Serve ``app`` with uvicorn until interrupted; ``on_started`` is called once listening.

    A connection whose request headers are not complete within ``header_timeout_s`` (s) is
    closed (:func:`header_timeout_protocol`).
    """
    import threading
    import time

    import uvicorn

    config = uvicorn.Config(app, host=host.strip("[]"), port=port, log_level="warning", access_log=False, server_header=False,
                            http=header_timeout_protocol(header_timeout_s))
    server = uvicorn.Server(config)
    if on_started is not None:

        def watch() -> None:
            for _ in range(200):
                if server.started:
                    on_started()
                    return
                time.sleep(0.05)

        threading.Thread(target=watch, daemon=True).start()
    server.run()


def reachable_names(host: str) -> list[str]:
    """Host names (without port) other machines may use to reach a server bound to ``host``.

    For a specific address that address; for a wildcard (``0.0.0.0``, ``::``) this machine's
    name, its fully qualified name and the addresses they resolve to, plus the address of the
    interface that carries the default route. Loopback names are always allowed anyway.
    """
    import socket

    if host not in ("0.0.0.0", "::", "[::]", ""):
        return [host]
    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        try:
            names.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
        except OSError:
            pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            names.add(probe.getsockname()[0])
    except OSError:
        pass
    return sorted(n for n in names if n and not is_loopback(n))


def open_browser(url: str) -> bool:
    """Open ``url`` in the desktop's browser; ``False`` (and nothing opened) where there is none.

    On Linux without a display a text browser could take over the terminal, so nothing is
    opened there.
    """
    import sys
    import webbrowser

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        return bool(webbrowser.open(url))
    except webbrowser.Error:
        return False
