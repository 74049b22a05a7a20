"""The extractive answerer: what it never answers with, a 'why' answered with a reason, the
short answer inside the quote. Real index, real embedding model, the shipped reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.short_answer import locate
from rag.answer.types import ShortAnswer
from rag.runtime import Runtime
from rag.web.chat_ui import _decorated

# Our own text, shaped like the news article's troubles: a title that is a question, a sentence
# that restates it, a lead-in before the reasons, and facts of each answer type.
REPORT = """Acme and Globex: strategic allies or tactical partners?

Analysts ask whether Acme and Globex are strategic allies or tactical partners.

There are several reasons why Acme-Globex relations have taken a positive turn. First and \
foremost, Acme refused to back down on its pricing demands in Europe. Another reason was \
Globex's growing cooperation with Initech on regional logistics.

Acme employs 1,200 engineers at its Lisbon campus. The company was founded in 1987 by Maria \
Keller, a chemist from Porto.
"""


@pytest.fixture
def report_runtime(fresh_runtime: Runtime, tmp_path: Path) -> Runtime:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "acme-globex.txt").write_text(REPORT, encoding="utf-8")
    assert not fresh_runtime.ingestor.ingest([folder]).failed
    return fresh_runtime


def test_never_answers_with_the_title_or_a_restatement(report_runtime: Runtime) -> None:
    answer = report_runtime.assistant.answer(
        "Are Acme and Globex strategic allies or tactical partners?"
    )
    assert "?" not in answer.text  # neither the title nor any question
    assert "Analysts ask" not in answer.text


def test_a_why_question_is_answered_with_a_reason(report_runtime: Runtime) -> None:
    answer = report_runtime.assistant.answer(
        "Why have Acme-Globex relations taken a positive turn?"
    )
    assert not answer.abstained
    assert "Acme refused to back down" in answer.text or "growing cooperation" in answer.text
    assert "There are several reasons" not in answer.text


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("How many engineers does Acme employ?", "1,200"),
        ("In which year was the company founded?", "1987"),
        ("Who founded the company?", "Maria Keller"),
    ],
)
def test_the_short_answer_is_the_span_that_answers(
    report_runtime: Runtime, question: str, short: str
) -> None:
    answer = report_runtime.assistant.answer(question)
    found = answer.short_answer
    assert found is not None and found.text == short
    cited = next(c for c in answer.citations if c.n == found.n)
    assert cited.passage[found.start : found.end] == short
    assert found.answer_span is not None
    start, end = found.answer_span
    assert answer.text[start:end] == short


def test_an_abstention_has_no_short_answer(sample_runtime: Runtime) -> None:
    answer = sample_runtime.assistant.answer("What is on the cafeteria menu this week?")
    assert answer.abstained and answer.short_answer is None


def test_locate_finds_the_short_answer_in_a_quote_with_other_spacing() -> None:
    short = ShortAnswer(n=1, start=10, end=24, text="Avenida da\nLiberdade")
    text = "Address: Avenida da Liberdade 245 [1]."
    assert locate(short, text).answer_span == (9, 29)
    assert locate(short.model_copy(update={"text": "Rua Augusta"}), text).answer_span is None
    two = "The fee is 25 [1]. Refunds take 25 days [2]."
    in_second = ShortAnswer(n=2, start=0, end=2, text="25")
    assert locate(in_second, two).answer_span == (32, 34)  # in the sentence citing [2]


def test_decorations_nest_and_escape() -> None:
    text = "It is <26> days [1]. Then more."
    decorated = _decorated(
        text,
        [
            (0, 20, '<span class="weak">', "</span>"),
            (6, 10, "<strong>", "</strong>"),
            (15, 25, "<em>", "</em>"),  # crosses the first: left out
        ],
    )
    assert decorated == (
        '<span class="weak">It is <strong>&lt;26&gt;</strong> days [1].</span> Then more.'
    )
