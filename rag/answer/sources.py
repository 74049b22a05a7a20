"""How a document's location is shown to people (CLI, chat cards, widget, prompts): a page of a
PDF or a scan, a slide of a deck, a sheet of a workbook."""

from __future__ import annotations

from pathlib import PurePosixPath

__all__ = ["describe_location", "location_label"]

_UNIT = {".pptx": "slide", ".xlsx": "sheet"}


def location_label(name: str, page: int | None) -> str | None:
    """'page 3', 'slide 3' or 'sheet 3'; None for a document without locations."""
    if page is None:
        return None
    return f"{_UNIT.get(PurePosixPath(name).suffix.lower(), 'page')} {page}"


def describe_location(name: str, page: int | None) -> str:
    """'name' or 'name, page N' ('slide N', 'sheet N')."""
    label = location_label(name, page)
    return f"{name}, {label}" if label else name
