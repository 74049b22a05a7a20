"""Docent's read path: question (+ history) → standalone query → hybrid retrieval → generator
→ checked citations → `Answer`.

Start here: `Settings` (all configuration), `build_runtime(settings)` (wires every component),
`runtime.assistant.answer(question)`. The surfaces over it live in `rag/web/` (HTTP, widget,
Gradio UI) and `app.py` (CLI); measurement lives in `rag/evaluation/`.

Beside the read path, `rag/` keeps the state every process and node shares, in the database:
`state` (schema and migrations, rate-limit events, shared secrets), `conversations`,
`feedback`, `credentials` (API keys), and the ingestion queue (`jobs`) with the `worker` that
runs it through the write path. Heavy modules (models, Chroma) load on first use of the names
that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag.answer.types import Answer, Citation, Hit, Message, SentenceSupport
from rag.errors import (
    ConfigError,
    DocentError,
    GenerationError,
    IndexMismatchError,
    InputError,
    LoadError,
    NotFoundError,
    PromptError,
    StoreBusyError,
)
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.answer.pipeline import Assistant
    from rag.runtime import Runtime, build_runtime

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "ConfigError",
    "DocentError",
    "GenerationError",
    "Hit",
    "IndexMismatchError",
    "InputError",
    "LoadError",
    "Message",
    "NotFoundError",
    "PromptError",
    "Runtime",
    "SentenceSupport",
    "Settings",
    "StoreBusyError",
    "build_runtime",
]

_LAZY = {
    "Assistant": "rag.answer.pipeline",
    "Runtime": "rag.runtime",
    "build_runtime": "rag.runtime",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
