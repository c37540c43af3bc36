"""The practice server's HTTP safety: plain ASGI middleware and the pieces they share.

:class:`HostGuard` answers only requests whose ``Host`` names the server itself
(:func:`allowed_hosts`; DNS-rebinding protection), :class:`OriginGuard` refuses what another web
site makes the browser send (a state-changing request whose ``Origin`` is not the server's own,
or any API request the browser marks ``Sec-Fetch-Site: cross-site`` or ``same-site``),
:class:`BodyLimit` refuses bodies over the upload limit with 413 without buffering them
(:class:`UploadTooLarge`), and :class:`SecurityHeaders` adds ``nosniff``, no-referrer,
no-store, a same-origin Content-Security-Policy with ``frame-ancestors 'none'`` and
``X-Frame-Options: DENY`` to every response (no other page can frame the practice page).
Their refusals are the API's one-line JSON errors (:func:`error_body`), in the language the
request asks for (:func:`scope_lang`). :func:`is_loopback` tells whether a host name means only
this machine. ``docs/practice-page.md`` describes the whole safety model.

:func:`speechcoach.app.server.create_app` wraps its application in these; nothing here needs FastAPI.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Iterable, MutableMapping

from ..locales import LANGS, error_text

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_CSP = (
    "default-src 'self' data: blob:; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' data: blob:; frame-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
"""The pages' Content-Security-Policy: everything from the server itself, and no page may frame them."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing on the server; every other one (POST, DELETE, …) must come from its own page."""
FOREIGN_SITES = frozenset({"cross-site", "same-site"})
"""``Sec-Fetch-Site`` values of a request another page made the browser send: another site, or
another port or subdomain of this one (``same-site`` is not the same origin)."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# -- error answers ---------------------------------------------------------------------------


def error_body(
    error: str,
    lang: str,
    *,
    code: str | None = None,
    params: dict[str, Any] | None = None,
    fallback: str | None = None,
    path: str | None = None,
) -> dict[str, Any]:
    """The JSON body of an API error.

    Parameters
    ----------
    error : str
        The English line (``"error"``), as the command line would word it.
    lang : {"zh", "en"}
        The language of ``"message"``.
    code : str, keyword-only, optional
        The problem's stable code (``"code"``; its template in the ``[errors]`` locale table).
    params : dict, keyword-only, optional
        Values for the template.
    fallback : str, keyword-only, optional
        English text for ``"message"`` when the code has no template (default ``error``).
    path : str, keyword-only, optional
        A file name to put before the localised problem.

    Returns
    -------
    dict
        ``{"error": ..., "code": ..., "message": ...}``.
    """
    message = error_text(code, params or {}, lang, fallback=error if fallback is None else fallback, path=path)
    return {"error": error, "code": code, "message": message}


def scope_lang(scope: Scope, default: str) -> str:
    """The ``lang`` query parameter of a request not yet routed, else ``default``."""
    from urllib.parse import parse_qs

    asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [""])[-1]
    return asked if asked in LANGS else default


def _json_response_messages(status: int, payload: dict[str, Any]) -> tuple[Message, Message]:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")],
    }
    return start, {"type": "http.response.body", "body": body}


class UploadTooLarge(Exception):
    """A request body grew past the upload limit (``limit``, bytes) while it was being received."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"upload too large (the limit is {limit / 1e6:g} MB)")
        self.limit = int(limit)

    def body(self, lang: str) -> dict[str, Any]:
        """The 413 answer's JSON body, its message in ``lang``."""
        return error_body(str(self), lang, code="upload_too_large", params={"limit_mb": self.limit / 1e6})


# -- middleware ------------------------------------------------------------------------------


class HostGuard:
    """Refuse (421) any HTTP request whose ``Host`` header is not one of ``allowed``.

    A web page from elsewhere that rebinds its DNS name to 127.0.0.1 still sends its own name
    in ``Host``, so it cannot reach the API. The refusal's ``message`` is in the request's
    ``lang`` query parameter, else in ``lang``.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str], lang: str = "zh") -> None:
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)
        self.lang = lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = ""
            for key, value in scope.get("headers", []):
                if key == b"host":
                    host = value.decode("latin-1").strip().lower()
                    break
            if host not in self.allowed:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                refused = f"refused: unexpected Host header {host!r} (open the page through http://127.0.0.1)"
                lang = scope_lang(scope, self.lang)
                start, body = _json_response_messages(421, error_body(refused, lang, code="host_refused", params={"host": host}))
                await send(start)
                await send(body)
                return
        await self.app(scope, receive, send)


class OriginGuard:
    """Refuse (403) what another web page makes the trainee's browser send.

    A page on any site can make the browser POST a form (a multipart upload needs no CORS
    preflight) or load a URL; the browser then names that page's origin in ``Origin`` and says
    ``Sec-Fetch-Site: cross-site``. So a state-changing request (not GET, HEAD or OPTIONS) is
    refused when its ``Origin`` is present and not one of ``origins`` (``null`` included), and
    any request under ``/api/`` when its ``Sec-Fetch-Site`` is ``cross-site`` or ``same-site``.
    A request without these headers (``curl``, scripts, older browsers for a same-origin GET)
    passes: only a browser sends them, and a browser always sends ``Origin`` with a POST or
    DELETE from a page. The refusal's ``message`` is in the request's ``lang`` query parameter,
    else in ``lang``.
    """

    def __init__(self, app: ASGIApp, origins: Iterable[str], lang: str = "zh") -> None:
        self.app = app
        self.origins = frozenset(o.lower() for o in origins)
        self.lang = lang

    def refusal(self, scope: Scope) -> str | None:
        """Why the request is refused (its origin, as the message names it), or ``None``."""
        origin = fetch_site = None
        for key, value in scope.get("headers", []):
            if key == b"origin":
                origin = value.decode("latin-1").strip().lower()
            elif key == b"sec-fetch-site":
                fetch_site = value.decode("latin-1").strip().lower()
        changes = str(scope.get("method", "GET")).upper() not in SAFE_METHODS
        if changes and origin is not None and origin not in self.origins:
            return origin
        if fetch_site in FOREIGN_SITES and (changes or str(scope.get("path", "")).startswith("/api/")):
            return origin or fetch_site
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            origin = self.refusal(scope)
            if origin is not None:
                refused = f"refused: this request comes from another site ({origin}); only the practice page itself may submit or delete"
                body = error_body(refused, scope_lang(scope, self.lang), code="cross_site_refused", params={"origin": origin})
                start, message = _json_response_messages(403, body)
                await send(start)
                await send(message)
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, without buffering them.

    A declared ``Content-Length`` over the limit is refused before anything is read; otherwise
    the bytes are counted as they arrive and :class:`UploadTooLarge` is raised from ``receive``
    (an exception handler turns it into 413). The refusal's ``message`` is in the request's
    ``lang`` query parameter, else in ``lang``.
    """

    def __init__(self, app: ASGIApp, limit: int, lang: str = "zh") -> None:
        self.app = app
        self.limit = int(limit)
        self.lang = lang

    def _body(self, scope: Scope) -> dict[str, Any]:
        return UploadTooLarge(self.limit).body(scope_lang(scope, self.lang))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit:
                    start, body = _json_response_messages(413, self._body(scope))
                    await send(start)
                    await send(body)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise UploadTooLarge(self.limit)
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception as exc:
            if started or not _caused_by(exc, UploadTooLarge):
                raise
            start, body = _json_response_messages(413, self._body(scope))
            await send(start)
            await send(body)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``exc`` is, wraps (``__cause__``/``__context__``) or groups a ``kind``."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kind):
            return True
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        todo.extend(x for x in (e.__cause__, e.__context__) if x is not None)
    return False


class SecurityHeaders:
    """Add ``nosniff``, no-referrer, no-store, a same-origin Content-Security-Policy (with
    ``frame-ancestors 'none'``) and ``X-Frame-Options: DENY`` to every response.

    A response that sets its own ``Content-Security-Policy`` or ``X-Frame-Options`` keeps it
    (the attempt report, which the practice page frames, allows ``'self'``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for key, value in (
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-frame-options", b"DENY"),
                ):
                    if key not in present:
                        headers.append((key, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- hosts -----------------------------------------------------------------------------------


def allowed_hosts(port: int, extra: Iterable[str] = ()) -> list[str]:
    """The ``Host`` values the server answers: its loopback names with ``port``, plus ``extra``."""
    names = list(LOOPBACK_NAMES) + [h for h in extra if h]
    out = []
    for name in names:
        name = f"[{name}]" if ":" in name and not name.startswith("[") else name
        out.append(f"{name}:{port}")
        if port == 80:
            out.append(name)
    return out


def allowed_origins(hosts: Iterable[str]) -> list[str]:
    """The ``Origin`` values of the server's own page: ``http://`` and each allowed ``Host`` value
    (:func:`allowed_hosts`)."""
    return [f"http://{h}" for h in hosts]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
