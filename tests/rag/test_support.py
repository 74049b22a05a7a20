"""Support scores of answer sentences against the passages they cite (real embedding model)."""

from __future__ import annotations

import pytest

from index.database import Database
from index.embeddings import Encoder
from index.units import UnitVectors
from rag.answer.support import SupportScorer
from rag.answer.types import Citation

PASSAGE = (
    "Full-time staff receive 26 days of paid annual leave per year. "
    "Unused days can be carried over until the end of March."
)


def _citation(n: int, passage: str = PASSAGE) -> Citation:
    return Citation(
        n=n,
        chunk_id=f"c{n}",
        document_id="d1",
        name="leave.md",
        title="Leave",
        page=None,
        start=0,
        end=len(passage),
        passage=passage,
        highlights=[],
        score=0.9,
    )


@pytest.fixture
def scorer(database: Database, embeddings: Encoder) -> SupportScorer:
    """Passages without stored unit vectors: their sentences are embedded when scored."""
    return SupportScorer(UnitVectors(database, embeddings), threshold=0.45)


def test_each_sentence_is_scored_against_what_it_cites(scorer: SupportScorer) -> None:
    text = (
        "Full-time staff receive 26 days of paid annual leave per year [1]. "
        "Staff may carry unused leave days over until March [1]. "
        "The office has a rooftop swimming pool [2]. "
        "Ask your manager."
    )
    citations = [_citation(1), _citation(2, "The canteen serves lunch from noon.")]
    quote, paraphrase, invented, uncited = scorer.score(text, citations)
    assert (quote.cites, quote.score, quote.supported) == ([1], 1.0, True), "verbatim quote"
    assert text[quote.start : quote.end].startswith("Full-time staff")
    assert paraphrase.cites == [1] and paraphrase.supported and 0.6 < paraphrase.score < 1.0
    assert invented.cites == [2] and not invented.supported and invented.score < 0.45
    assert (uncited.cites, uncited.score, uncited.supported) == ([], 0.0, False)


def test_a_piece_split_off_a_cited_sentence_shares_its_citation(scorer: SupportScorer) -> None:
    passage = "The U.S. Army was founded in 1775 by the Continental Congress."
    text = "The U.S. Army was founded in 1775 by the Continental Congress [1]."
    pieces = scorer.score(text, [_citation(1, passage)])
    assert pieces and pieces[0].start == 0 and pieces[-1].end == len(text), "the whole answer"
    assert all(p.cites == [1] and p.score == 1.0 and p.supported for p in pieces)


def test_a_marker_without_a_citation_counts_as_citing_nothing(scorer: SupportScorer) -> None:
    (sentence,) = scorer.score("Leave is 26 days [3].", [])
    assert sentence.cites == [3] and sentence.score == 0.0 and not sentence.supported
