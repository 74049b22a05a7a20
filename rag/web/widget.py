"""The widget for portals: `/embed` (a small chat page made for an iframe, no Gradio) and
`/widget.js` (one script tag that adds a launcher and the iframe to any portal page).

A page on an origin that DOCENT_ALLOWED_ORIGINS does not list may not frame `/embed` (its
`frame-ancestors` says so, and the browser would show a broken frame). When the browser tells
which page frames it (`Sec-Fetch-Dest: iframe` and the page's origin as `Referer`), such a
request is sent to `/embed/refused` instead: a page without scripts, frameable anywhere, that
names the origin and the setting to change."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

__all__ = ["REFUSED_PATH", "framing_origin", "widget_router"]

STATIC = Path(__file__).resolve().parent / "static"
REFUSED_PATH = "/embed/refused"
SETTING = "DOCENT_ALLOWED_ORIGINS"
_ORIGIN = re.compile(r"https?://[a-z0-9.\-]+(:\d{1,5})?")


def framing_origin(request: Request) -> str | None:
    """The origin of the page that frames this request, when the browser says: None for a
    request that is not an iframe's, or that carries no usable Referer."""
    if request.headers.get("sec-fetch-dest") != "iframe":
        return None
    parts = urlsplit(request.headers.get("referer", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}".lower()


def _refused_page(origin: str | None) -> str:
    where = html.escape(origin) if origin else "this site"
    example = html.escape(f"{SETTING}='[\"{origin or 'https://portal.example.com'}\"]'")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Docent cannot be embedded here</title><link rel="stylesheet" href="/_docent/embed.css">
</head><body><main class="refused" role="alert">
<h1>Docent cannot be shown on this page</h1>
<p>The page at <strong>{where}</strong> is not among the sites allowed to embed Docent.</p>
<p>An administrator of Docent adds its origin to the setting <code>{SETTING}</code> and
restarts Docent, for example:</p><pre>{example}</pre>
</main></body></html>"""


def widget_router(allowed_origins: Sequence[str]) -> APIRouter:
    router = APIRouter(tags=["widget"])
    allowed = {origin.lower() for origin in allowed_origins}

    @router.get("/embed", include_in_schema=False)
    def embed(request: Request) -> Response:
        framer = framing_origin(request)
        if framer is not None and framer not in allowed and framer != _own_origin(request):
            # in the URL: Docent's responses send no Referer to the page they redirect to
            return RedirectResponse(f"{REFUSED_PATH}?{urlencode({'origin': framer})}", 303)
        return FileResponse(
            STATIC / "embed.html",
            media_type="text/html",
            headers={"Referrer-Policy": "no-referrer"},
        )

    @router.get(REFUSED_PATH, include_in_schema=False)
    def refused(origin: str = "") -> HTMLResponse:
        shown = origin if _ORIGIN.fullmatch(origin) else None  # only ever an origin, escaped
        return HTMLResponse(_refused_page(shown))

    @router.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    return router
