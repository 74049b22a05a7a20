"""Follow-up questions become standalone queries: by rule without a model, by the condense
prompt with one."""

from __future__ import annotations

from pathlib import Path

from langchain_core.messages import BaseMessage

from index.embeddings import Encoder
from rag.answer.condense import RuleCondenser
from rag.answer.types import Message
from rag.runtime import build_runtime
from tests.helpers import SAMPLES, ScriptedChatModel, make_settings


def test_rule_condenser_adds_the_previous_question_to_references() -> None:
    history = [
        Message(role="user", content="Which travel agency books our flights?"),
        Message(role="assistant", content="Meridian Travel [1]."),
    ]
    condenser = RuleCondenser()
    assert condenser.condense("And how early must they be booked?", history) == (
        "And how early must they be booked? (Which travel agency books our flights?)"
    )
    standalone = "What is the mileage allowance per kilometre for private cars?"
    assert condenser.condense(standalone, history) == standalone
    assert condenser.condense("And hotels?", []) == "And hotels?"


def test_llm_condenses_follow_ups_with_the_prompt(tmp_path: Path, embeddings: Encoder) -> None:
    def reply(messages: list[BaseMessage]) -> str:
        if "Standalone question:" in str(messages[-1].content):
            return "How early must trips outside Europe be booked with Meridian Travel?"
        return "At least 21 days before departure [1]."

    model = ScriptedChatModel(reply=reply, received=[])
    runtime = build_runtime(
        make_settings(tmp_path / "data", generator="openai"),
        embeddings=embeddings,
        chat_model=model,
    )
    runtime.ingestor.ingest([SAMPLES / "travel-policy.pdf"])
    history = [
        Message(role="user", content="Who books our trips?"),
        Message(role="assistant", content="Meridian Travel [1]."),
    ]
    answer = runtime.assistant.answer("And outside Europe?", history)
    assert (
        answer.standalone_query
        == "How early must trips outside Europe be booked with Meridian Travel?"
    )
    assert "Who books our trips?" in str(model.received[0][-1].content)
