"""Feedback on answers, kept as JSON lines and replayed as regression cases.

A person rates an answer 👍 (`up`), 👎 (`down`) or `wrong_source`, optionally with a correction:
the right answer or the right source in their words. `FeedbackStore` appends one `Feedback`
per line to `settings.feedback_path`; reading skips (and logs) lines it cannot parse.

`replay` asks each stored question again (its standalone query, so follow-ups need no history)
and checks the new answer against the rating:

- `up` passes when the new answer still cites at least one chunk, or at least one source, that
  the rated answer cited, and does not abstain (unless the rated answer abstained: then the
  new answer must abstain too).
- `down` without a correction passes when the answer changed: different text or different
  cited chunks.
- `wrong_source` without a correction passes when the set of cited sources changed.
- `down` or `wrong_source` with a correction passes when the correction (case-insensitive)
  appears in the new answer text, in the file name of a cited source, or in a cited passage.
- A question the assistant refuses (`DocentError`, e.g. `InputError` for an empty question)
  fails, with the error as the reason.
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

from index.errors import DocentError
from rag.assistant import Assistant
from rag.types import Answer

__all__ = [
    "AnswerSummary",
    "Feedback",
    "FeedbackStore",
    "Rating",
    "ReplayResult",
    "format_replay",
    "replay",
]

log = logging.getLogger(__name__)

Rating = Literal["up", "down", "wrong_source"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class Feedback(BaseModel):
    """One rating of one answer, with what is needed to ask the question again."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    created_at: str = Field(default_factory=_now, description="ISO 8601, UTC.")
    rating: Rating
    question: str
    standalone_query: str
    answer_text: str
    cited_chunk_ids: list[str]
    cited_sources: list[str]
    abstained: bool = Field(False, description="The rated answer said it did not know.")
    correction: str | None = Field(
        None, description="What the person says the right answer or the right source is."
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
            cited_chunk_ids=_unique(c.chunk_id for c in answer.citations),
            cited_sources=_unique(c.source for c in answer.citations),
            abstained=answer.abstained,
            correction=(correction or "").strip() or None,
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


class AnswerSummary(BaseModel):
    text: str
    cited_chunk_ids: list[str]
    cited_sources: list[str]
    cited_passages: list[str]
    abstained: bool

    @classmethod
    def of(cls, answer: Answer) -> AnswerSummary:
        return cls(
            text=answer.text,
            cited_chunk_ids=_unique(c.chunk_id for c in answer.citations),
            cited_sources=_unique(c.source for c in answer.citations),
            cited_passages=[c.passage for c in answer.citations],
            abstained=answer.abstained,
        )


class ReplayResult(BaseModel):
    feedback: Feedback
    answer: AnswerSummary | None = Field(description="None when the assistant refused.")
    passed: bool
    reason: str


def _judge(feedback: Feedback, new: AnswerSummary) -> tuple[bool, str]:
    if feedback.correction and feedback.rating != "up":
        wanted = feedback.correction.casefold()
        if wanted in new.text.casefold():
            return True, "correction appears in the answer"
        if any(wanted in Path(s).name.casefold() for s in new.cited_sources):
            return True, "correction names a cited source"
        if any(wanted in p.casefold() for p in new.cited_passages):
            return True, "correction appears in a cited passage"
        return False, f"correction {feedback.correction!r} not in the answer or its sources"
    if feedback.rating == "up":
        if feedback.abstained:
            return (True, "still abstains") if new.abstained else (False, "no longer abstains")
        if new.abstained:
            return False, "now abstains"
        if set(feedback.cited_chunk_ids) & set(new.cited_chunk_ids):
            return True, "cites a chunk it cited before"
        if set(feedback.cited_sources) & set(new.cited_sources):
            return True, "cites a source it cited before"
        return False, "cites none of the chunks or sources it cited before"
    if feedback.rating == "down":
        if new.text != feedback.answer_text or new.cited_chunk_ids != feedback.cited_chunk_ids:
            return True, "answer changed"
        return False, "answer unchanged"
    if set(new.cited_sources) != set(feedback.cited_sources):
        return True, "cited sources changed"
    return False, "cites the same sources"


def replay(items: Iterable[Feedback], assistant: Assistant) -> list[ReplayResult]:
    """Ask every stored question again and judge the new answer by the rules above."""
    results = []
    for feedback in items:
        try:
            answer = assistant.answer(feedback.standalone_query or feedback.question)
        except DocentError as exc:
            results.append(
                ReplayResult(feedback=feedback, answer=None, passed=False, reason=f"error: {exc}")
            )
            continue
        summary = AnswerSummary.of(answer)
        passed, reason = _judge(feedback, summary)
        results.append(
            ReplayResult(feedback=feedback, answer=summary, passed=passed, reason=reason)
        )
    return results


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_replay(results: list[ReplayResult], question_width: int = 48) -> str:
    """A text table (question, rating, result, reason) and a line 'N/M stored cases pass'."""
    rows = [("question", "rating", "result", "reason")]
    rows += [
        (
            _clip(r.feedback.question, question_width),
            r.feedback.rating,
            "pass" if r.passed else "FAIL",
            r.reason,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)), row[3]])
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in [*widths, len(rows[0][3])]))
    passed = sum(r.passed for r in results)
    lines.append(f"{passed}/{len(results)} stored cases pass")
    return "\n".join(line.rstrip() for line in lines)
