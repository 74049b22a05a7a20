"""A language-model generator behind the extractive path's refusal decision: when the reader's
evidence (`rag/reader/evidence.py`) is weak, the answer is NOT_FOUND and the model is never
called, so both paths refuse the same questions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from index.types import Hit
from rag.generators.base import NOT_FOUND, Generator
from rag.reader.evidence import ReaderEvidence
from rag.types import Message

__all__ = ["EvidenceGate"]


class EvidenceGate:
    def __init__(self, generator: Generator, evidence: ReaderEvidence) -> None:
        self.generator = generator
        self.evidence = evidence
        self.name = generator.name
        self.prompt_version = generator.prompt_version

    def stream(
        self, question: str, hits: Sequence[Hit], history: Sequence[Message] = ()
    ) -> Iterator[str]:
        if not self.evidence.answers(question, hits):
            yield NOT_FOUND
            return
        yield from self.generator.stream(question, hits, history)
