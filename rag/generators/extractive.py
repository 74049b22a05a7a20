"""The default generator: quotes the passage sentences that best answer the question, each
cited, and needs no language model; it abstains (`NOT_FOUND`) when the best evidence is weak.

Each candidate sentence (`rag/generators/features.py`: never a heading, a title, a question or
a restatement of the question) gets the probability, from a learned logistic model, that it
answers the question. Abstention is decided on the evidence: the best sentence's probability
times coverage^`coverage_weight`, where coverage is the share of the question's content words
that the retrieved passages contain at all (a question about something they never mention is
not answered from them), times `type_mismatch` when the question asks for a number or a date
and the answering sentences hold none. `app.py eval --calibrate`
chooses the three for a corpus (`DOCENT_MIN_EVIDENCE`, `DOCENT_COVERAGE_WEIGHT`,
`DOCENT_TYPE_MISMATCH`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from index.sentences import content_tokens
from index.types import Hit
from index.units import UnitVectors
from rag.generators.answerer_model import AnswererModel
from rag.generators.base import NOT_FOUND
from rag.generators.features import (
    SENTENCE_FEATURES,
    Passage,
    SentenceCandidate,
    retrieved_terms,
    sentence_candidates,
)
from rag.generators.questions import AnswerType, Question, analyse
from rag.types import Message

__all__ = ["Assessment", "ExtractiveGenerator", "evidence"]

_OVERLAP = SENTENCE_FEATURES.index("overlap")
_RELIABLE_TYPES = (AnswerType.NUMBER, AnswerType.DATE)
_TYPE_MATCH = SENTENCE_FEATURES.index("type_match")
_CLOSE_TO_BEST = 0.5  # a further sentence is quoted when it scores at least this share of the best


def _cite(sentence: str, number: int) -> str:
    """Put the marker before the closing punctuation: 'It is 25 days [1].'"""
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{number}]{sentence[-1]}"
    return f"{sentence} [{number}]"


def _select(scored: Sequence[SentenceCandidate], most: int) -> list[SentenceCandidate]:
    """The sentences to answer with, in passage order: those a lead-in restating the question
    announces ('There are several reasons why …'), else the best sentence and the ones right
    after it that score close (never a scatter of near-duplicates from other passages)."""
    if not scored:
        return []
    best = scored[0]
    announced = [c for c in scored if c.announced_by >= max(float(best.features[_OVERLAP]), 0.5)]
    if announced:
        first = min(announced, key=lambda c: (-c.announced_by, c.number, c.index))
        run = [c for c in announced if c.number == first.number and c.index >= first.index]
        return sorted(run, key=lambda c: c.index)[:most]
    chosen = [best]
    for candidate in scored[1:]:
        if len(chosen) == most or candidate.score < _CLOSE_TO_BEST * best.score:
            break
        last = max(c.index for c in chosen)
        if candidate.number == best.number and candidate.index == last + 1:
            chosen.append(candidate)
    return sorted(chosen, key=lambda c: c.index)


def evidence(
    best: float, coverage: float, type_missing: bool, coverage_weight: float, type_mismatch: float
) -> float:
    """What abstention is decided on: the answering sentences' best probability, times
    coverage^`coverage_weight`, times `type_mismatch` when a number or date asked for is
    missing. -inf (no sentence qualified) stays -inf: it always abstains."""
    if not math.isfinite(best):
        return best
    penalty = type_mismatch if type_missing else 1.0
    return float(best * coverage**coverage_weight * penalty)


@dataclass(frozen=True)
class Assessment:
    """Scored candidate sentences (best first), the ones chosen to answer with, and the
    question's coverage by the passages."""

    scored: list[SentenceCandidate]
    chosen: list[SentenceCandidate]
    coverage: float
    kind: AnswerType

    @property
    def best(self) -> float:
        """The chosen sentences' best probability of answering (-inf when none qualified)."""
        return max((c.score for c in self.chosen), default=-math.inf)

    @property
    def type_missing(self) -> bool:
        """The question asks for a number or a date (the types told reliably) and none of the
        chosen sentences holds one ("how many employees": none counts employees)."""
        return self.kind in _RELIABLE_TYPES and not any(
            c.features[_TYPE_MATCH] for c in self.chosen
        )

    def evidence(self, coverage_weight: float, type_mismatch: float) -> float:
        return evidence(self.best, self.coverage, self.type_missing, coverage_weight, type_mismatch)


class ExtractiveGenerator:
    """Scores every candidate sentence of the passages and answers with the best one or few,
    each cited. Sentence vectors come from ingestion (`index/units.py`); the question's vector
    is the one retrieval made (cached)."""

    name = "extractive"
    prompt_version = "extractive.v2"

    def __init__(
        self,
        units: UnitVectors,
        model: AnswererModel,
        min_evidence: float,
        coverage_weight: float,
        type_mismatch: float,
        max_sentences: int,
    ) -> None:
        self.units = units
        self.model = model
        self.min_evidence = min_evidence
        self.coverage_weight = coverage_weight
        self.type_mismatch = type_mismatch
        self.max_sentences = max_sentences

    def _passages(self, hits: Sequence[Hit]) -> list[Passage]:
        units = self.units.units_of([(hit.chunk.id, hit.chunk.text) for hit in hits])
        return [
            Passage(
                hit.chunk.title, hit.chunk.text, u, v, hit.score, content_tokens(hit.chunk.text)
            )
            for hit, (u, v) in zip(hits, units, strict=True)
        ]

    def _candidates(self, question: Question, passages: list[Passage]) -> list[SentenceCandidate]:
        vector = np.asarray(self.units.encoder.embed_query(question.text))
        return sentence_candidates(question, vector, passages)

    def candidates(self, question: str, hits: Sequence[Hit]) -> list[SentenceCandidate]:
        """Every candidate sentence of the passages, with its features, unscored."""
        return self._candidates(analyse(question), self._passages(hits))

    def assess(self, question: str, hits: Sequence[Hit]) -> Assessment:
        """Every candidate sentence with its probability of answering, and the coverage."""
        analysed, passages = analyse(question), self._passages(hits)
        candidates = self._candidates(analysed, passages)
        if candidates:
            scores = self.model.sentence.probability(np.stack([c.features for c in candidates]))
            for candidate, score in zip(candidates, scores, strict=True):
                candidate.score = float(score)
        wanted = analysed.terms
        found = retrieved_terms(passages)
        coverage = len(wanted & found) / len(wanted) if wanted else 1.0
        scored = sorted(candidates, key=lambda c: c.score, reverse=True)
        return Assessment(scored, _select(scored, self.max_sentences), coverage, analysed.kind)

    def compose(self, assessment: Assessment) -> str:
        """The chosen sentences, each cited; NOT_FOUND when the evidence is below
        `min_evidence`."""
        evidence = assessment.evidence(self.coverage_weight, self.type_mismatch)
        if not assessment.chosen or evidence < self.min_evidence:
            return NOT_FOUND
        return " ".join(_cite(c.sentence, c.number) for c in assessment.chosen)

    def stream(
        self, question: str, hits: Sequence[Hit], history: Sequence[Message] = ()
    ) -> Iterator[str]:
        yield self.compose(self.assess(question, hits))
