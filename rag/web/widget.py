"""The widget for portals: `/embed` (a small chat page made for an iframe, no Gradio) and
`/widget.js` (one script tag that adds a launcher and the iframe to any portal page)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

__all__ = ["widget_router"]

STATIC = Path(__file__).resolve().parent / "static"


def widget_router() -> APIRouter:
    router = APIRouter(tags=["widget"])

    @router.get("/embed", include_in_schema=False)
    def embed() -> FileResponse:
        return FileResponse(
            STATIC / "embed.html",
            media_type="text/html",
            headers={"Referrer-Policy": "no-referrer"},
        )

    @router.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    return router
