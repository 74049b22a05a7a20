"""Docent's read path: question (+ history) → standalone query → hybrid retrieval → generator
→ checked citations → `Answer`.

Start here: `Settings` (all configuration), `build_runtime(settings)` (wires every component),
`runtime.assistant.answer(question)`. The surfaces over it live in `rag/web/` (HTTP, widget,
Gradio UI) and `app.py` (CLI); measurement lives in `rag/evaluation/`. Heavy modules (models,
Chroma) load on first use of the names that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag.errors import (
    ConfigError,
    DocentError,
    GenerationError,
    IndexMismatchError,
    InputError,
    LoadError,
    NotFoundError,
    PromptError,
)
from rag.settings import Settings
from rag.types import Answer, Citation, Hit, Message, SentenceSupport

if TYPE_CHECKING:
    from rag.assistant import Assistant
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
    "build_runtime",
]

_LAZY = {"Assistant": "rag.assistant", "Runtime": "rag.runtime", "build_runtime": "rag.runtime"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
