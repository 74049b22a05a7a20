"""The errors the write path raises; the root of Docent's error tree.

    DocentError
    ├── ConfigError          a setting cannot be honoured (unknown model folder, bad value)
    ├── LoadError            one file cannot be turned into text (carries the path and the reason)
    ├── IndexMismatchError   the collection was built with another embedding model or chunker
    ├── StoreBusyError       another process already writes to this embedded store
    └── IndexSwitchedError   the live index switched (a model switch) while a write was under way

The read path adds its own (`rag/errors.py`, which draws the whole tree) and the HTTP surfaces
theirs (`rag/web/errors.py`). Library code raises these; only the edges (CLI, HTTP, UI) turn
them into messages.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "DocentError",
    "IndexMismatchError",
    "IndexSwitchedError",
    "LoadError",
    "StoreBusyError",
]


class DocentError(Exception):
    """Base of every error Docent raises on purpose."""


class ConfigError(DocentError):
    """A setting is invalid or points at something that does not exist."""


class LoadError(DocentError):
    """A file could not be read into text; `reason` says why in a few words."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexMismatchError(DocentError):
    """The stored collection was built with settings that differ from the current ones."""


class StoreBusyError(DocentError):
    """Another process holds the write lock of this embedded store."""


class IndexSwitchedError(DocentError):
    """A writer wrote to a collection that is no longer live; its change was not committed
    (a job is handed back and done again on the live index)."""
