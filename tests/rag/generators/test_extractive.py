"""The extractive answerer: what it never answers with, the 'several reasons' lead-in, the short
answer inside the quote, and the parts they are built from. Real index, real embedding model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.generators.answerer_model import DEFAULT_MODEL_PATH, load_answerer_model, untrained
from rag.generators.questions import AnswerType, analyse, carries
from rag.runtime import Runtime
from rag.short_answer import locate
from rag.types import ShortAnswer
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


def test_a_why_question_is_answered_with_the_reasons_after_the_lead_in(
    report_runtime: Runtime,
) -> None:
    answer = report_runtime.assistant.answer(
        "Why have Acme-Globex relations taken a positive turn?"
    )
    assert not answer.abstained
    assert answer.text.startswith("First and foremost, Acme refused to back down")
    assert "Another reason was Globex's growing cooperation" in answer.text
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


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many days of leave do I get?", AnswerType.NUMBER),
        ("What is the maximum hotel rate in Berlin?", AnswerType.NUMBER),
        ("When was the policy approved?", AnswerType.DATE),
        ("In what year did the war end?", AnswerType.DATE),
        ("Who was chief executive when the service began?", AnswerType.PERSON),
        ("Which company builds the portal?", AnswerType.PERSON),
        ("Where is the headquarters?", AnswerType.PLACE),
        ("Why have relations improved?", AnswerType.REASON),
        ("What is the password manager called?", AnswerType.OTHER),
    ],
)
def test_the_question_says_what_type_of_answer_it_wants(question: str, kind: AnswerType) -> None:
    assert analyse(question).kind is kind


def test_key_terms_are_the_names_and_numbers_of_the_question() -> None:
    assert analyse("How many employees work at Northwind Labs in 2025?").key_terms == {
        "northwind",
        "lab",
        "2025",
    }


@pytest.mark.parametrize(
    ("text", "kind", "holds"),
    [
        ("up to 26 days a year", AnswerType.NUMBER, True),
        ("twelve weeks", AnswerType.NUMBER, True),
        ("no figure here", AnswerType.NUMBER, False),
        ("on 18 March 2025", AnswerType.DATE, True),
        ("approved by Tomasz Wierzbicki", AnswerType.PERSON, True),
        ("an office in Lisbon", AnswerType.PERSON, False),
        ("an office in Lisbon", AnswerType.PLACE, True),
        ("forward it to phishing@northwind.internal", AnswerType.PERSON, True),
        ("because the law changed", AnswerType.REASON, True),
    ],
)
def test_detectors_of_answer_types(text: str, kind: AnswerType, holds: bool) -> None:
    assert carries(text, kind) is holds


def test_the_shipped_model_loads_and_a_stale_one_is_refused(tmp_path: Path) -> None:
    model = load_answerer_model(DEFAULT_MODEL_PATH)
    assert model.about["command"] == "python app.py eval --train-answerer"
    stale = json.loads(DEFAULT_MODEL_PATH.read_text())
    stale["sentence"]["features"][0] = "retired_feature"
    path = tmp_path / "stale.json"
    path.write_text(json.dumps(stale))
    with pytest.raises(ConfigError, match="retrain it"):
        load_answerer_model(path)
    broken = json.loads(DEFAULT_MODEL_PATH.read_text())
    broken["span"]["bias"] = float("nan")
    path.write_text(json.dumps(broken))
    with pytest.raises(ConfigError, match="not numbers"):
        load_answerer_model(path)
    path.write_text("not json")
    with pytest.raises(ConfigError, match="cannot read"):
        load_answerer_model(path)
    assert not untrained().sentence.weights.any()


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
