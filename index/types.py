"""Value types that cross the boundary between the write path and the read path.

A chunk's `source` is the server-side key of its document (an absolute path for files) and is
never serialized: what leaves the server names a document by `document_id` and `name` (the
upload name, or the path relative to the folder it was ingested from).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_COLLECTION", "Chunk", "Hit", "Scope", "document_id", "indexed_text"]

DEFAULT_COLLECTION = "default"


def document_id(source: str) -> str:
    """A document's public id: a short hash of its source key."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


class Chunk(BaseModel):
    """A passage of one document, exactly as stored and shown to the user."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    source: str = Field(
        "",
        exclude=True,
        repr=False,
        description="Server-side key; never sent (empty when read back).",
    )
    document_id: str
    name: str = Field(description="The document's display name.")
    title: str
    start: int
    end: int
    page: int | None = None
    # Offsets in `text` where each next page begins (a passage that runs across pages).
    page_breaks: tuple[int, ...] = ()
    ingested_at: str = ""
    collection: str = DEFAULT_COLLECTION  # the group of documents it belongs to

    def page_at(self, offset: int) -> int | None:
        """The page of the character at `offset` in `text` (None for unpaged formats)."""
        if self.page is None:
            return None
        return self.page + sum(1 for b in self.page_breaks if b <= offset)


class Hit(BaseModel):
    """A retrieved chunk with its scores; `score` is cosine similarity to the query."""

    model_config = ConfigDict(frozen=True)

    chunk: Chunk
    score: float
    fused: float = 0.0
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Scope:
    """What a search may return: only these documents (ids) and only these collections.
    None allows all; an empty list allows nothing. Every retriever applies the same rule."""

    documents: frozenset[str] | None = None
    collections: frozenset[str] | None = None

    @classmethod
    def of(
        cls, documents: Iterable[str] | None = None, collections: Iterable[str] | None = None
    ) -> Scope:
        return cls(
            frozenset(documents) if documents is not None else None,
            frozenset(collections) if collections is not None else None,
        )

    @property
    def empty(self) -> bool:
        """Nothing can match."""
        return self.documents == frozenset() or self.collections == frozenset()

    def allows(self, chunk: Chunk) -> bool:
        return (self.documents is None or chunk.document_id in self.documents) and (
            self.collections is None or chunk.collection in self.collections
        )


EVERYTHING = Scope()


def indexed_text(chunk: Chunk) -> str:
    """What is embedded and what BM25 indexes: the title gives a passage its context; the
    stored and shown text stays exact."""
    return f"{chunk.title}\n{chunk.text}"
