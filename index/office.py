"""Office files and tables: Word (.docx, tables as rows with their header, in reading order),
PowerPoint (.pptx, one slide a location, speaker notes included), Excel (.xlsx, one sheet a
location, each row with its header) and CSV (each row with its header).

Zip-based files are checked for their unpacked size before they are opened
(`check_unpacked_size`).
"""

from __future__ import annotations

import csv
import io
import itertools
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import docx
import openpyxl
import pptx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table as WordTable
from openpyxl.utils.exceptions import InvalidFileException
from pptx.exc import PackageNotFoundError as SlidesNotFoundError
from pptx.shapes.base import BaseShape
from pptx.shapes.group import GroupShape

from index.document import (
    MAX_CHARS,
    MAX_PAGES,
    MAX_READ_SECONDS,
    LoadedDocument,
    PageProgress,
    check_unpacked_size,
    first_line_title,
    join_pages,
    make_title,
)
from index.errors import LoadError
from index.tables import ROW_SEPARATOR, rows_with_header

__all__ = ["csv_delimiter", "load_csv", "load_docx", "load_pptx", "load_xlsx"]

CSV_DELIMITERS = ",;\t|"
CSV_SAMPLE_CHARS = 64 * 1024  # the start of a CSV file its delimiter is told from ...
CSV_SAMPLE_ROWS = 200  # ... at most this many rows of it
_BROKEN = (zipfile.BadZipFile, KeyError, ValueError)
Row = Sequence[object]


def _table_lines(rows: list[list[str]]) -> str:
    return ROW_SEPARATOR.join(rows_with_header(rows))


def load_docx(path: Path) -> LoadedDocument:
    check_unpacked_size(path, ".docx")
    try:
        document = docx.Document(str(path))
    except (*_BROKEN, PackageNotFoundError) as exc:
        raise LoadError(path, "not a valid .docx file") from exc
    blocks = []
    for block in document.iter_inner_content():
        if isinstance(block, WordTable):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            blocks.append(_table_lines(rows))
        else:
            blocks.append(block.text.strip())
    text = "\n\n".join(b for b in blocks if b)
    title = (document.core_properties.title or "").strip()
    return LoadedDocument(path, make_title(title or first_line_title(text, path), path), text)


def _shape_texts(shape: BaseShape) -> Iterator[str]:
    if isinstance(shape, GroupShape):
        for member in shape.shapes:
            yield from _shape_texts(member)
    elif getattr(shape, "has_table", False):
        table = shape.table  # type: ignore[attr-defined]
        yield _table_lines([[cell.text for cell in row.cells] for row in table.rows])
    elif getattr(shape, "has_text_frame", False):
        yield shape.text_frame.text.strip()  # type: ignore[attr-defined]


def load_pptx(path: Path, on_page: PageProgress | None = None) -> LoadedDocument:
    check_unpacked_size(path, ".pptx")
    try:
        deck = pptx.Presentation(str(path))
    except (*_BROKEN, SlidesNotFoundError) as exc:
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


def _until(path: Path, deadline: float, rows: Iterable[Row]) -> Iterator[Row]:
    """The rows, until `deadline` (a small workbook can hold millions of rows)."""
    for row in rows:
        if time.monotonic() > deadline:
            raise LoadError(path, f"reading it took over {MAX_READ_SECONDS} s")
        yield row


def load_xlsx(path: Path, on_page: PageProgress | None = None) -> LoadedDocument:
    check_unpacked_size(path, ".xlsx")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (*_BROKEN, OSError, InvalidFileException) as exc:
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


def csv_delimiter(text: str) -> str:
    """The delimiter of CSV `text`, of CSV_DELIMITERS: the one that splits the first rows of
    its first CSV_SAMPLE_CHARS (whole lines) into the same number of fields most often (ties:
    into more fields); a comma when none splits them. Linear in the sample, unlike
    `csv.Sniffer`, whose regular expressions take seconds on a few hundred crafted bytes."""
    sample = text[:CSV_SAMPLE_CHARS]
    if len(text) > CSV_SAMPLE_CHARS:
        sample = sample[: sample.rfind("\n") + 1] or sample  # the last line is cut: left out
    best, best_score = ",", (0.0, 1)
    for delimiter in CSV_DELIMITERS:
        rows = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
        try:
            widths = [len(row) for row in itertools.islice(rows, CSV_SAMPLE_ROWS) if row]
        except csv.Error:  # a field too large for the csv module: not this delimiter
            continue
        if not widths:
            continue
        width, rows_of_width = Counter(widths).most_common(1)[0]
        score = (rows_of_width / len(widths), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def load_csv(path: Path, text: str) -> LoadedDocument:
    """`text`: the file decoded (the caller knows how to guess an encoding). Quoted with
    double quotes, as every spreadsheet writes CSV; the delimiter is `csv_delimiter`'s."""
    rows = csv.reader(
        io.StringIO(text, newline=""), delimiter=csv_delimiter(text), skipinitialspace=True
    )
    try:
        table = _table_lines(list(rows))
    except csv.Error as exc:
        raise LoadError(path, f"not a readable CSV file ({exc})") from exc
    return LoadedDocument(path, make_title(path.stem, path), table)
