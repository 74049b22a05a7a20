"""The chat-model generator through the real runtime, with a scripted model at the LLM boundary."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage
from pydantic import ValidationError

from index.embeddings import Encoder
from rag.answer.generators import NOT_FOUND
from rag.answer.types import Message
from rag.runtime import Runtime, build_runtime
from tests.helpers import SAMPLES, ScriptedChatModel, make_settings


def _llm_runtime(
    tmp_path: Path, embeddings: Encoder, reply: str, **settings: str
) -> tuple[Runtime, ScriptedChatModel]:
    model = ScriptedChatModel(reply=lambda messages: reply, received=[])
    runtime = build_runtime(
        make_settings(tmp_path / "data", generator="openai", **settings),
        embeddings=embeddings,
        chat_model=model,
    )
    runtime.ingestor.ingest([SAMPLES / "travel-policy.pdf", SAMPLES / "expenses.md"])
    return runtime, model


def test_llm_answer_is_checked_and_streamed(tmp_path: Path, embeddings: Encoder) -> None:
    runtime, model = _llm_runtime(
        tmp_path, embeddings, "Flights are booked through Meridian Travel [1]. Also see [12]."
    )
    pieces = list(runtime.assistant.stream("Which travel agency books flights?"))
    *tokens, answer = pieces
    assert len(tokens) > 3, "tokens arrive one by one"
    assert answer.text == "Flights are booked through Meridian Travel [1]. Also see."
    assert answer.dropped_markers == [12] and not answer.abstained
    first, second = answer.sentences
    assert first.cites == [1] and first.supported and first.score > 0.8, "a paraphrase"
    assert (second.cites, second.score, second.supported) == ([], 0.0, False)
    assert answer.prompt_version == "answer.v5" and answer.generator == "openai"
    system, user = model.received[-1]
    assert "[n]" in system.content
    assert "[1]" in user.content and "Which travel agency books flights?" in user.content
    assert answer.retrieved[0].chunk.text in user.content


def test_a_reply_no_passage_supports_gives_way_to_the_quoted_sentence(
    tmp_path: Path, embeddings: Encoder
) -> None:
    """The evidence let the model answer, and it invented something: the answer is the
    sentence the reader found, as on the extractive path."""
    runtime, _ = _llm_runtime(tmp_path, embeddings, "Everyone flies first class [42].")
    answer = runtime.assistant.answer("Which class do we fly?")
    assert "first class" not in answer.text and answer.dropped_markers == [42]
    assert answer.generator == "extractive" and answer.prompt_version == "reader.v1"
    assert answer.supported and answer.citations and not answer.abstained
    quoted = answer.citations[0].passage
    assert all(quoted[a:b] in quoted for a, b in answer.citations[0].highlights)


def test_a_refusal_where_the_evidence_holds_an_answer_gives_way_to_the_quoted_sentence(
    tmp_path: Path, embeddings: Encoder
) -> None:
    runtime, _ = _llm_runtime(tmp_path, embeddings, NOT_FOUND)
    answer = runtime.assistant.answer("Which travel agency books flights?")
    assert not answer.abstained and answer.generator == "extractive"
    assert "Meridian Travel" in answer.text and answer.supported


def test_a_citation_to_the_wrong_passage_moves_to_the_one_that_supports_it(
    tmp_path: Path, embeddings: Encoder
) -> None:
    runtime, model = _llm_runtime(tmp_path, embeddings, "")
    question = "Which travel agency books flights?"
    hits = runtime.assistant.answer(question).retrieved
    right = next(n for n, h in enumerate(hits, 1) if "Meridian Travel" in h.chunk.text)
    wrong = next(n for n, h in enumerate(hits, 1) if "Meridian Travel" not in h.chunk.text)
    model.reply = lambda messages: f"Flights are booked through Meridian Travel [{wrong}]."
    answer = runtime.assistant.answer(question)
    assert answer.text == f"Flights are booked through Meridian Travel [{right}]."
    assert [c.n for c in answer.citations] == [right] and answer.supported
    assert answer.generator == "openai"


def test_llm_abstention_is_recognised(tmp_path: Path, embeddings: Encoder) -> None:
    runtime, _ = _llm_runtime(tmp_path, embeddings, f"“{NOT_FOUND.rstrip('.')}”")
    answer = runtime.assistant.answer("What is the dress code?")
    assert answer.abstained and not answer.supported


def test_an_abstention_with_a_marker_is_not_supported(tmp_path: Path, embeddings: Encoder) -> None:
    runtime, _ = _llm_runtime(tmp_path, embeddings, f"{NOT_FOUND} [1]")
    answer = runtime.assistant.answer("What is the dress code?")
    assert answer.abstained and not answer.supported


@pytest.mark.parametrize(
    ("reply", "dropped"),
    [
        ("Flights are booked through Meridian Travel.", []),  # cites nothing
        ("Flights are booked through Meridian Travel [9].", [9]),  # only a passage not given
    ],
)
def test_a_supported_reply_citing_nothing_it_was_given_is_cited(
    tmp_path: Path, embeddings: Encoder, reply: str, dropped: list[int]
) -> None:
    runtime, _ = _llm_runtime(tmp_path, embeddings, reply)
    answer = runtime.assistant.answer("Which travel agency books flights?")
    assert len(answer.retrieved) < 9
    (citation,) = answer.citations
    assert "Meridian Travel" in citation.passage
    assert answer.text == f"Flights are booked through Meridian Travel [{citation.n}]."
    assert answer.dropped_markers == dropped and answer.supported and not answer.abstained
    assert [(s.cites, s.supported) for s in answer.sentences] == [([citation.n], True)]


def test_a_reply_with_an_uncited_claim_is_unsupported(tmp_path: Path, embeddings: Encoder) -> None:
    runtime, _ = _llm_runtime(
        tmp_path,
        embeddings,
        "Flights are booked through Meridian Travel [1]. Every employee flies business class.",
    )
    answer = runtime.assistant.answer("Which travel agency books flights?")
    cited, uncited = answer.sentences
    assert cited.supported and (uncited.cites, uncited.supported) == ([], False)
    assert not answer.supported, "an uncited claim leaves the answer unsupported"


def test_a_follow_up_is_answered_from_the_standalone_query_with_the_conversation(
    tmp_path: Path, embeddings: Encoder
) -> None:
    standalone = "What is the phone number of Meridian Travel?"

    def reply(messages: list[BaseMessage]) -> str:
        if messages[-1].text.rstrip().endswith("Standalone question:"):
            return standalone  # the condense prompt
        return "Meridian Travel answers on +44 20 7946 0000 [1]."

    model = ScriptedChatModel(reply=reply, received=[])
    runtime = build_runtime(
        make_settings(tmp_path / "data", generator="openai"),
        embeddings=embeddings,
        chat_model=model,
    )
    runtime.ingestor.ingest([SAMPLES / "travel-policy.pdf", SAMPLES / "expenses.md"])
    history = [
        Message(role="user", content="Which travel agency books flights?"),
        Message(role="assistant", content="Flights are booked through Meridian Travel [1][2]."),
    ]
    answer = runtime.assistant.answer("What is their phone number?", history)
    assert answer.standalone_query == standalone
    system, user = model.received[-1]
    assert "conversation" in system.text
    prompt = user.text
    asked = prompt.index("User: Which travel agency books flights?")
    answered = prompt.index("Docent: Flights are booked through Meridian Travel.\n")
    assert asked < answered < prompt.index("[1] ") < prompt.index(f"Question: {standalone}")
    assert "What is their phone number?" not in prompt, "the standalone query replaces it"
    assert "[2]" not in prompt.split("[1] ")[0], "earlier markers are gone"


def test_an_older_answer_prompt_still_answers_a_follow_up(
    tmp_path: Path, embeddings: Encoder
) -> None:
    """answer.v1 predates the conversation: it is rendered without it."""
    runtime, model = _llm_runtime(
        tmp_path, embeddings, "Meridian Travel [1].", answer_prompt="answer.v1"
    )
    history = [Message(role="user", content="Who books trips?")]
    answer = runtime.assistant.answer("Which travel agency books flights?", history)
    assert answer.prompt_version == "answer.v1" and answer.citations
    assert "Who books trips?" not in model.received[-1][1].text


def test_the_old_prompt_version_setting_selects_only_the_answer_prompt(
    tmp_path: Path, embeddings: Encoder
) -> None:
    """DOCENT_PROMPT_VERSION=v2 used to ask for a condense.v2 that does not exist."""
    model = ScriptedChatModel(reply=lambda messages: "Meridian Travel [1].", received=[])
    settings = make_settings(tmp_path / "data", generator="openai", prompt_version="v2")
    runtime = build_runtime(settings, embeddings=embeddings, chat_model=model)
    assert runtime.assistant.generator.prompt_version == "answer.v2"
    chosen = make_settings(tmp_path / "data", generator="openai", answer_prompt="answer.v2")
    assert (chosen.answer_prompt_id, chosen.condense_prompt) == ("answer.v2", "condense.v1")
    with pytest.raises(ValidationError, match="is not a condense prompt"):
        make_settings(tmp_path / "data", condense_prompt="answer.v1")


def test_weak_evidence_refuses_before_the_model_is_called(
    tmp_path: Path, embeddings: Encoder
) -> None:
    runtime, model = _llm_runtime(tmp_path, embeddings, "Invented with a citation [1].")
    answer = runtime.assistant.answer("What is on the cafeteria menu this week?")
    assert answer.text == NOT_FOUND and answer.abstained
    assert model.received == [], "the model is not asked a question the documents do not answer"
    answered = runtime.assistant.answer("Which travel agency books flights?")
    assert not answered.abstained and len(model.received) == 1
