"""PowerPoint (.pptx), read by python-pptx: one slide a location (its title, its text frames and
tables, grouped shapes included, then its speaker notes); titled by the deck's title property
or its first slide title. The zip is checked for its unpacked size before it is opened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pptx
from pptx.exc import PackageNotFoundError
from pptx.shapes.base import BaseShape
from pptx.shapes.group import GroupShape

from index.document import (
    MAX_PAGES,
    LoadedDocument,
    PageProgress,
    check_unpacked_size,
    join_pages,
    make_title,
)
from index.errors import LoadError
from index.loaders.common import BROKEN_ZIP, table_lines
from index.ocr import DocumentOcr

__all__ = ["read"]


def _shape_texts(shape: BaseShape) -> Iterator[str]:
    if isinstance(shape, GroupShape):
        for member in shape.shapes:
            yield from _shape_texts(member)
    elif getattr(shape, "has_table", False):
        table = shape.table  # type: ignore[attr-defined]
        yield table_lines([[cell.text for cell in row.cells] for row in table.rows])
    elif getattr(shape, "has_text_frame", False):
        yield shape.text_frame.text.strip()  # type: ignore[attr-defined]


def read(path: Path, on_page: PageProgress | None, ocr: DocumentOcr) -> LoadedDocument:
    check_unpacked_size(path, ".pptx")
    try:
        deck = pptx.Presentation(str(path))
    except (*BROKEN_ZIP, PackageNotFoundError) as exc:
        raise LoadError(path, "not a valid .pptx file") from exc
    slides = list(deck.slides)
    if len(slides) > MAX_PAGES:
        raise LoadError(path, f"more than {MAX_PAGES:,} slides")
    pages, first_title = [], ""
    for number, slide in enumerate(slides, start=1):
        title_shape = slide.shapes.title
        heading = title_shape.text_frame.text.strip() if title_shape is not None else ""
        first_title = first_title or heading
        parts = [heading] if heading else []
        title_id = title_shape.shape_id if title_shape is not None else None
        others = [shape for shape in slide.shapes if shape.shape_id != title_id]
        parts += [text for shape in others for text in _shape_texts(shape) if text]
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                parts.append(f"Speaker notes: {notes}")
        pages.append("\n\n".join(parts))
        if on_page:
            on_page(number, len(slides))
    text, starts = join_pages(pages)
    title = (deck.core_properties.title or "").strip() or first_title
    return LoadedDocument(path, make_title(title or path.stem, path), text, starts)
