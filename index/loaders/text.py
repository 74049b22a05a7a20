"""Plain text (.txt) and Markdown (.md, .markdown): the file's text as it is, titled by its
first heading (Markdown) or its first line. Needs no parser: charset_normalizer loads only for a
file that is not UTF-8 (`common.read_text_file`)."""

from __future__ import annotations

import re
from pathlib import Path

from index.document import LoadedDocument, PageProgress, first_line_title, make_title
from index.loaders.common import read_text_file
from index.ocr import DocumentOcr

__all__ = ["read"]

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})


def read(path: Path, on_page: PageProgress | None, ocr: DocumentOcr) -> LoadedDocument:
    text = read_text_file(path)
    markdown = path.suffix.lower() in MARKDOWN_SUFFIXES
    if markdown and (heading := re.search(r"^#[ \t]+(.+)$", text, flags=re.MULTILINE)):
        title = heading.group(1).strip()
    else:
        title = first_line_title(text, path)
    return LoadedDocument(path, make_title(title, path), text)
