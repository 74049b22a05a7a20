"""The guards hold whatever the model writes: llama.cpp's OpenAI-compatible server on loopback,
its output scripted with a grammar (GBNF) so that the real server returns exactly the reply
under test. A citation to the wrong passage is moved to the one that supports the sentence; a
question the documents do not answer never reaches the model; an invented answer gives way to
the sentence the reader found."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from langchain_openai import ChatOpenAI

from index.embeddings import Encoder
from rag.runtime import Runtime, build_assistant, build_runtime
from tests.helpers import SAMPLES, UNANSWERABLE, make_settings
from tests.llm.conftest import MODEL_ALIAS

pytestmark = pytest.mark.llm

FLIGHTS = "Which travel agency books flights?"


class Scripted:
    """A chat model behind the llama.cpp server whose every reply is `reply` (a grammar that
    allows nothing else), counting the requests that reach the server."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.reply = ""
        self.requests = 0

    def count(self, request: httpx.Request) -> None:
        if request.url.path.endswith("/chat/completions"):
            self.requests += 1

    def model(self) -> ChatOpenAI:
        return ChatOpenAI(
            base_url=self.server,
            model=MODEL_ALIAS,
            api_key="unused",
            temperature=0,
            max_tokens=64,
            streaming=True,
            http_client=httpx.Client(event_hooks={"request": [self.count]}, timeout=120),
            extra_body={"grammar": f"root ::= {json.dumps(self.reply)}"},
        )


@pytest.fixture(scope="module")
def scripted(llama_server: str) -> Scripted:
    return Scripted(llama_server)


@pytest.fixture(scope="module")
def answering(
    scripted: Scripted, tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[Runtime]:
    """The samples indexed once; each test answers through `scripted` with its reply."""
    settings = make_settings(tmp_path_factory.mktemp("guards"), generator="extractive")
    runtime = build_runtime(settings, embeddings=embeddings)
    report = runtime.ingestor.ingest([SAMPLES])
    assert not report.failed, report.failed
    yield runtime


def _through(runtime: Runtime, scripted: Scripted, reply: str) -> Runtime:
    """The same index answering through the scripted server (DOCENT_GENERATOR=openai)."""
    scripted.reply = reply
    settings = runtime.settings.model_copy(update={"generator": "openai"})
    current = runtime.assistant
    assistant = build_assistant(
        settings, current.retriever, current.support.units, runtime.evidence, scripted.model()
    )
    return replace(runtime, settings=settings, assistant=assistant)


def test_a_citation_to_the_wrong_passage_is_moved(answering: Runtime, scripted: Scripted) -> None:
    hits = answering.assistant.answer(FLIGHTS).retrieved
    right = next(n for n, h in enumerate(hits, 1) if "Meridian Travel" in h.chunk.text)
    wrong = next(n for n, h in enumerate(hits, 1) if "Meridian Travel" not in h.chunk.text)
    reply = f"Flights are booked through Meridian Travel [{wrong}]."
    runtime = _through(answering, scripted, reply)
    before = scripted.requests
    answer = runtime.assistant.answer(FLIGHTS)
    assert scripted.requests == before + 1, "the model was asked"
    assert answer.generator == "openai" and answer.supported
    assert answer.text == f"Flights are booked through Meridian Travel [{right}].", answer.text
    assert [c.n for c in answer.citations] == [right]


@pytest.mark.parametrize("question", UNANSWERABLE[:2])
def test_a_question_the_documents_do_not_answer_never_reaches_the_model(
    answering: Runtime, scripted: Scripted, question: str
) -> None:
    assert answering.assistant.answer(question).abstained, "refused on the extractive path"
    runtime = _through(answering, scripted, "It is all in the handbook [1].")
    before = scripted.requests
    answer = runtime.assistant.answer(question)
    assert answer.abstained and not answer.citations, answer.text
    assert scripted.requests == before, "the evidence decision refused before the model"


def test_an_invented_answer_gives_way_to_the_quoted_sentence(
    answering: Runtime, scripted: Scripted
) -> None:
    quoted = answering.assistant.answer(FLIGHTS)
    runtime = _through(answering, scripted, "Every employee flies first class on Skyline Air [1].")
    answer = runtime.assistant.answer(FLIGHTS)
    assert "first class" not in answer.text and answer.generator == "extractive"
    assert answer.text == quoted.text and answer.supported
