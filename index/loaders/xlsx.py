"""Excel (.xlsx), read by openpyxl (read-only, cached values): one sheet a location, each row
with its header; titled by the workbook's title property or the file name. The zip is checked
for its unpacked size before it is opened, and the rows are read for at most MAX_READ_SECONDS
(a small workbook can hold millions)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from index.document import (
    MAX_CHARS,
    MAX_PAGES,
    MAX_READ_SECONDS,
    LoadedDocument,
    PageProgress,
    check_unpacked_size,
    join_pages,
    make_title,
)
from index.errors import LoadError
from index.loaders.common import BROKEN_ZIP
from index.ocr import DocumentOcr
from index.tables import ROW_SEPARATOR, rows_with_header

__all__ = ["read"]

Row = Sequence[object]


def _until(path: Path, deadline: float, rows: Iterable[Row]) -> Iterator[Row]:
    """The rows, until `deadline` (a small workbook can hold millions of rows)."""
    for row in rows:
        if time.monotonic() > deadline:
            raise LoadError(path, f"reading it took over {MAX_READ_SECONDS} s")
        yield row


def read(path: Path, on_page: PageProgress | None, ocr: DocumentOcr) -> LoadedDocument:
    check_unpacked_size(path, ".xlsx")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (*BROKEN_ZIP, OSError, InvalidFileException) as exc:
        raise LoadError(path, "not a valid .xlsx file") from exc
    try:
        sheets = book.worksheets
        if len(sheets) > MAX_PAGES:
            raise LoadError(path, f"more than {MAX_PAGES:,} sheets")
        pages, size, deadline = [], 0, time.monotonic() + MAX_READ_SECONDS
        for number, sheet in enumerate(sheets, start=1):
            lines = [f"Sheet: {sheet.title}"]
            sheet.reset_dimensions()  # the rows the file holds, not the range it declares
            rows = _until(path, deadline, sheet.iter_rows(values_only=True))
            for line in rows_with_header(rows):
                lines.append(line)
                size += len(line) + len(ROW_SEPARATOR)
                if size > MAX_CHARS:
                    raise LoadError(path, f"more than {MAX_CHARS:,} characters of text")
            pages.append(ROW_SEPARATOR.join(lines) if len(lines) > 1 else "")
            if on_page:
                on_page(number, len(sheets))
        title = (book.properties.title or "").strip()
    finally:
        book.close()
    text, starts = join_pages(pages)
    return LoadedDocument(path, make_title(title or path.stem, path), text, starts)
