"""The web app: FastAPI with `/api/health`, the `/api/v1` API, the OpenAI-compatible `/v1`, the
widget, and the Gradio chat at `/`. Access rules (API keys, portal tokens, rate limit, allowed
origins) come from the settings; see `rag/web/auth.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from rag.runtime import Runtime
from rag.settings import Settings
from rag.web.ask import Conversations, ask_router
from rag.web.auth import Authenticator
from rag.web.chat_ui import ChatUI
from rag.web.documents import documents_router
from rag.web.errors import add_error_handlers, unknown_endpoints_router
from rag.web.jobs import JobRunner, jobs_router
from rag.web.openai_compat import openai_router
from rag.web.uploads import Uploads
from rag.web.widget import widget_router

__all__ = ["create_app", "serve"]


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
    jobs = JobRunner()
    uploads = Uploads(runtime, jobs)
    app.include_router(ask_router(runtime, Conversations()))
    app.include_router(openai_router(runtime))
    app.include_router(documents_router(runtime, uploads))
    app.include_router(jobs_router(jobs))
    app.include_router(widget_router())
    app.include_router(unknown_endpoints_router())

    @app.get("/api/health")
    def health() -> dict[str, object]:
        return {
            "status": "ok",
            "chunks": runtime.store.count(),
            "documents": len(runtime.store.sources()),
            "generator": runtime.assistant.generator.name,
        }

    ui = ChatUI(runtime, uploads)
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


def serve(runtime: Runtime, host: str, port: int) -> None:
    """Serve the app with uvicorn until interrupted."""
    log_level = runtime.settings.log_level.lower()
    uvicorn.run(create_app(runtime), host=host, port=port, log_level=log_level)
