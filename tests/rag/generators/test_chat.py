"""The chat-model generator through the real runtime, with a scripted model at the LLM boundary."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from index.embeddings import Encoder
from rag.runtime import Runtime, build_runtime
from tests.helpers import SAMPLES, ScriptedChatModel, make_settings


def _llm_runtime(
    tmp_path: Path, embeddings: Encoder, reply: str
) -> tuple[Runtime, ScriptedChatModel]:
    model = ScriptedChatModel(reply=lambda messages: reply, received=[])
    runtime = build_runtime(
        make_settings(tmp_path / "data", generator="openai"),
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
    assert answer.supported, "the one citing sentence is supported; the other is only flagged"
    assert answer.prompt_version == "answer.v1" and answer.generator == "openai"
    system, user = model.received[-1]
    assert "[n]" in system.content
    assert "[1]" in user.content and "Which travel agency books flights?" in user.content
    assert answer.retrieved[0].chunk.text in user.content


def test_llm_answer_without_valid_citation_is_unsupported(
    tmp_path: Path, embeddings: Encoder
) -> None:
    runtime, _ = _llm_runtime(tmp_path, embeddings, "Everyone flies first class [42].")
    answer = runtime.assistant.answer("Which class do we fly?")
    assert not answer.supported and answer.citations == [] and answer.dropped_markers == [42]


def test_llm_abstention_is_recognised(tmp_path: Path, embeddings: Encoder) -> None:
    runtime, _ = _llm_runtime(
        tmp_path, embeddings, "The documents do not contain an answer to this question."
    )
    answer = runtime.assistant.answer("What is the dress code?")
    assert answer.abstained and not answer.supported


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
