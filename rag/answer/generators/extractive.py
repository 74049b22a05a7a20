"""The default generator: quotes the passage sentence holding the reader's best answer span,
cited, and needs no language model. It says NOT_FOUND when the evidence (`rag/reader/evidence.py`:
the reader's no-answer score with retrieval evidence) is weak."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from index.types import Hit
from rag.answer.generators.base import NOT_FOUND
from rag.answer.types import Message
from rag.reader.evidence import Assessment, ReaderEvidence, quoted, sentences_of

__all__ = ["ExtractiveGenerator", "cite"]


def cite(sentence: str, number: int) -> str:
    """Put the marker before the closing punctuation: 'It is 25 days [1].'"""
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{number}]{sentence[-1]}"
    return f"{sentence} [{number}]"


class ExtractiveGenerator:
    name = "extractive"
    prompt_version = "reader.v1"

    def __init__(self, evidence: ReaderEvidence, max_sentences: int) -> None:
        self.evidence = evidence
        self.max_sentences = max_sentences

    def compose(self, assessment: Assessment, hits: Sequence[Hit]) -> str:
        """The sentence(s) around the best span, cited; NOT_FOUND when the evidence is weak."""
        best = self.evidence.best(assessment)
        if best is None:
            return NOT_FOUND
        passage = hits[best.number - 1].chunk.text
        sentences = quoted(passage, best.reading.start, best.reading.end)[: self.max_sentences]
        return " ".join(cite(s, best.number) for s in sentences)

    def stream(
        self, question: str, hits: Sequence[Hit], history: Sequence[Message] = ()
    ) -> Iterator[str]:
        """A follow-up is answered from a sentence the last answer did not quote ("And after
        5 years?" is not the 26 days again) when one holds the evidence; else as asked."""
        last = next((m.content for m in reversed(history) if m.role == "assistant"), "")
        if last:
            answer = self.compose(self.evidence.assess(question, hits, sentences_of(last)), hits)
            if answer != NOT_FOUND:
                yield answer
                return
        yield self.compose(self.evidence.assess(question, hits), hits)
