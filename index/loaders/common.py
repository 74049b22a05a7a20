"""What the format readers of `index.loaders` share, beyond `index/document.py` (the document
they return, the limits, the zip guard and the title helpers, which the rest of `index` uses
too): the reader signature, decoding a text file, joining the lines a layout wrapped, and
tables as rows with their header."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from index.document import LoadedDocument, PageProgress
from index.errors import LoadError
from index.ocr import DocumentOcr
from index.tables import ROW_SEPARATOR, rows_with_header

__all__ = [
    "BROKEN_ZIP",
    "MIN_TEXT_LAYER_CHARS",
    "Reader",
    "is_soft_wrap",
    "read_text_file",
    "table_lines",
    "unwrap",
]

MIN_TEXT_LAYER_CHARS = 20  # a page with a picture and less text than this is read by OCR
BROKEN_ZIP = (zipfile.BadZipFile, KeyError, ValueError)  # what a broken Office file raises

# A format's reader: (file, page progress, the document's OCR budget) → the document.
Reader = Callable[[Path, PageProgress | None, DocumentOcr], LoadedDocument]


def read_text_file(path: Path) -> str:
    """The file's text: UTF-8 (with or without a BOM), else the encoding charset_normalizer
    finds (loaded only by the first file that is not UTF-8)."""
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise LoadError(path, "binary content, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(raw).best()
        if best is None:
            raise LoadError(path, "binary content, not text") from None
        return str(best)


_LINE_START_BLOCK = re.compile(r"\s*(?:[-•*|#>]|\d+[.)]\s)")  # list item, table, heading, quote


def is_soft_wrap(line: str, following: str) -> bool:
    """Whether the line break after `line` only wraps a paragraph: `line` is long (or the
    next line goes on in lower case, as in a scan's short lines), ends no sentence, is no table
    row, and `following` starts no list item, table row or heading."""
    line = line.rstrip()
    return (
        (len(line) >= 50 or following.lstrip()[:1].islower())
        and line[-1:] not in ".!?:"
        and not line.lstrip().startswith("|")
        and not _LINE_START_BLOCK.match(following)
    )


def unwrap(page_text: str) -> str:
    """Join the lines that PDF layout (or a scan) wrapped mid-sentence, so sentences stay
    whole."""
    lines = page_text.splitlines()
    out = lines[:1]
    for line in lines[1:]:
        if is_soft_wrap(out[-1], line):
            out[-1] = f"{out[-1].rstrip()} {line.lstrip()}"
        else:
            out.append(line)
    return "\n".join(out)


def table_lines(rows: list[list[str]]) -> str:
    """A table as its rows, each with its header (`index/tables.py`)."""
    return ROW_SEPARATOR.join(rows_with_header(rows))
