"""What the read path returns: an `Answer` with checked citations, as typed data."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from index.types import Chunk, Hit

__all__ = ["Answer", "Chunk", "Citation", "Hit", "Message"]


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Citation(BaseModel):
    """Marker `[n]` of the answer: passage n of `Answer.retrieved` (1-based)."""

    n: int
    chunk_id: str
    source: str
    title: str
    page: int | None
    start: int
    end: int
    passage: str
    highlights: list[tuple[int, int]] = Field(
        description="Spans of the cited sentences inside `passage`, in answer order."
    )
    score: float


class Answer(BaseModel):
    text: str
    citations: list[Citation]
    retrieved: list[Hit]
    standalone_query: str
    prompt_version: str
    generator: str
    abstained: bool = Field(description="The answer says the documents do not contain it.")
    supported: bool = Field(description="At least one valid citation backs the answer.")
    dropped_markers: list[int] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
