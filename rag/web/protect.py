"""ASGI middleware that guards every request before any route sees it.

- `BodyLimit`: a body over the limit is refused with 413 while it arrives, before parsing or
  authentication (uploads have their own, larger limit).
- `SecurityHeaders`: a Content-Security-Policy that lets pages load scripts, styles, images and
  fonts only from Docent itself and be framed only by the allowed origins, plus
  `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` (and HSTS over https).
- `SameOriginCookieWrites`: in every mode, a write (POST, PUT, PATCH, DELETE) that the session
  cookie authenticates must come from one of Docent's own pages: a browser's `Sec-Fetch-Site`
  must say same-origin, or, where a browser does not send it (plain http to a host other than
  loopback), its `Origin` (else `Referer`) must be Docent's own origin. A page of another site
  (a sibling host of the same site included: a SameSite=Strict cookie still goes there) cannot
  upload, delete, re-index, ask or sign out in a signed-in user's name. Bearer credentials (API
  keys, portal tokens) are never attached by a browser on its own and are not checked; neither
  is a request that names no origin at all, which no browser sends across origins.
- `OpenModeGuard`: while Docent has no credentials, it answers only requests addressed to its
  own host names (DNS rebinding) and refuses cross-site writes: a browser's `Sec-Fetch-Site`
  must say same-origin, and form-like API posts must carry `X-Requested-With`, a header a
  simple cross-site request cannot send.
- `SignInFirst`: uploads and every route under `/gradio_api` need a signed-in principal (one
  who may manage documents, for uploads) before their body is read (an open install signs
  everyone in).
- `GradioGuard`: the Gradio app never reads a path a client names. Files may only come from
  Gradio's upload folder (in request bodies and under `/gradio_api/file=`), remote URLs are never
  fetched, and Gradio routes Docent does not use are closed. A browser that is not signed in is
  sent from `/` to `/login`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gradio.utils import get_upload_folder
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.errors import DocentError, InputError, NotFoundError
from rag.web.auth import SESSION_COOKIE, Principal, authenticated_by_cookie, require_manager
from rag.web.errors import AccessError, json_error
from rag.web.widget import REFUSED_PATH

Identify = Callable[[Scope], Principal]  # the caller of a request, or a DocentError

__all__ = [
    "BodyLimit",
    "GradioGuard",
    "OpenModeGuard",
    "SameOriginCookieWrites",
    "SecurityHeaders",
    "SignInFirst",
    "inside_uploads",
]

_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_SIMPLE_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain")


class BodyLimit:
    """413 for a body over `limit` bytes (`upload_limit` for POSTs to `upload_paths`)."""

    def __init__(
        self, app: ASGIApp, limit: int, upload_limit: int, upload_paths: Iterable[str]
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_paths = tuple(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"] in self.upload_paths
        limit = self.upload_limit if upload else self.limit
        await RequestBodyLimitResponder(self.app, limit)(scope, receive, send)


def content_security_policy(path: str, ancestors: str) -> str:
    """The policy for a response to `path`: strict for Docent's own pages; the Gradio page
    needs inline scripts and styles and `eval` (its HTML component), all from Docent itself."""
    if path == REFUSED_PATH:  # a message without scripts: any page may show it
        ancestors = "*"
    if path in ("/embed", "/login", REFUSED_PATH):
        sources = "script-src 'self'; style-src 'self'; img-src 'self' data:"
    else:
        sources = (
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self'; manifest-src 'self'"
        )
    policy = (
        f"default-src 'none'; {sources}; connect-src 'self'; base-uri 'self'; "
        f"form-action 'self'; frame-ancestors {ancestors}"
    )
    if path.startswith("/gradio_api/file="):
        policy += "; sandbox"  # a served file never runs as a page of Docent
    return policy


class SecurityHeaders:
    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.ancestors = " ".join(["'self'", *allowed_origins])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = content_security_policy(scope["path"], self.ancestors).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"content-security-policy", b"x-content-type-options")
                ]
                headers += [
                    (b"content-security-policy", policy),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if scope.get("scheme") == "https":  # behind TLS: browsers keep to it
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _host_name(host: str) -> str:
    """The name in a Host header or a bound address, without its port: `[::1]:7860`, `::1`,
    `localhost:7860` and `LocalHost` give `::1`, `::1`, `localhost`, `localhost`; anything
    that is not a plain host (`a@localhost`, `localhost/x`) gives ''."""
    host = host.strip()
    if any(c in host for c in "@/?#\\ \t"):
        return ""
    if host.count(":") > 1 and not host.startswith("["):
        return host.lower()  # a bare IPv6 address (how a bind address is written)
    try:
        return (urlsplit(f"//{host}").hostname or "").lower()
    except ValueError:  # a malformed Host header
        return ""


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> str | None:
    """`scheme://host:port` of an absolute http(s) URL or origin (the port always written),
    or None for anything else (`null`, a relative or malformed URL)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.hostname}:{port or _DEFAULT_PORTS[parts.scheme]}"


def _from_own_page(connection: HTTPConnection) -> bool:
    """Whether a request comes from one of Docent's own pages, as far as the browser says."""
    headers = connection.headers
    site = headers.get("sec-fetch-site")
    if site is not None:  # every current browser, over https and to loopback
        return site == "same-origin"
    claimed = headers.get("origin")
    if claimed is None:
        claimed = headers.get("referer")
    if claimed is None:  # not a browser: each names the origin of a write to another origin
        return True
    own = _origin(f"{connection.scope.get('scheme', 'http')}://{headers.get('host', '')}")
    return own is not None and _origin(claimed) == own


class SameOriginCookieWrites:
    """Writes authenticated by the session cookie only from Docent's own pages (in every
    mode): the cookie is what a browser adds to another site's request by itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _UNSAFE_METHODS:
            connection = HTTPConnection(scope)
            cookie = connection.cookies.get(SESSION_COOKIE)
            if authenticated_by_cookie(
                connection.headers.get("authorization"), cookie
            ) and not _from_own_page(connection):
                refusal = AccessError(
                    "this request comes from a page of another site: changes made with the "
                    "Docent session cookie are accepted only from Docent's own pages (a script "
                    "sends 'Authorization: Bearer <API key or portal token>' instead)",
                    forbidden=True,
                )
                await json_error(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class OpenModeGuard:
    """Only while `is_open()`: requests must name an allowed host, and browsers may not write
    across sites."""

    def __init__(self, app: ASGIApp, is_open: Callable[[], bool], hosts: Iterable[str]) -> None:
        self.app = app
        self.is_open = is_open
        self.hosts = {_host_name(h) for h in hosts} - {""}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.is_open():
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = None
        if _host_name(headers.get("host", "")) not in self.hosts:
            refusal = json_error(InputError("this host name is not served"))
        elif scope["method"] in _UNSAFE_METHODS:
            site = headers.get("sec-fetch-site")
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            api = scope["path"].startswith(("/api/", "/v1/", "/auth/"))
            if site is not None and site not in ("same-origin", "none"):
                refusal = json_error(AccessError("cross-site requests are refused", forbidden=True))
            elif (
                api
                and scope["method"] == "POST"  # other methods need a CORS preflight anyway
                and (media in _SIMPLE_TYPES or not media)
                and "x-requested-with" not in headers
            ):
                refusal = json_error(
                    AccessError(
                        "send the header X-Requested-With with form posts to an install "
                        "without credentials (it keeps other web pages from posting here)",
                        forbidden=True,
                    )
                )
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SignInFirst:
    """Requests under `prefixes` need a signed-in principal before anything of them is read,
    and POSTs to `upload_paths` one who may manage documents: no upload body is received, and
    no Gradio route reached, on behalf of a stranger or a portal token."""

    def __init__(
        self,
        app: ASGIApp,
        identify: Identify,
        prefixes: Iterable[str],
        upload_paths: Iterable[str],
    ) -> None:
        self.app = app
        self.identify = identify
        self.prefixes = tuple(prefixes)
        self.upload_paths = frozenset(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        try:
            principal = await run_in_threadpool(self.identify, scope)  # reads the database
            if scope["method"] == "POST" and scope["path"] in self.upload_paths:
                require_manager(principal)
        except DocentError as exc:
            await json_error(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)


_CLOSED_GRADIO_ROUTES = (
    "/gradio_api/proxy=",
    "/gradio_api/file/",
    "/gradio_api/dev/",
    "/gradio_api/vibe",
    "/gradio_api/undo-vibe-edit",
    "/gradio_api/run-history",
    "/gradio_api/mcp",
    "/monitoring",
)


def inside_uploads(path: str) -> bool:
    """A local path inside Gradio's upload folder, not the folder itself (after resolving
    links and '..'): the only files a client may name."""
    if "://" in path or path.startswith(("//", "\\")):
        return False
    folder = Path(get_upload_folder()).resolve()
    try:
        inside = Path(os.path.abspath(path)).resolve().relative_to(folder)
    except (ValueError, OSError):
        return False
    return inside != Path(".")


def _names_outside_file(value: Any) -> bool:
    """Whether a JSON value holds a file reference ({"path": …, "meta": {…}}) that is a URL or
    lies outside the upload folder."""
    if isinstance(value, dict):
        path = value.get("path")
        if (
            isinstance(path, str)
            and isinstance(value.get("meta"), dict)
            and not (inside_uploads(path))
        ):
            return True
        return any(_names_outside_file(v) for v in value.values())
    if isinstance(value, list):
        return any(_names_outside_file(v) for v in value)
    return False


class GradioGuard:
    """Defence in depth around the mounted Gradio app (whose own path check is also on)."""

    def __init__(self, app: ASGIApp, identify: Identify) -> None:
        self.app = app
        self.identify = identify

    def _signed_in(self, scope: Scope) -> bool:
        try:
            self.identify(scope)
        except DocentError:
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]  # percent-decoded, as the router sees it
        if path.startswith(_CLOSED_GRADIO_ROUTES) or (
            path.startswith("/gradio_api/file=")
            and not inside_uploads(path.removeprefix("/gradio_api/file="))
        ):
            await json_error(NotFoundError("not found"))(scope, receive, send)
            return
        if (
            path == "/"
            and scope["method"] == "GET"
            and not await run_in_threadpool(self._signed_in, scope)
        ):
            await RedirectResponse("/login", status_code=303)(scope, receive, send)
            return
        if (
            scope["method"] == "POST"
            and path.startswith("/gradio_api/")
            and path != ("/gradio_api/upload")
        ):
            await self._checked_json(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _checked_json(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body (bounded by `BodyLimit`), refuse outside file references, replay it."""
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            value = json.loads(body) if body else None
        except ValueError:
            value = None  # not JSON: Gradio answers it as it would
        if _names_outside_file(value):
            refusal = json_error(AccessError("files can only come from an upload", forbidden=True))
            await refusal(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
