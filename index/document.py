"""What every reader returns, the limits every reader honours, and the helpers they share."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from index.errors import LoadError

__all__ = [
    "MAX_CHARS",
    "MAX_COMPRESSION",
    "MAX_FILE_BYTES",
    "MAX_PAGES",
    "MAX_READ_SECONDS",
    "MAX_TITLE_CHARS",
    "MAX_UNPACKED_BYTES",
    "LoadedDocument",
    "PageProgress",
    "check_unpacked_size",
    "first_line_title",
    "join_pages",
    "make_title",
]

MAX_FILE_BYTES = 200 * 2**20
MAX_UNPACKED_BYTES = 200 * 2**20
MAX_COMPRESSION = 100
MAX_PAGES = 2000  # pages, slides, sheets or image frames
MAX_CHARS = 20_000_000
MAX_TITLE_CHARS = 200
MAX_READ_SECONDS = 120  # a workbook's rows, read at most this long

PageProgress = Callable[[int, int], None]  # (pages read, pages)


@dataclass(frozen=True)
class LoadedDocument:
    path: Path
    title: str
    text: str
    # offset of location i+1 in `text`: pages of a PDF or scan, slides, sheets (none: unpaged)
    page_starts: list[int] = field(default_factory=list)
    # empty when read whole; else what was left unread and why, in words for the ingest report
    # ("read 40 of 2,000 pages, stopped at page 41: the document's OCR budget (40 pages) is spent")
    note: str = ""

    def page_at(self, offset: int) -> int | None:
        """1-based location holding the character at `offset`, or None for unpaged formats."""
        page = None
        for number, start in enumerate(self.page_starts, start=1):
            if start > offset:
                break
            page = number
        return page


def make_title(candidate: str, path: Path) -> str:
    """A title of at most MAX_TITLE_CHARS: the candidate, cut at a word, or the file stem."""
    title = " ".join(candidate.split())
    if not title:
        return path.stem[:MAX_TITLE_CHARS]
    if len(title) <= MAX_TITLE_CHARS:
        return title
    return title[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def first_line_title(text: str, path: Path) -> str:
    for line in text[:10_000].splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= 120 else path.stem
    return path.stem


def join_pages(pages: Iterable[str]) -> tuple[str, list[int]]:
    """The pages' texts joined by blank lines, and where each starts (`load_document` then
    refuses more than MAX_CHARS characters)."""
    parts, starts, at = [], [], 0
    for page_text in pages:
        starts.append(at)
        parts.append(page_text + "\n\n")
        at += len(parts[-1])
    return "".join(parts).rstrip(), starts


def check_unpacked_size(path: Path, kind: str) -> None:
    """Refuse an Office file (a zip) that would unpack to too much: a small file can hold
    gigabytes."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise LoadError(path, f"not a valid {kind} file") from exc
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise LoadError(path, f"unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB")
    for member in members:
        if member.file_size > MAX_COMPRESSION * max(member.compress_size, 1024):
            raise LoadError(path, f"a part is compressed more than {MAX_COMPRESSION} times")
