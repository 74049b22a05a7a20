"""A language-model generator behind the extractive path's refusal decision: when the reader's
evidence (`rag/reader/evidence.py`) is weak, the answer is NOT_FOUND and the model is never
called, so both paths refuse the same questions. When it answers, the model is offered the
reader's best span as the likely answer (for a prompt that declares `likely`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from index.types import Hit
from rag.answer.generators.base import NOT_FOUND, Likely, PromptedGenerator
from rag.answer.types import Message
from rag.reader.evidence import ReaderEvidence

__all__ = ["EvidenceGate"]


class EvidenceGate:
    def __init__(self, generator: PromptedGenerator, evidence: ReaderEvidence) -> None:
        self.generator = generator
        self.evidence = evidence
        self.name = generator.name
        self.prompt_version = generator.prompt_version

    def stream(
        self, question: str, hits: Sequence[Hit], history: Sequence[Message] = ()
    ) -> Iterator[str]:
        best = self.evidence.best(self.evidence.assess(question, hits))
        if best is None:
            yield NOT_FOUND
            return
        passage = hits[best.number - 1].chunk.text
        likely = Likely(best.number, passage[best.reading.start : best.reading.end])
        yield from self.generator.stream(question, hits, history, likely)
