"""The default generator: quotes the passage sentences that best answer the question, each
cited, and needs no language model; it abstains (`NOT_FOUND`) when the best evidence is weak."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from index.types import Hit
from rag.generators.base import NOT_FOUND
from rag.sentences import content_tokens, passage_units

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
    with the question, and answers with the best one or few, each cited."""

    name = "extractive"
    prompt_version = "extractive.v1"

    def __init__(
        self,
        embeddings: Embeddings,
        min_evidence: float,
        max_sentences: int,
        semantic_weight: float = 0.6,
    ) -> None:
        self.embeddings = embeddings
        self.min_evidence = min_evidence
        self.max_sentences = max_sentences
        self.semantic_weight = semantic_weight

    def score_sentences(self, question: str, hits: Sequence[Hit]) -> list[tuple[float, int, str]]:
        """(score, passage number, plain sentence) for every candidate sentence, best first."""
        candidates = []
        for number, hit in enumerate(hits, start=1):
            units = passage_units(hit.chunk.text)
            for index, (_, _, reading) in enumerate(units):
                sentence = _plain(" ".join(reading.split()))
                cut_at_start = index == 0 and sentence[:1].islower()
                cut_at_end = index == len(units) - 1 and sentence[-1:] not in ".!?:)\"'"
                if len(sentence.split()) >= 4 and not cut_at_start and not cut_at_end:
                    candidates.append((number, sentence))
        if not candidates:
            return []
        question_vector = np.asarray(self.embeddings.embed_query(question))
        vectors = np.asarray(self.embeddings.embed_documents([s for _, s in candidates]))
        cosines = vectors @ question_vector
        wanted = content_tokens(question)
        scored = []
        for (number, sentence), cosine in zip(candidates, cosines, strict=True):
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
            if len(chosen) == self.max_sentences or score < max(min_evidence, best - 0.08):
                break
            if all(sentence != other for _, _, other in chosen):
                chosen.append((score, number, sentence))
        return " ".join(_cite(sentence, number) for _, number, sentence in chosen)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str]:
        yield self.compose(self.score_sentences(question, hits), self.min_evidence)
