"""Support scores: how well each answer sentence is backed by the passages it cites.

A sentence's support is its best match over the units (sentences, label lines, table rows)
of the passages it cites: `semantic_weight`·cosine + (1 - `semantic_weight`)·coverage, where
coverage is the share of the sentence's content words found in the unit. A sentence quoted
verbatim from a cited passage scores 1.0 without embedding anything. A sentence that cites
nothing scores 0; an uncited piece right before a cited sentence is scored with that sentence's
citations. Sentences below `threshold` are flagged as unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from index.sentences import content_tokens, sentence_spans
from index.units import UnitVectors
from rag.citations import MARKER
from rag.types import Citation, SentenceSupport

__all__ = ["SupportScorer"]


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


class SupportScorer:
    def __init__(self, units: UnitVectors, threshold: float, semantic_weight: float = 0.5) -> None:
        self.units = units
        self.threshold = threshold
        self.semantic_weight = semantic_weight

    def score(self, text: str, citations: Sequence[Citation]) -> list[SentenceSupport]:
        by_number = {c.n: c for c in citations}
        claims: list[tuple[int, int, list[int], str]] = []
        for start, end in reversed(sentence_spans(text)):
            sentence = text[start:end]
            cites = [int(n) for m in MARKER.finditer(sentence) for n in m.group(1).split(",")]
            if not cites and claims and claims[0][2]:
                # A piece without markers before a cited sentence is part of that claim
                # (a split after "U.S." or a lead-in): it inherits the markers.
                cites = claims[0][2]
            claims.insert(0, (start, end, cites, MARKER.sub("", sentence).strip()))
        scores = [
            self._support(claim, [by_number[n] for n in cites if n in by_number])
            for _, _, cites, claim in claims
        ]
        return [
            SentenceSupport(
                start=start,
                end=end,
                cites=cites,
                score=round(score, 3),
                supported=score >= self.threshold,
            )
            for (start, end, cites, _), score in zip(claims, scores, strict=True)
        ]

    def _support(self, claim: str, cited: Sequence[Citation]) -> float:
        if not cited or not claim:
            return 0.0
        squashed = _squash(claim)
        if squashed and any(squashed in _squash(c.passage) for c in cited):
            return 1.0
        passages = self.units.units_of([(c.chunk_id, c.passage) for c in cited])
        readings = [unit.reading for units, _ in passages for unit in units]
        if not readings:
            return 0.0
        wanted = content_tokens(claim)
        coverage = np.array(
            [len(wanted & content_tokens(u)) / len(wanted) if wanted else 0.0 for u in readings]
        )
        claim_vector = np.asarray(self.units.encoder.embed_query(claim))
        cosines = np.concatenate([vectors for _, vectors in passages]) @ claim_vector
        combined = self.semantic_weight * cosines + (1 - self.semantic_weight) * coverage
        return float(np.clip(combined.max(), 0.0, 1.0))
