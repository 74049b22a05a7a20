"""Replaying stored feedback against the real sample runtime (`eval --feedback`)."""

from __future__ import annotations

import pytest

from rag.answer.types import Answer
from rag.evaluation.replay import AnswerSummary, ReplayResult, format_replay, replay
from rag.runtime import Runtime
from rag.stores.feedback import Feedback
from tests.helpers import feedback_case as make

VACATION = "How many vacation days does a full-time employee get each year?"
DRESS_CODE = "Is there a dress code for the office?"


@pytest.fixture(scope="module")
def vacation(sample_runtime: Runtime) -> Answer:
    return sample_runtime.assistant.answer(VACATION)


def test_replay_up_passes_against_the_same_runtime(
    sample_runtime: Runtime, vacation: Answer
) -> None:
    abstention = sample_runtime.assistant.answer(DRESS_CODE)
    assert abstention.abstained
    cases = [
        Feedback.from_answer(VACATION, vacation, "up"),
        Feedback.from_answer(DRESS_CODE, abstention, "up"),
    ]
    results = replay(cases, sample_runtime.assistant)
    assert [(r.passed, r.reason) for r in results] == [
        (True, "cites a chunk it cited before"),
        (True, "still abstains"),
    ]
    assert results[0].answer is not None and "26 days" in results[0].answer.text
    assert results[0].answer.cited_chunk_ids == cases[0].cited_chunk_ids


def test_replay_up_fails_when_the_answer_now_abstains_or_cites_elsewhere(
    sample_runtime: Runtime, vacation: Answer
) -> None:
    liked = Feedback.from_answer(VACATION, vacation, "up")
    moved = liked.model_copy(update={"cited_chunk_ids": ["old"], "cited_documents": ["/old.md"]})
    same_source = liked.model_copy(update={"cited_chunk_ids": ["old"]})
    was_unanswerable = make("up", VACATION, abstained=True)
    now_abstains = make("up", DRESS_CODE)
    results = replay([moved, same_source, was_unanswerable, now_abstains], sample_runtime.assistant)
    assert [(r.passed, r.reason) for r in results] == [
        (False, "cites none of the chunks or documents it cited before"),
        (True, "cites a document it cited before"),
        (False, "no longer abstains"),
        (False, "now abstains"),
    ]


def test_replay_wrong_source_with_correction(sample_runtime: Runtime, vacation: Answer) -> None:
    passage = vacation.citations[0].passage
    assert "20.8 days" in passage and "20.8 days" not in vacation.text
    cases = [
        Feedback.from_answer(VACATION, vacation, "wrong_source", "Leave-Policy.MD"),
        Feedback.from_answer(VACATION, vacation, "wrong_source", "remote-work.docx"),
        Feedback.from_answer(VACATION, vacation, "down", "26 DAYS of paid"),
        Feedback.from_answer(VACATION, vacation, "down", "20.8 days"),
        Feedback.from_answer(VACATION, vacation, "down", "30 days of paid annual leave"),
    ]
    results = replay(cases, sample_runtime.assistant)
    assert [(r.passed, r.reason) for r in results] == [
        (True, "correction names a cited document"),
        (False, "correction 'remote-work.docx' not in the answer or its sources"),
        (True, "correction appears in the answer"),
        (True, "correction appears in a cited passage"),
        (False, "correction '30 days of paid annual leave' not in the answer or its sources"),
    ]


def test_replay_down_and_wrong_source_without_correction(
    sample_runtime: Runtime, vacation: Answer
) -> None:
    disliked = Feedback.from_answer(VACATION, vacation, "down")
    changed = disliked.model_copy(update={"answer_text": "Every employee gets 20 days [1]."})
    wrong = Feedback.from_answer(VACATION, vacation, "wrong_source")
    fixed = wrong.model_copy(update={"cited_documents": ["/docs/remote-work.docx"]})
    results = replay([disliked, changed, wrong, fixed], sample_runtime.assistant)
    assert [(r.passed, r.reason) for r in results] == [
        (False, "answer unchanged"),
        (True, "answer changed"),
        (False, "cites the same documents"),
        (True, "cited documents changed"),
    ]


def test_replay_counts_refused_questions_as_failed(sample_runtime: Runtime) -> None:
    results = replay([make("up", "   ", standalone_query="")], sample_runtime.assistant)
    assert len(results) == 1 and results[0].answer is None
    assert not results[0].passed and results[0].reason == "error: the question is empty"


def test_format_replay() -> None:
    long_question = "Why " + "very " * 20 + "long?"
    summary = AnswerSummary(
        text="26 days [1].",
        cited_chunk_ids=["c1"],
        cited_documents=["/docs/a.md"],
        cited_passages=["26 days"],
        abstained=False,
    )
    results = [
        ReplayResult(
            feedback=make("up", "Vacation days?"),
            answer=summary,
            passed=True,
            reason="cites a chunk it cited before",
        ),
        ReplayResult(
            feedback=make("down", "Vacation\ndays?"),
            answer=summary,
            passed=False,
            reason="answer unchanged",
        ),
        ReplayResult(
            feedback=make("wrong_source", long_question),
            answer=None,
            passed=False,
            reason="error: the question is empty",
        ),
    ]
    assert format_replay(results).splitlines() == [
        "question                                          rating        result  reason",
        "------------------------------------------------  ------------  ------  ------",
        "Vacation days?                                    up            pass    cites a chunk it cited before",
        "Vacation days?                                    down          FAIL    answer unchanged",
        "Why very very very very very very very very ver…  wrong_source  FAIL    error: the question is empty",
        "1/3 stored cases pass",
    ]
    assert format_replay([]).splitlines()[-1] == "0/0 stored cases pass"
