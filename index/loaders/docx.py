"""Word (.docx), read by python-docx: paragraphs and tables in reading order, each table as rows
with their header; titled by the document's title property or its first line. The zip is
checked for its unpacked size before it is opened."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table as WordTable

from index.document import (
    LoadedDocument,
    PageProgress,
    check_unpacked_size,
    first_line_title,
    make_title,
)
from index.errors import LoadError
from index.loaders.common import BROKEN_ZIP, table_lines
from index.ocr import DocumentOcr

__all__ = ["read"]


def read(path: Path, on_page: PageProgress | None, ocr: DocumentOcr) -> LoadedDocument:
    check_unpacked_size(path, ".docx")
    try:
        document = docx.Document(str(path))
    except (*BROKEN_ZIP, PackageNotFoundError) as exc:
        raise LoadError(path, "not a valid .docx file") from exc
    blocks = []
    for block in document.iter_inner_content():
        if isinstance(block, WordTable):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            blocks.append(table_lines(rows))
        else:
            blocks.append(block.text.strip())
    text = "\n\n".join(b for b in blocks if b)
    title = (document.core_properties.title or "").strip()
    return LoadedDocument(path, make_title(title or first_line_title(text, path), path), text)
