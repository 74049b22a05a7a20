"""HTML (.html, .htm), read by BeautifulSoup: the visible text with a line break after each
block (paragraph, list item, table row, heading), scripts and styles dropped, titled by its
<title> or first <h1>."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from index.document import LoadedDocument, PageProgress, first_line_title, make_title
from index.loaders.common import read_text_file
from index.ocr import DocumentOcr

__all__ = ["read"]

_BLOCK_TAGS = [
    "p",
    "div",
    "li",
    "tr",
    "br",
    "pre",
    "table",
    "ul",
    "ol",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dt",
    "dd",
]


def read(path: Path, on_page: PageProgress | None, ocr: DocumentOcr) -> LoadedDocument:
    soup = BeautifulSoup(read_text_file(path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all(["td", "th"]):
        tag.append(" ")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.append("\n")
    lines = (re.sub(r"[ \t\xa0]+", " ", line).strip() for line in soup.get_text().splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    heading = soup.title or soup.find("h1")
    title = heading.get_text(" ", strip=True) if heading else ""
    return LoadedDocument(path, make_title(title or first_line_title(text, path), path), text)
