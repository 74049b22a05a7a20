"""Docent's OpenAI-compatible endpoint (`/v1/chat/completions`), plain and streamed, called with
the official `openai` client while Docent itself answers through llama.cpp's OpenAI-compatible
server (DOCENT_GENERATOR=openai): an OpenAI endpoint in front of another one."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from rag.answer.citations import MARKER
from rag.answer.generators.base import NOT_FOUND

pytestmark = pytest.mark.llm

# A question the refusal decision lets through to the model (the mileage one of ANSWERABLE is
# refused before the model is asked: "paid back per km" shares too few words with "mileage").
QUESTION = "Which travel agency books flights?"


@pytest.fixture
def client(llm_app: tuple[str, dict[str, str]]) -> openai.OpenAI:
    url, headers = llm_app
    key = headers["Authorization"].removeprefix("Bearer ")
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=180)


def markers(text: str) -> set[int]:
    return {int(n) for group in MARKER.findall(text) for n in group.split(",")}


def cited_passages(citations: list[dict[str, Any]]) -> set[int]:
    numbers = {c["n"] for c in citations}
    assert all(1 <= n <= 5 for n in numbers), numbers  # top_k passages were given
    return numbers


def test_a_completion_answers_with_its_citations(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="docent",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": QUESTION},
        ],
    )
    choice = completion.choices[0]
    content = choice.message.content or ""
    assert MARKER.sub("", content).strip() and choice.finish_reason == "stop"
    assert content != NOT_FOUND
    extra = completion.model_extra or {}
    assert markers(content) == cited_passages(extra["citations"]), content
    assert isinstance(extra["supported"], bool)


def test_a_streamed_completion_arrives_in_pieces(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="docent", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) > 1, pieces  # the model's tokens are passed on as they come
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    # The stream carries the model's raw text; the last chunk the checked text and citations.
    extra = last.model_extra or {}
    assert markers(extra["text"]) == cited_passages(extra["citations"]), extra["text"]
