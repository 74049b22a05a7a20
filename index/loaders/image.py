"""Images of text (.png, .jpg, .jpeg, .tif, .tiff), read by OCR (Pillow and Tesseract,
`index/ocr.py`): each frame of a multi-page TIFF (or animated image) is a page and costs the OCR
budget one; when the budget runs out, the frames read before it are kept."""

from __future__ import annotations

from pathlib import Path

from index import ocr
from index.document import LoadedDocument, PageProgress, first_line_title, join_pages, make_title
from index.loaders.common import unwrap
from index.ocr import DocumentOcr, OcrBudgetSpent

__all__ = ["read"]


def read(path: Path, on_page: PageProgress | None, ocr_budget: DocumentOcr) -> LoadedDocument:
    pages, note = [], ""
    for frames, frame in ocr.image_pages(path):
        try:
            pages.append(unwrap(ocr_budget.read(path, frame)))
        except OcrBudgetSpent as spent:
            note = spent.note(len(pages), frames)
            break
        if on_page:
            on_page(len(pages), frames)
    text, starts = join_pages(pages)
    title = make_title(first_line_title(text, path), path)
    return LoadedDocument(path, title, text, starts, note)
