"""Feedback storage: JSON lines in a temp dir, and what a rating records of an answer."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from index.database import Database
from rag.answer.types import Answer
from rag.runtime import Runtime
from rag.stores.feedback import Feedback, FeedbackStore
from tests.helpers import feedback_case as make

VACATION = "How many vacation days does a full-time employee get each year?"


@pytest.fixture(scope="module")
def vacation(sample_runtime: Runtime) -> Answer:
    return sample_runtime.assistant.answer(VACATION)


def test_store_round_trip(database: Database) -> None:
    store = FeedbackStore(database)
    assert store.all() == []
    items = [
        make("up", "First?", created_at="2026-11-01T09:00:00+00:00"),
        make(
            "down", "Second?", correction="It is 12 days.", created_at="2026-11-01T09:00:01+00:00"
        ),
        make("wrong_source", "Third?", cited_chunk_ids=[], cited_documents=[]),
    ]
    for item in items:
        store.add(item)
    assert store.all() == items
    assert len({item.id for item in items}) == 3 and all(len(i.id) == 32 for i in items)
    created = datetime.fromisoformat(items[2].created_at)
    assert created.utcoffset() == UTC.utcoffset(None)


def test_ratings_in_the_same_second_keep_their_order(database: Database) -> None:
    store = FeedbackStore(database)
    items = [make("up", f"Question {n}?") for n in range(20)]
    for item in items:
        store.add(item)
    assert [f.question for f in store.all()] == [i.question for i in items]


def test_recent_ratings_of_some_kinds_newest_first(database: Database) -> None:
    store = FeedbackStore(database)
    kinds = ["down", "up", "wrong_source", "down", "up", "down"]
    for n, kind in enumerate(kinds):
        store.add(make(kind, f"Question {n}?", created_at=f"2026-11-01T09:00:0{n}+00:00"))
    recent = store.recent(("down", "wrong_source"), limit=3)
    assert [f.question for f in recent] == ["Question 5?", "Question 3?", "Question 2?"]
    assert store.recent(("up",), limit=10)[-1].question == "Question 1?"


def test_concurrent_ratings_are_all_kept(database: Database) -> None:
    store = FeedbackStore(database)

    def rate(worker: int) -> None:
        for n in range(25):
            store.add(make("up", f"worker {worker} question {n}?", answer_text="x" * 2000))

    threads = [threading.Thread(target=rate, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({f.question for f in store.all()}) == 200


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
    assert feedback.generator == "extractive" and feedback.prompt_version == "reader.v1"
    assert Feedback.from_answer(VACATION, vacation, "up", "   ").correction is None
