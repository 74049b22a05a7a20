from __future__ import annotations

import logging
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.messages import BaseMessage

from index.errors import PromptError
from index.types import Chunk, Hit
from rag.citations import check_citations
from rag.prompts import load_prompt
from rag.runtime import Runtime, build_runtime
from rag.types import Message
from tests.conftest import ROOT, SAMPLES, ScriptedChatModel, make_settings


def _hit(text: str, n: int) -> Hit:
    chunk = Chunk(
        id=f"c{n}", text=text, source=f"/docs/{n}.md", title=f"Doc {n}", start=0, end=len(text)
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


def _llm_runtime(
    tmp_path: Path, embeddings: Embeddings, reply: str
) -> tuple[Runtime, ScriptedChatModel]:
    model = ScriptedChatModel(reply=lambda messages: reply, received=[])
    runtime = build_runtime(
        make_settings(tmp_path / "data", generator="openai"),
        embeddings=embeddings,
        chat_model=model,
    )
    runtime.ingestor.ingest([SAMPLES / "travel-policy.pdf", SAMPLES / "expenses.md"])
    return runtime, model


def test_llm_answer_is_checked_and_streamed(tmp_path: Path, embeddings: Embeddings) -> None:
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
    tmp_path: Path, embeddings: Embeddings
) -> None:
    runtime, _ = _llm_runtime(tmp_path, embeddings, "Everyone flies first class [42].")
    answer = runtime.assistant.answer("Which class do we fly?")
    assert not answer.supported and answer.citations == [] and answer.dropped_markers == [42]


def test_llm_abstention_is_recognised(tmp_path: Path, embeddings: Embeddings) -> None:
    runtime, _ = _llm_runtime(
        tmp_path, embeddings, "The documents do not contain an answer to this question."
    )
    answer = runtime.assistant.answer("What is the dress code?")
    assert answer.abstained and not answer.supported


def test_llm_condenses_follow_ups_with_the_prompt(tmp_path: Path, embeddings: Embeddings) -> None:
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


def test_prompts_load_strictly(tmp_path: Path) -> None:
    prompt = load_prompt(ROOT / "prompts", "answer", "v1")
    with pytest.raises(PromptError, match="missing variables \\['passages'\\]"):
        prompt.render(question="q")
    with pytest.raises(PromptError, match="unknown \\['extra'\\]"):
        prompt.render(question="q", passages=[], extra=1)
    with pytest.raises(PromptError, match="does not exist"):
        load_prompt(ROOT / "prompts", "answer", "v999")
    (tmp_path / "bad.v1.yaml").write_text(
        "name: bad\nversion: v1\nvariables: [a]\nsystem: '{{ a }}'\nuser: '{{ b }}'\n"
    )
    with pytest.raises(PromptError, match="'b' is undefined"):
        load_prompt(tmp_path, "bad", "v1").render(a=1)
