"""Turn a file into plain text with a title and, for PDFs, where each page starts.

Every reader returns the document's full text; chunk offsets index into exactly that text.
Any failure becomes a `LoadError` with a short human reason.

Inputs are bounded before the work: a file larger than MAX_FILE_BYTES, a Word file whose parts
unpack to more than MAX_UNPACKED_BYTES (or any part compressed more than MAX_COMPRESSION
times), a PDF of more than MAX_PAGES pages, a PDF part that decompresses past pypdf's limits, a PDF
whose text takes more than MAX_PDF_SECONDS to read, or more than MAX_CHARS characters of text
is refused; a title is cut to MAX_TITLE_CHARS. A parser failing in any other way fails that
file only.
"""

from __future__ import annotations

import logging
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docx
from bs4 import BeautifulSoup
from charset_normalizer import from_bytes
from docx.opc.exceptions import PackageNotFoundError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from index.errors import LoadError

MAX_FILE_BYTES = 200 * 2**20
MAX_UNPACKED_BYTES = 200 * 2**20
MAX_COMPRESSION = 100
MAX_PAGES = 2000
MAX_CHARS = 20_000_000
MAX_TITLE_CHARS = 200
MAX_PDF_SECONDS = 120  # a small PDF can make every page decode the same huge stream

PageProgress = Callable[[int, int], None]  # (pages read, pages)

log = logging.getLogger(__name__)

__all__ = ["SUPPORTED_SUFFIXES", "LoadedDocument", "PageProgress", "is_soft_wrap", "load_document"]


@dataclass(frozen=True)
class LoadedDocument:
    path: Path
    title: str
    text: str
    page_starts: list[int] = field(default_factory=list)  # offset of page i+1 in `text` (PDF only)

    def page_at(self, offset: int) -> int | None:
        """1-based page holding the character at `offset`, or None for unpaged formats."""
        page = None
        for number, start in enumerate(self.page_starts, start=1):
            if start > offset:
                break
            page = number
        return page


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


def _read_text_file(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise LoadError(path, "binary content, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = from_bytes(raw).best()
        if best is None:
            raise LoadError(path, "binary content, not text") from None
        return str(best)


def _title(candidate: str, path: Path) -> str:
    """A title of at most MAX_TITLE_CHARS: the candidate, cut at a word, or the file stem."""
    title = " ".join(candidate.split())
    if not title:
        return path.stem[:MAX_TITLE_CHARS]
    if len(title) <= MAX_TITLE_CHARS:
        return title
    return title[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _first_line_title(text: str, path: Path) -> str:
    for line in text[:10_000].splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= 120 else path.stem
    return path.stem


def _load_txt(path: Path) -> LoadedDocument:
    text = _read_text_file(path)
    return LoadedDocument(path, _title(_first_line_title(text, path), path), text)


def _load_md(path: Path) -> LoadedDocument:
    text = _read_text_file(path)
    heading = re.search(r"^#[ \t]+(.+)$", text, flags=re.MULTILINE)
    title = heading.group(1).strip() if heading else _first_line_title(text, path)
    return LoadedDocument(path, _title(title, path), text)


def _load_html(path: Path) -> LoadedDocument:
    soup = BeautifulSoup(_read_text_file(path), "html.parser")
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
    return LoadedDocument(path, _title(title or _first_line_title(text, path), path), text)


_LINE_START_BLOCK = re.compile(r"\s*(?:[-•*|#>]|\d+[.)]\s)")  # list item, table, heading, quote


def is_soft_wrap(line: str, following: str) -> bool:
    """Whether the line break after `line` only wraps a paragraph: `line` is long, ends no
    sentence, is no table row, and `following` starts no list item, table row or heading."""
    line = line.rstrip()
    return (
        len(line) >= 50
        and line[-1:] not in ".!?:"
        and not line.lstrip().startswith("|")
        and not _LINE_START_BLOCK.match(following)
    )


def _unwrap(page_text: str) -> str:
    """Join the lines that PDF layout wrapped mid-sentence, so sentences stay whole."""
    lines = page_text.splitlines()
    out = lines[:1]
    for line in lines[1:]:
        if is_soft_wrap(out[-1], line):
            out[-1] = f"{out[-1].rstrip()} {line.lstrip()}"
        else:
            out.append(line)
    return "\n".join(out)


def _load_pdf(path: Path, on_page: PageProgress | None = None) -> LoadedDocument:
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(path, "encrypted PDF (a password is required)")
        if len(reader.pages) > MAX_PAGES:
            raise LoadError(path, f"more than {MAX_PAGES:,} pages")
        pages, size, deadline = [], 0, time.monotonic() + MAX_PDF_SECONDS
        for page in reader.pages:
            pages.append(_unwrap((page.extract_text() or "").strip()))
            size += len(pages[-1])
            if size > MAX_CHARS:
                raise LoadError(path, f"more than {MAX_CHARS:,} characters of text")
            if time.monotonic() > deadline:
                raise LoadError(path, f"reading its text took over {MAX_PDF_SECONDS} s")
            if on_page:
                on_page(len(pages), len(reader.pages))
        meta_title = str((reader.metadata.title if reader.metadata else None) or "")
    except LoadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:  # PyPdfError: bombs too
        raise LoadError(path, f"not a readable PDF ({exc})") from exc
    text, starts = "", []
    for page_text in pages:
        starts.append(len(text))
        text += page_text + "\n\n"
    title = _title(meta_title or _first_line_title(text, path), path)
    return LoadedDocument(path, title, text.rstrip(), starts)


def _check_unpacked_size(path: Path) -> None:
    """Refuse a zip (a .docx) that would unpack to too much: a small file can hold gigabytes."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise LoadError(path, "not a valid .docx file") from exc
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise LoadError(path, f"unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB")
    for member in members:
        if member.file_size > MAX_COMPRESSION * max(member.compress_size, 1024):
            raise LoadError(path, f"a part is compressed more than {MAX_COMPRESSION} times")


def _load_docx(path: Path) -> LoadedDocument:
    _check_unpacked_size(path)
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise LoadError(path, "not a valid .docx file") from exc
    blocks = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        blocks.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
    text = "\n\n".join(blocks)
    title = (document.core_properties.title or "").strip()
    return LoadedDocument(path, _title(title or _first_line_title(text, path), path), text)


_READERS: dict[str, Callable[[Path], LoadedDocument]] = {
    ".txt": _load_txt,
    ".md": _load_md,
    ".markdown": _load_md,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}

SUPPORTED_SUFFIXES = frozenset(_READERS)


def load_document(path: Path, on_page: PageProgress | None = None) -> LoadedDocument:
    """Read `path` into a `LoadedDocument`, or raise `LoadError` saying why not; `on_page`
    hears (pages read, pages) as a PDF is read."""
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise LoadError(path, f"unsupported file type '{path.suffix or '(none)'}'")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LoadError(path, f"larger than {MAX_FILE_BYTES // 2**20} MB")
        document = _load_pdf(path, on_page) if reader is _load_pdf else reader(path)
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except Exception as exc:  # a parser meeting hostile input: this file fails, not the batch
        log.warning("parser failure on %s", path.name, exc_info=exc)
        raise LoadError(path, f"could not be parsed ({type(exc).__name__})") from exc
    if len(document.text) > MAX_CHARS:
        raise LoadError(path, f"more than {MAX_CHARS:,} characters of text")
    if not document.text.strip():
        raise LoadError(path, "no text found (empty file, or a scanned PDF without a text layer)")
    return document
