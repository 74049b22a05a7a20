"""The chat UI serves several users at once: one slow LLM answer does not hold up the others
(Gradio's queue runs one event of a kind at a time unless told otherwise)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client
from langchain_core.messages import BaseMessage

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import SAMPLES, ScriptedChatModel, make_settings, serving

QUESTION = "Which travel agency books flights?"
ANSWER = "Flights are booked through Meridian Travel [1]."


class Held:
    """A chat model whose first reply waits for `release` (the slow answer); later ones do not."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, messages: list[BaseMessage]) -> str:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(timeout=120)
        return ANSWER


@pytest.fixture
def held_server(tmp_path: Path, embeddings: Encoder) -> Iterator[tuple[str, Held]]:
    held = Held()
    model = ScriptedChatModel(reply=held, received=[])
    settings = make_settings(tmp_path / "data", generator="openai", rate_limit_per_minute=0)
    runtime = build_runtime(settings, embeddings=embeddings, chat_model=model)
    runtime.ingestor.ingest([SAMPLES / "travel-policy.pdf"])
    try:
        with serving(create_app(runtime)) as url:
            yield url, held
    finally:
        held.release.set()


def test_a_slow_answer_does_not_block_another_user(held_server: tuple[str, Held]) -> None:
    url, held = held_server
    slow = Client(url, verbose=False).submit(QUESTION, [], api_name="/ask")
    assert held.entered.wait(timeout=120), "the slow question never reached the model"
    # With a queue of one, this answer would wait for the slow one, which waits for us.
    other, *_ = (
        Client(url, verbose=False)
        .submit("Which travel agency books flights?", [], api_name="/ask")
        .result(timeout=120)
    )
    assert not slow.done()
    assert "Meridian Travel" in other[-1]["content"][0]["text"]
    held.release.set()
    chat, *_ = slow.result(timeout=120)
    assert "Meridian Travel" in chat[-1]["content"][0]["text"]
