"""Docent's read path: question → standalone query → hybrid retrieval → cited answer, and the
surfaces over it (CLI, HTTP API, Gradio UI)."""

from index.errors import (
    ConfigError,
    DocentError,
    GenerationError,
    IndexMismatchError,
    InputError,
    LoadError,
    PromptError,
)
from rag.types import Answer, Citation, Hit, Message

__all__ = [
    "Answer",
    "Citation",
    "ConfigError",
    "DocentError",
    "GenerationError",
    "Hit",
    "IndexMismatchError",
    "InputError",
    "LoadError",
    "Message",
    "PromptError",
]
