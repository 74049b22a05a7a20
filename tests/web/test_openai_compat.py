"""The OpenAI-compatible endpoint, called with the official `openai` client on a live server."""

from __future__ import annotations

import httpx
import openai
import pytest

QUESTION = "How much is the mileage allowance per kilometre?"


@pytest.fixture
def client(live_server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server}/v1", api_key="unused", max_retries=0)


def test_models_lists_docent(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["docent"]


def test_completion_matches_the_api_answer(client: openai.OpenAI, live_server: str) -> None:
    completion = client.chat.completions.create(
        model="docent",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": QUESTION},
        ],
    )
    api = httpx.post(f"{live_server}/api/v1/ask", json={"question": QUESTION}, timeout=60).json()
    content = completion.choices[0].message.content
    assert content == api["text"] and "€0.36" in content and "[1]" in content
    assert completion.choices[0].finish_reason == "stop"
    citations = (completion.model_extra or {})["citations"]
    assert [c["chunk_id"] for c in citations] == [c["chunk_id"] for c in api["citations"]]
    assert citations[0]["name"] == "expenses.md"


def test_streamed_completion_matches_too(client: openai.OpenAI, live_server: str) -> None:
    stream = client.chat.completions.create(
        model="docent", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    api = httpx.post(f"{live_server}/api/v1/ask", json={"question": QUESTION}, timeout=60).json()
    assert text == api["text"]
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"][0]["chunk_id"] == api["citations"][0]["chunk_id"]


def test_history_comes_from_earlier_messages(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="docent",
        messages=[
            {"role": "user", "content": "Which travel agency books our flights?"},
            {"role": "assistant", "content": "Meridian Travel [1]."},
            {"role": "user", "content": "And how early must they be booked?"},
        ],
    )
    citations = (completion.model_extra or {})["citations"]
    assert citations[0]["name"] == "travel-policy.pdf"


def test_a_conversation_must_end_with_the_user(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model="docent", messages=[{"role": "assistant", "content": "Hello"}]
        )
    assert raised.value.status_code == 400
    assert "the last message must come from the user" in str(raised.value)
