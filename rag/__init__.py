"""Docent's read side and everything around it.

Start here: `Settings` (all configuration), `build_runtime(settings)` (the composition root:
builds every component once), then `runtime.chat.ask(caller, question)` (asking inside a
conversation, as every surface does) or `runtime.assistant.answer(question)` (the read path
alone). The rooms: `answer/` the read path (question → standalone query → hybrid retrieval →
generator → checked `Answer`, no writes, no HTTP), `reader/` the trained reader, `stores/` the
state every process and node shares (each table beside its store), `jobs/` the ingestion
queue, its worker and the folder watch, `web/` the surfaces, `evaluation/` the measurements.
Heavy modules (models, Chroma) load on first use of the names that need them.
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
