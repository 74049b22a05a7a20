"""The default generator: quotes the passage sentences that best answer the question, each
cited, and needs no language model; it abstains (`NOT_FOUND`) when the best evidence is weak."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import numpy as np

from index.sentences import content_tokens
from index.types import Hit
from index.units import UnitVectors
from rag.generators.base import NOT_FOUND
from rag.types import Message

__all__ = ["ExtractiveGenerator"]


_MARKUP = re.compile(r"^(?:[#>*\-+|]+\s*|\d+[.)]\s+)+|\*\*|__|`")


def _plain(sentence: str) -> str:
    """A passage sentence without Markdown list, heading and emphasis marks."""
    return _MARKUP.sub("", sentence).strip()


def _cite(sentence: str, number: int) -> str:
    """Put the marker before the closing punctuation: 'It is 25 days [1].'"""
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{number}]{sentence[-1]}"
    return f"{sentence} [{number}]"


class ExtractiveGenerator:
    """Scores every sentence of the passages by meaning (embedding cosine) and word overlap
    with the question, and answers with the best one or few, each cited. Sentence vectors
    come from ingestion (`index/units.py`); the question's vector is the one retrieval made."""

    name = "extractive"
    prompt_version = "extractive.v1"

    def __init__(
        self,
        units: UnitVectors,
        min_evidence: float,
        max_sentences: int,
        semantic_weight: float = 0.6,
    ) -> None:
        self.units = units
        self.min_evidence = min_evidence
        self.max_sentences = max_sentences
        self.semantic_weight = semantic_weight

    def score_sentences(self, question: str, hits: Sequence[Hit]) -> list[tuple[float, int, str]]:
        """(score, passage number, plain sentence) for every candidate sentence, best first."""
        candidates: list[tuple[int, str, np.ndarray]] = []
        passages = [(hit.chunk.id, hit.chunk.text) for hit in hits]
        for number, (units, vectors) in enumerate(self.units.units_of(passages), start=1):
            for index, (unit, vector) in enumerate(zip(units, vectors, strict=True)):
                sentence = _plain(" ".join(unit.reading.split()))
                cut_at_start = index == 0 and sentence[:1].islower()
                cut_at_end = index == len(units) - 1 and sentence[-1:] not in ".!?:)\"'"
                if len(sentence.split()) >= 4 and not cut_at_start and not cut_at_end:
                    candidates.append((number, sentence, vector))
        if not candidates:
            return []
        question_vector = np.asarray(self.units.encoder.embed_query(question))
        cosines = np.stack([vector for _, _, vector in candidates]) @ question_vector
        wanted = content_tokens(question)
        scored = []
        for (number, sentence, _), cosine in zip(candidates, cosines, strict=True):
            overlap = len(wanted & content_tokens(sentence)) / len(wanted) if wanted else 0.0
            score = self.semantic_weight * float(cosine) + (1 - self.semantic_weight) * overlap
            scored.append((score, number, sentence))
        return sorted(scored, key=lambda item: item[0], reverse=True)

    def compose(self, scored: Sequence[tuple[float, int, str]], min_evidence: float) -> str:
        """The answer for sentences scored by `score_sentences`: the best one or few, each
        cited, or NOT_FOUND when the best scores below `min_evidence`."""
        if not scored or scored[0][0] < min_evidence:
            return NOT_FOUND
        best = scored[0][0]
        chosen: list[tuple[float, int, str]] = []
        for score, number, sentence in scored:
            if len(chosen) == self.max_sentences or score < max(min_evidence, best - 0.05):
                break
            if all(sentence != other for _, _, other in chosen):
                chosen.append((score, number, sentence))
        return " ".join(_cite(sentence, number) for _, number, sentence in chosen)

    def stream(
        self, question: str, hits: Sequence[Hit], history: Sequence[Message] = ()
    ) -> Iterator[str]:
        yield self.compose(self.score_sentences(question, hits), self.min_evidence)
