"""Docent's error tree, drawn whole; each layer defines the errors it raises.

    DocentError                  (index/errors.py)
    ├── ConfigError              a setting cannot be honoured (unknown model folder, bad value)
    ├── LoadError                one file cannot be turned into text (carries path and reason)
    ├── IndexMismatchError       the collection was built with another model or chunker
    ├── StoreBusyError           another process already writes to this embedded store
    ├── IndexSwitchedError       the live index switched models while a write was under way
    ├── InputError               a request is unusable (empty question, file type not accepted)
    ├── NotFoundError            an id (document, job) names nothing that exists
    ├── PromptError              a prompt file is missing, malformed, or rendered wrongly
    ├── GenerationError          the chat model failed to answer
    ├── AccessError              (rag/web/errors.py) missing, invalid or expired credentials,
    │                            or not allowed
    └── RateLimitError           (rag/web/errors.py) too many requests for one caller

Library code raises these; only the edges (CLI, HTTP, UI) turn them into messages.
"""

from __future__ import annotations

from index.errors import (
    ConfigError,
    DocentError,
    IndexMismatchError,
    IndexSwitchedError,
    LoadError,
    StoreBusyError,
)

__all__ = [
    "ConfigError",
    "DocentError",
    "GenerationError",
    "IndexMismatchError",
    "IndexSwitchedError",
    "InputError",
    "LoadError",
    "NotFoundError",
    "PromptError",
    "StoreBusyError",
]


class InputError(DocentError):
    """A user request cannot be served as given; the message says what to change."""


class NotFoundError(DocentError):
    """The request names a document, job or other item that does not exist."""


class PromptError(DocentError):
    """A prompt file is missing or malformed, or was rendered with wrong variables."""


class GenerationError(DocentError):
    """The chat model could not produce an answer."""
