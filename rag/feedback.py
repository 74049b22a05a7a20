"""Feedback on answers, kept as JSON lines (`rag/evaluation/replay.py` replays them).

A person rates an answer 👍 (`up`), 👎 (`down`) or `wrong_source`, optionally with a correction:
the right answer or the right source in their words. `FeedbackStore` appends one `Feedback`
per line to `settings.feedback_path`; reading skips (and logs) lines it cannot parse.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from rag.types import MAX_ANSWER_CHARS, MAX_QUESTION_CHARS, Answer

__all__ = ["Feedback", "FeedbackStore", "Rating", "unique_in_order"]

log = logging.getLogger(__name__)

Rating = Literal["up", "down", "wrong_source"]
MAX_CORRECTION_CHARS = 1000


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    """Append-only JSON lines; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def add(self, feedback: Feedback) -> None:
        line = feedback.model_dump_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line)
                file.flush()

    def all(self) -> list[Feedback]:
        """Every stored feedback in the order given; malformed lines are logged and skipped."""
        if not self.path.exists():
            return []
        items = []
        with self.path.open(encoding="utf-8", errors="replace") as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    items.append(Feedback.model_validate_json(line))
                except ValidationError as exc:
                    log.warning(
                        "%s line %d is not valid feedback, skipped (%d errors)",
                        self.path,
                        number,
                        exc.error_count(),
                    )
        return items
