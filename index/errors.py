"""Docent's error hierarchy, shared by the write path (`index`) and the read path (`rag`).

    DocentError
    ├── ConfigError          a setting cannot be honoured (unknown model folder, missing API key)
    ├── InputError           a request is unusable (empty question, file type not accepted)
    ├── LoadError            one file cannot be turned into text (carries the path and the reason)
    ├── IndexMismatchError   the collection was built with another embedding model or chunker
    ├── PromptError          a prompt file is missing, malformed, or rendered with wrong variables
    ├── GenerationError      the chat model failed to answer
    ├── AccessError          missing, invalid or expired credentials, or not allowed (HTTP API)
    └── RateLimitError       too many requests for one caller (carries seconds to wait)

Library code raises these; only the edges (CLI, HTTP API, UI) turn them into messages.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AccessError",
    "ConfigError",
    "DocentError",
    "GenerationError",
    "IndexMismatchError",
    "InputError",
    "LoadError",
    "PromptError",
    "RateLimitError",
]


class DocentError(Exception):
    """Base of every error Docent raises on purpose."""


class ConfigError(DocentError):
    """A setting is invalid or points at something that does not exist."""


class InputError(DocentError):
    """A user request cannot be served as given; the message says what to change."""


class LoadError(DocentError):
    """A file could not be read into text; `reason` says why in a few words."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexMismatchError(DocentError):
    """The stored collection was built with settings that differ from the current ones."""


class PromptError(DocentError):
    """A prompt file is missing or was rendered with missing or unknown variables."""


class GenerationError(DocentError):
    """The chat model could not produce an answer."""


class AccessError(DocentError):
    """The caller may not do this: `forbidden` is False when credentials are missing or bad."""

    def __init__(self, message: str, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


class RateLimitError(DocentError):
    """One caller sent too many requests; `retry_after` is the wait in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
