"""Citations checked against the passages, whoever wrote the answer (real embedding model)."""

from __future__ import annotations

import pytest

from index.database import Database
from index.embeddings import Encoder
from index.types import Chunk, Hit
from index.units import UnitVectors
from rag.answer.grounding import ground, with_markers
from rag.answer.support import SupportScorer

LEAVE = (
    "Full-time staff receive 26 days of paid annual leave per year. "
    "Unused days can be carried over until the end of March."
)
CANTEEN = "The canteen serves lunch from noon until two o'clock."
TRAVEL = "Flights are booked through Meridian Travel, the company's travel agency."


def _hits(*texts: str) -> list[Hit]:
    return [
        Hit(
            chunk=Chunk(
                id=f"c{n}",
                text=text,
                document_id=f"d{n}",
                name=f"doc{n}.md",
                title=f"Doc {n}",
                start=0,
                end=len(text),
            ),
            score=0.5,
        )
        for n, text in enumerate(texts, start=1)
    ]


@pytest.fixture
def support(database: Database, embeddings: Encoder) -> SupportScorer:
    return SupportScorer(UnitVectors(database, embeddings), threshold=0.45)


HITS = _hits(LEAVE, CANTEEN, TRAVEL)


def test_a_quoted_sentence_passes_unchanged(support: SupportScorer) -> None:
    text = "Full-time staff receive 26 days of paid annual leave per year [1]."
    grounded = ground(text, HITS, support)
    assert (grounded.text, grounded.moved, grounded.unsupported) == (text, 0, 0)


def test_a_citation_to_the_wrong_passage_moves_to_the_right_one(support: SupportScorer) -> None:
    grounded = ground(
        "Lunch is served from noon [3]. Flights go through Meridian [2].", HITS, support
    )
    assert grounded.text == "Lunch is served from noon [2]. Flights go through Meridian [3]."
    assert (grounded.moved, grounded.unsupported) == (2, 0)


def test_a_citation_that_does_not_hold_beside_one_that_does_is_removed(
    support: SupportScorer,
) -> None:
    grounded = ground("Staff get 26 days of paid annual leave [2][1].", HITS, support)
    assert grounded.text == "Staff get 26 days of paid annual leave [1]."


def test_an_uncited_supported_sentence_is_cited(support: SupportScorer) -> None:
    grounded = ground("Unused days can be carried over until March.", HITS, support)
    assert grounded.text == "Unused days can be carried over until March [1]."


def test_a_sentence_no_passage_supports_loses_its_citation_or_is_dropped(
    support: SupportScorer,
) -> None:
    text = "Staff get 26 days of paid annual leave [1]. The office has a rooftop pool [2]."
    marked = ground(text, HITS, support)
    assert (
        marked.text == "Staff get 26 days of paid annual leave [1]. The office has a rooftop pool."
    )
    assert (marked.unsupported, marked.dropped) == (1, 0)
    dropped = ground(text, HITS, support, drop=True)
    assert dropped.text == "Staff get 26 days of paid annual leave [1]."
    assert (dropped.unsupported, dropped.dropped) == (1, 1)
    first = ground(
        "The office has a rooftop pool [2]. Lunch is from noon [2].", HITS, support, True
    )
    assert first.text == "Lunch is from noon [2]."


def test_a_piece_split_off_a_cited_sentence_keeps_sharing_its_citation(
    support: SupportScorer,
) -> None:
    hits = _hits(CANTEEN, "The U.S. Army was founded in 1775 by the Continental Congress.")
    text = "The U.S. Army was founded in 1775 by the Continental Congress [1]."
    grounded = ground(text, hits, support)
    assert grounded.text == "The U.S. Army was founded in 1775 by the Continental Congress [2]."
    assert grounded.moved >= 1 and grounded.unsupported == 0


def test_markers_go_before_the_closing_punctuation() -> None:
    assert with_markers("It is 26 days [4] .", [1]) == "It is 26 days [1]."
    assert with_markers("It is 26 days [4]", [1, 2]) == "It is 26 days [1][2]"
    assert with_markers("It is 26 days [4].", []) == "It is 26 days."


def test_a_marker_without_a_claim_cites_nothing(support: SupportScorer) -> None:
    assert ground("[1]", HITS, support).text == ""
    assert ground("[PWNED] [1]. Lunch is from noon [2].", HITS, support).text.endswith(
        "Lunch is from noon [2]."
    )
