"""The web app: FastAPI with `/api/health` and the `/api/v1` API, and the Gradio chat at `/`."""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI

from rag.api import Conversations, add_error_handlers, api_router, unknown_endpoints_router
from rag.documents_api import documents_router
from rag.jobs import JobRunner
from rag.openai_compat import openai_router
from rag.runtime import Runtime
from rag.ui import ChatUI

__all__ = ["create_app"]


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Docent", summary="Answers from your documents, with citations.")
    add_error_handlers(app)
    app.include_router(api_router(runtime, Conversations()))
    app.include_router(openai_router(runtime))
    app.include_router(documents_router(runtime, JobRunner()))
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
    mounted: FastAPI = gr.mount_gradio_app(
        app,
        ui.create_app(),
        path="/",
        css=ui.css(),
        max_file_size=f"{runtime.settings.max_upload_mb}mb",
        footer_links=["api"],
    )
    return mounted
