"""Replaying stored feedback as regression cases (`app.py eval --feedback`).

`replay` asks each stored question again (its standalone query, so follow-ups need no history)
and checks the new answer against the rating:

- `up` passes when the new answer still cites at least one chunk, or at least one document, that
  the rated answer cited, and does not abstain (unless the rated answer abstained: then the
  new answer must abstain too).
- `down` without a correction passes when the answer changed: different text or different
  cited chunks.
- `wrong_source` without a correction passes when the set of cited documents changed.
- `down` or `wrong_source` with a correction passes when the correction (case-insensitive)
  appears in the new answer text, in the file name of a cited document, or in a cited passage.
- A question the assistant refuses (`DocentError`, e.g. `InputError` for an empty question)
  fails, with the error as the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from rag.answer.pipeline import Assistant
from rag.answer.types import Answer
from rag.errors import DocentError
from rag.stores.feedback import Feedback, unique_in_order

__all__ = ["AnswerSummary", "ReplayResult", "format_replay", "replay"]


class AnswerSummary(BaseModel):
    text: str
    cited_chunk_ids: list[str]
    cited_documents: list[str]
    cited_passages: list[str]
    abstained: bool

    @classmethod
    def of(cls, answer: Answer) -> AnswerSummary:
        return cls(
            text=answer.text,
            cited_chunk_ids=unique_in_order(c.chunk_id for c in answer.citations),
            cited_documents=unique_in_order(c.name for c in answer.citations),
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
        if any(wanted in Path(name).name.casefold() for name in new.cited_documents):
            return True, "correction names a cited document"
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
        if set(feedback.cited_documents) & set(new.cited_documents):
            return True, "cites a document it cited before"
        return False, "cites none of the chunks or documents it cited before"
    if feedback.rating == "down":
        if new.text != feedback.answer_text or new.cited_chunk_ids != feedback.cited_chunk_ids:
            return True, "answer changed"
        return False, "answer unchanged"
    if set(new.cited_documents) != set(feedback.cited_documents):
        return True, "cited documents changed"
    return False, "cites the same documents"


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
