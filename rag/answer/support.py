"""Support scores: how well each answer sentence is backed by the passages it cites.

A sentence's support against a passage is its best match over the passage's units
(sentences, label lines, table rows): `semantic_weight`·cosine + (1 - `semantic_weight`)·
coverage, where coverage is the share of the sentence's content words found in the unit. A
sentence quoted verbatim from a passage scores 1.0 there without embedding anything. A
sentence's support is its best score over the passages it cites; one that cites nothing
scores 0. An uncited piece right before a cited sentence (a split after "U.S.", a lead-in) is
scored with that sentence's citations and shares them when they support it. Sentences below
`threshold` are flagged as unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.sentences import content_tokens, sentence_spans
from index.units import UnitVectors
from rag.answer.citations import MARKER
from rag.answer.types import Citation, SentenceSupport

__all__ = ["Claim", "SupportScorer", "claims_of"]


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@dataclass(frozen=True)
class Claim:
    """One answer sentence: its span in the answer, its own markers' numbers and its text
    without them."""

    start: int
    end: int
    cites: list[int]
    text: str


def claims_of(text: str) -> list[Claim]:
    """The sentences of an answer, in order."""
    claims = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        cites = [int(n) for m in MARKER.finditer(sentence) for n in m.group(1).split(",")]
        claims.append(Claim(start, end, cites, MARKER.sub("", sentence).strip()))
    return claims


class SupportScorer:
    def __init__(self, units: UnitVectors, threshold: float, semantic_weight: float = 0.5) -> None:
        self.units = units
        self.threshold = threshold
        self.semantic_weight = semantic_weight

    def score(self, text: str, citations: Sequence[Citation]) -> list[SentenceSupport]:
        by_number = {c.n: c for c in citations}
        scored: list[SentenceSupport] = []
        following: list[int] = []  # the cites of the next sentence, for a piece before it
        for claim in reversed(claims_of(text)):
            cites = claim.cites or following
            cited = [by_number[n] for n in cites if n in by_number]
            score = self.support(claim.text, [(c.chunk_id, c.passage) for c in cited])
            supported = score >= self.threshold
            if not claim.cites and not supported:
                cites = []  # an uncited piece its neighbour's passages do not back cites nothing
            following = cites
            scored.insert(
                0,
                SentenceSupport(
                    start=claim.start,
                    end=claim.end,
                    cites=cites,
                    score=round(score, 3),
                    supported=supported,
                ),
            )
        return scored

    def support(self, claim: str, passages: Sequence[tuple[str, str]]) -> float:
        """The claim's best support over `passages` ((chunk id, text) pairs); 0 for none."""
        return max(self.scores(claim, passages), default=0.0)

    def scores(self, claim: str, passages: Sequence[tuple[str, str]]) -> list[float]:
        """The claim's support against each of `passages` ((chunk id, text) pairs)."""
        if not claim:
            return [0.0] * len(passages)
        squashed = _squash(claim)
        scores = [1.0 if squashed and squashed in _squash(text) else -1.0 for _, text in passages]
        unscored = [i for i, score in enumerate(scores) if score < 0]
        if not unscored:
            return scores
        wanted = content_tokens(claim)
        claim_vector = np.asarray(self.units.encoder.embed_query(claim))
        units = self.units.units_of([passages[i] for i in unscored])
        for i, (passage_units, vectors) in zip(unscored, units, strict=True):
            readings = [unit.reading for unit in passage_units]
            if not readings:
                scores[i] = 0.0
                continue
            coverage = np.array(
                [len(wanted & content_tokens(u)) / len(wanted) if wanted else 0.0 for u in readings]
            )
            combined = (
                self.semantic_weight * (vectors @ claim_vector)
                + (1 - self.semantic_weight) * coverage
            )
            scores[i] = float(np.clip(combined.max(), 0.0, 1.0))
        return scores
