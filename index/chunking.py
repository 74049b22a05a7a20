"""Split a loaded document into overlapping, sentence-aware chunks with exact character offsets."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from index.loaders import LoadedDocument

if TYPE_CHECKING:
    from langchain_text_splitters import RecursiveCharacterTextSplitter
from index.types import Chunk, document_id

__all__ = ["Chunker", "chunk_id"]

# Paragraphs, then lines, then sentence ends, then clauses, then words.
_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def chunk_id(source: str, text: str, occurrence: int = 0) -> str:
    """Stable id from source and text; `occurrence` separates identical passages of one file."""
    digest = hashlib.sha256(f"{source}\x00{text}\x00{occurrence}".encode()).hexdigest()
    return digest[:32]


class Chunker:
    def __init__(self, size: int, overlap: int) -> None:
        self.size = size
        self.overlap = overlap

    @functools.cached_property
    def _splitter(self) -> RecursiveCharacterTextSplitter:
        """Made by the first split: a process that only answers never loads the splitter."""
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        return RecursiveCharacterTextSplitter(
            chunk_size=self.size,
            chunk_overlap=self.overlap,
            separators=_SEPARATORS,
            keep_separator="end",
            add_start_index=True,
        )

    @property
    def signature(self) -> str:
        return f"recursive-{self.size}-{self.overlap}"

    def split(self, document: LoadedDocument, source: str, name: str) -> list[Chunk]:
        """The chunks of `document`, stored under `source` and shown as `name`."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        seen: dict[str, int] = {}
        chunks = []
        for piece in self._splitter.create_documents([document.text]):
            text = piece.page_content
            start = int(piece.metadata["start_index"])
            occurrence = seen.get(text, 0)
            seen[text] = occurrence + 1
            chunks.append(
                Chunk(
                    id=chunk_id(source, text, occurrence),
                    text=text,
                    source=source,
                    document_id=document_id(source),
                    name=name,
                    title=document.title,
                    start=start,
                    end=start + len(text),
                    page=document.page_at(start),
                    page_breaks=tuple(
                        b - start for b in document.page_starts if start < b < start + len(text)
                    ),
                    ingested_at=now,
                )
            )
        return chunks
