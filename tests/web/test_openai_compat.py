"""The OpenAI-compatible endpoint, called with the official `openai` client on a live server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from index.embeddings import Encoder
from rag.runtime import build_runtime
from tests.helpers import SAMPLES, ScriptedChatModel, make_settings, serving

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


@pytest.fixture(scope="module")
def scripted_server(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[tuple[str, ScriptedChatModel]]:
    """The app answering through a scripted chat model (DOCENT_GENERATOR=openai)."""
    from rag.web.app import create_app

    model = ScriptedChatModel(reply=lambda messages: "", received=[])
    settings = make_settings(tmp_path_factory.mktemp("scripted-v1"), generator="openai")
    runtime = build_runtime(settings, embeddings=embeddings, chat_model=model)
    runtime.ingestor.ingest([SAMPLES / "travel-policy.pdf", SAMPLES / "expenses.md"])
    with serving(create_app(runtime)) as url:
        yield url, model


def test_a_model_citation_is_checked_on_the_openai_surface(
    scripted_server: tuple[str, ScriptedChatModel],
) -> None:
    """The model cites a passage that does not say it and adds a claim nothing supports: the
    reply's citation moves to the supporting passage, the claim is reported unsupported, and a
    streamed reply's last chunk carries the checked text."""
    url, model = scripted_server
    question = "Which travel agency books flights?"
    retrieved = httpx.post(f"{url}/api/v1/ask", json={"question": question}, timeout=60).json()
    texts = [hit["chunk"]["text"] for hit in retrieved["retrieved"]]
    right = next(n for n, t in enumerate(texts, 1) if "Meridian Travel" in t)
    wrong = next(n for n, t in enumerate(texts, 1) if "Meridian Travel" not in t)
    reply = f"Flights are booked through Meridian Travel [{wrong}]. Pets fly free [{wrong}]."
    model.reply = lambda messages: reply
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    messages: Any = [{"role": "user", "content": question}]
    completion = client.chat.completions.create(model="docent", messages=messages)
    checked = f"Flights are booked through Meridian Travel [{right}]. Pets fly free."
    assert completion.choices[0].message.content == checked
    extra = completion.model_extra or {}
    assert [c["n"] for c in extra["citations"]] == [right] and not extra["supported"]
    assert [(s["cites"], s["supported"]) for s in extra["sentences"]] == [
        ([right], True),
        ([], False),
    ]
    chunks = list(client.chat.completions.create(model="docent", messages=messages, stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed.strip() == reply, "the tokens as the model wrote them"
    last = chunks[-1].model_extra or {}
    assert last["text"] == checked and [c["n"] for c in last["citations"]] == [right]
