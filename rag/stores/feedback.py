"""Feedback on answers, kept in the shared database (`rag/evaluation/replay.py` replays them).

A person rates an answer 👍 (`up`), 👎 (`down`) or `wrong_source`, optionally with a correction:
the right answer or the right source in their words.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import JSON, Boolean, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from index.database import Base, Database
from rag.answer.types import MAX_ANSWER_CHARS, MAX_QUESTION_CHARS, Answer

__all__ = ["Feedback", "FeedbackRow", "FeedbackStore", "Rating", "unique_in_order"]


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[str] = mapped_column(String(32))
    rating: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    standalone_query: Mapped[str] = mapped_column(Text)
    answer_text: Mapped[str] = mapped_column(Text)
    cited_chunk_ids: Mapped[list[str]] = mapped_column(JSON)
    cited_documents: Mapped[list[str]] = mapped_column(JSON)
    abstained: Mapped[bool] = mapped_column(Boolean, default=False)
    correction: Mapped[str | None] = mapped_column(Text, nullable=True)
    generator: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[str] = mapped_column(String(64))


Rating = Literal["up", "down", "wrong_source"]
MAX_CORRECTION_CHARS = 1000


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")  # 32 chars: fits the column


def unique_in_order(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class Feedback(BaseModel):
    """One rating of one answer, with what is needed to ask the question again."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    created_at: str = Field(default_factory=_now, description="ISO 8601, UTC.")
    rating: Rating
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    standalone_query: str = Field(max_length=MAX_QUESTION_CHARS)
    answer_text: str = Field(max_length=MAX_ANSWER_CHARS)
    cited_chunk_ids: list[str]
    cited_documents: list[str] = Field(description="Display names, never server paths.")
    abstained: bool = Field(False, description="The rated answer said it did not know.")
    correction: str | None = Field(
        None,
        max_length=MAX_CORRECTION_CHARS,
        description="What the person says the right answer or the right source is.",
    )
    generator: str
    prompt_version: str

    @model_validator(mode="before")
    @classmethod
    def _named_documents(cls, values: object) -> object:
        """Ratings stored before documents had names cited absolute paths: keep file names."""
        if isinstance(values, dict) and "cited_sources" in values:
            sources = values.pop("cited_sources")
            values.setdefault("cited_documents", [str(s).rsplit("/", 1)[-1] for s in sources])
        return values

    @classmethod
    def from_answer(
        cls, question: str, answer: Answer, rating: Rating, correction: str | None = None
    ) -> Feedback:
        return cls(
            rating=rating,
            question=question,
            standalone_query=answer.standalone_query,
            answer_text=answer.text,
            cited_chunk_ids=unique_in_order(c.chunk_id for c in answer.citations),
            cited_documents=unique_in_order(c.name for c in answer.citations),
            abstained=answer.abstained,
            correction=(correction or "").strip()[:MAX_CORRECTION_CHARS] or None,
            generator=answer.generator,
            prompt_version=answer.prompt_version,
        )


class FeedbackStore:
    """Ratings in the shared database, in the order they were given (to the microsecond)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, feedback: Feedback) -> None:
        self.add_all([feedback])

    def add_all(self, items: Iterable[Feedback]) -> None:
        with self.database.write() as session:
            session.add_all(FeedbackRow(**item.model_dump()) for item in items)

    def all(self) -> list[Feedback]:
        query = select(FeedbackRow).order_by(FeedbackRow.created_at, FeedbackRow.id)
        return self._read(query)

    def recent(self, ratings: Sequence[str], limit: int) -> list[Feedback]:
        """The latest `limit` ratings of the kinds `ratings`, newest first."""
        query = (
            select(FeedbackRow)
            .where(FeedbackRow.rating.in_(ratings))
            .order_by(FeedbackRow.created_at.desc(), FeedbackRow.id.desc())
            .limit(limit)
        )
        return self._read(query)

    def _read(self, query: Select[FeedbackRow]) -> list[Feedback]:
        with self.database.read() as session:
            rows = session.scalars(query).all()
            return [Feedback.model_validate(row, from_attributes=True) for row in rows]
