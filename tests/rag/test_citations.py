"""Citation checking: markers bounds-checked against the retrieved passages."""

from __future__ import annotations

import logging

import pytest

from index.types import Chunk, Hit
from rag.answer.citations import check_citations


def _hit(text: str, n: int) -> Hit:
    chunk = Chunk(
        id=f"c{n}",
        text=text,
        source=f"/docs/{n}.md",
        document_id=f"d{n}",
        name=f"{n}.md",
        title=f"Doc {n}",
        start=0,
        end=len(text),
    )
    return Hit(chunk=chunk, score=0.5)


HITS = [
    _hit("Leave is 26 days a year. Carry-over is capped at 5 days.", 1),
    _hit("The VPN is called NorthGate. It needs Okta Verify.", 2),
]


def test_valid_markers_become_citations_with_the_supported_sentence() -> None:
    checked = check_citations("You can carry over 5 days [1]. Use NorthGate [2].", HITS)
    assert checked.text == "You can carry over 5 days [1]. Use NorthGate [2]."
    assert [c.n for c in checked.citations] == [1, 2] and not checked.dropped
    first = checked.citations[0]
    assert [first.passage[s:e] for s, e in first.highlights] == ["Carry-over is capped at 5 days."]


def test_invented_markers_are_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        checked = check_citations("Leave is 26 days [1][7]. The moon is cheese [3, 0].", HITS)
    assert checked.text == "Leave is 26 days [1]. The moon is cheese."
    assert checked.dropped == [7, 3, 0]
    assert [c.n for c in checked.citations] == [1]
    assert "dropped citation markers" in caplog.text


def test_no_valid_marker_means_no_citation() -> None:
    checked = check_citations("Trust me [9].", HITS)
    assert checked.citations == [] and checked.text == "Trust me."
