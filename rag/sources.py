"""How a document's source and location are shown to people (CLI, chat cards)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["describe_location", "display_source"]


def display_source(source: str) -> str:
    """A source path as people read it: relative to the working folder when inside it, the file
    name for uploads."""
    path = Path(source)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return path.name if "uploads" in path.parts else source


def describe_location(source: str, page: int | None) -> str:
    """'source' or 'source, page N'."""
    return display_source(source) + (f", page {page}" if page is not None else "")
