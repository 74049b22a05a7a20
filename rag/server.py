"""The web app: FastAPI with `/api/health`, the `/api/v1` API and the OpenAI-compatible `/v1`,
and the Gradio chat at `/`. Access rules (API keys, portal tokens, rate limit, allowed origins)
come from the settings; see `rag/auth.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import gradio as gr
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from rag.api import Conversations, add_error_handlers, api_router, unknown_endpoints_router
from rag.auth import Authenticator
from rag.documents_api import documents_router
from rag.embed import embed_router
from rag.jobs import JobRunner
from rag.openai_compat import openai_router
from rag.runtime import Runtime
from rag.settings import Settings
from rag.ui import ChatUI

__all__ = ["create_app"]


def _protect(app: FastAPI, settings: Settings) -> None:
    """Browsers may call the API and frame Docent only from the allowed origins."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    ancestors = " ".join(["'self'", *settings.allowed_origins])

    @app.middleware("http")
    async def frame_ancestors(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
        return response


def create_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings
    app = FastAPI(title="Docent", summary="Answers from your documents, with citations.")
    add_error_handlers(app)
    _protect(app, settings)
    app.state.authenticator = Authenticator(settings)
    app.include_router(api_router(runtime, Conversations()))
    app.include_router(openai_router(runtime))
    app.include_router(documents_router(runtime, JobRunner()))
    app.include_router(embed_router())
    app.include_router(unknown_endpoints_router())

    @app.get("/api/health")
    def health() -> dict[str, object]:
        return {
            "status": "ok",
            "chunks": runtime.store.count(),
            "documents": len(runtime.store.sources()),
            "generator": runtime.assistant.generator.name,
        }

    ui = ChatUI(runtime)
    password = settings.ui_password.get_secret_value() if settings.ui_password else None
    mounted: FastAPI = gr.mount_gradio_app(
        app,
        ui.create_app(),
        path="/",
        css=ui.css(),
        max_file_size=f"{settings.max_upload_mb}mb",
        footer_links=["api"],
        auth=("docent", password) if password else None,
    )
    return mounted
