"""How a document's location is shown to people (CLI, chat cards, prompts)."""

from __future__ import annotations

__all__ = ["describe_location"]


def describe_location(name: str, page: int | None) -> str:
    """'name' or 'name, page N'."""
    return f"{name}, page {page}" if page is not None else name
