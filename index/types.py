"""Value types that cross the boundary between the write path and the read path."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["DEFAULT_COLLECTION", "Chunk", "Hit", "indexed_text"]

DEFAULT_COLLECTION = "default"


class Chunk(BaseModel):
    """A passage of one document, exactly as stored and shown to the user."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    source: str
    title: str
    start: int
    end: int
    page: int | None = None
    ingested_at: str = ""
    collection: str = DEFAULT_COLLECTION  # the group of documents it belongs to


class Hit(BaseModel):
    """A retrieved chunk with its scores; `score` is cosine similarity to the query."""

    model_config = ConfigDict(frozen=True)

    chunk: Chunk
    score: float
    fused: float = 0.0
    dense_rank: int | None = None
    lexical_rank: int | None = None


def indexed_text(chunk: Chunk) -> str:
    """What is embedded and what BM25 indexes: the title gives a passage its context; the
    stored and shown text stays exact."""
    return f"{chunk.title}\n{chunk.text}"
