"""Feedback storage: JSON lines in a temp dir, and what a rating records of an answer."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rag.feedback import Feedback, FeedbackStore
from rag.runtime import Runtime
from rag.types import Answer
from tests.helpers import feedback_case as make

VACATION = "How many vacation days does a full-time employee get each year?"


@pytest.fixture(scope="module")
def vacation(sample_runtime: Runtime) -> Answer:
    return sample_runtime.assistant.answer(VACATION)


def test_store_round_trip(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "nested" / "feedback.jsonl")
    assert store.all() == []
    items = [
        make("up", "First?"),
        make("down", "Second?", correction="It is 12 days."),
        make("wrong_source", "Third?", cited_chunk_ids=[], cited_documents=[]),
    ]
    for item in items:
        store.add(item)
    assert store.all() == items
    lines = store.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[1])["correction"] == "It is 12 days."
    assert len({item.id for item in items}) == 3 and all(len(i.id) == 32 for i in items)
    created = datetime.fromisoformat(items[0].created_at)
    assert created.utcoffset() == UTC.utcoffset(None)


def test_malformed_lines_are_skipped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    first, last = make("up", "First?"), make("down", "Last?")
    store.add(first)
    with store.path.open("a", encoding="utf-8") as file:
        file.write('not json\n\n{"rating": "meh", "question": "x"}\n{"id": "trunc')
        file.write("\n")
    store.add(last)
    with caplog.at_level(logging.WARNING, logger="rag.feedback"):
        assert store.all() == [first, last]
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 3
    assert "line 2 " in warned[0] and "line 4 " in warned[1] and "line 5 " in warned[2]


def test_concurrent_appends_are_all_kept(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.jsonl")

    def rate(worker: int) -> None:
        for n in range(25):
            store.add(make("up", f"worker {worker} question {n}?", answer_text="x" * 2000))

    threads = [threading.Thread(target=rate, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = store.all()
    assert len(stored) == 200
    assert {f.question for f in stored} == {
        f"worker {w} question {n}?" for w in range(8) for n in range(25)
    }


def test_from_answer_records_the_answer(vacation: Answer) -> None:
    feedback = Feedback.from_answer(VACATION, vacation, "wrong_source", "  leave-policy.md ")
    assert feedback.rating == "wrong_source"
    assert feedback.question == VACATION and feedback.standalone_query == VACATION
    assert "26 days" in feedback.answer_text and feedback.answer_text == vacation.text
    assert feedback.cited_chunk_ids == [vacation.citations[0].chunk_id]
    assert len(feedback.cited_chunk_ids) == 1
    assert feedback.cited_documents == ["leave-policy.md"]
    assert feedback.correction == "leave-policy.md"
    assert feedback.abstained is False
    assert feedback.generator == "extractive" and feedback.prompt_version == "extractive.v1"
    assert Feedback.from_answer(VACATION, vacation, "up", "   ").correction is None
