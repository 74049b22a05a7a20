"""The shipped reader (models/reader-v1) at run time: spans, "no answer", windows of a long
passage, spans limited to cited sentences, and the refusal decision built on it."""

from __future__ import annotations

import numpy as np
import pytest

from rag.reader.evidence import Finding, quoted
from rag.reader.model import MAX_ANSWER_TOKENS, Reader, Reading, best_span
from rag.runtime import load_reader
from tests.helpers import make_settings

HANDBOOK = (
    "Full-time employees receive 25 days of annual leave per calendar year. Leave requests "
    "are submitted through the HR portal at least two weeks in advance."
)


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    return load_reader(make_settings(tmp_path_factory.mktemp("reader")))


def test_best_span_stays_inside_the_passage_and_short() -> None:
    start = np.array([9.0, 0.0, 5.0, 0.0, 0.0, 0.0])
    end = np.array([9.0, 0.0, 0.0, 1.0, 4.0, 0.0])
    context = np.array([False, True, True, True, True, False])
    assert best_span(start, end, context) == (2, 4, 9.0)  # [CLS]'s 9s are not the passage's
    assert best_span(start, end, np.zeros(6, dtype=bool)) is None
    n = MAX_ANSWER_TOKENS + 5
    start, end = np.zeros(n), np.zeros(n)
    start[0], end[-1], end[3] = 10.0, 10.0, 1.0
    assert best_span(start, end, np.ones(n, dtype=bool)) == (0, 3, 11.0)  # never too long


def test_the_reader_finds_the_answer_and_knows_when_there_is_none(reader: Reader) -> None:
    answer, unrelated = reader.read(
        "How many days of annual leave do employees get?",
        [HANDBOOK, "The canteen serves lunch from 12:00 to 14:00 on weekdays."],
    )
    assert answer is not None and HANDBOOK[answer.start : answer.end] in {"25 days", "25"}
    assert unrelated is not None and unrelated.margin < answer.margin
    assert reader.read("anything?", ["", "   "]) == [None, None]


def test_a_long_passage_is_read_in_windows(reader: Reader) -> None:
    filler = "The weather report mentioned clouds over the hills that morning. " * 40
    passage = filler + "The spare key is kept under the blue flower pot."
    (reading,) = reader.read("Where is the spare key kept?", [passage])
    assert reading is not None
    assert "blue flower pot" in passage[reading.start : reading.end]
    assert reading.start > len(filler) - 1


def test_spans_can_be_limited_to_cited_sentences(reader: Reader) -> None:
    second = HANDBOOK.index("Leave requests")
    (limited,) = reader.read(
        "How many days of annual leave do employees get?",
        [HANDBOOK],
        within=[[(second, len(HANDBOOK))]],
    )
    assert limited is not None and limited.start >= second


def test_quotes_are_the_sentences_a_span_touches() -> None:
    start = HANDBOOK.index("25 days")
    assert quoted(HANDBOOK, start, start + 7) == [HANDBOOK[: HANDBOOK.index(" Leave")]]
    table = "Hotel caps per night:\n\n| City | Cap |\n|---|---|\n| Berlin | €165 |\n"
    at = table.index("€165")
    assert quoted(table, at, at + 4) == ["Hotel caps per night: Berlin | €165"]


def test_evidence_weighs_margin_relevance_and_coverage() -> None:
    finding = Finding(1, Reading(0, 4, score=6.0, null_score=2.0), relevance=0.5, coverage=0.5)
    assert finding.evidence(0.0, 0.0) == 4.0
    assert finding.evidence(2.0, 0.0) == 5.0
    assert finding.evidence(0.0, 4.0) == 2.0
