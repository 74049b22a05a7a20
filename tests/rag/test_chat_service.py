"""The read path's typed stages, each called alone, and `ChatService`, the one way a surface
asks inside a conversation: it keeps the exchange and records refusals whoever asks."""

from __future__ import annotations

import pytest

from index.embeddings import Encoder
from index.types import Scope
from rag.answer.types import Answer, Message, Query, Question, Retrieved, Token
from rag.chat import UNKEPT, Conversation, Reply
from rag.errors import InputError
from rag.runtime import Runtime, build_runtime
from tests.helpers import SAMPLES, make_settings

VACATION = "How many vacation days does a full-time employee get each year?"
UNANSWERABLE = "What is the airspeed velocity of an unladen swallow?"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder) -> Runtime:
    data = tmp_path_factory.mktemp("chat") / "data"
    runtime = build_runtime(make_settings(data), embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "leave-policy.md", SAMPLES / "expenses.md"])
    return runtime


def test_each_stage_of_the_read_path_runs_alone(runtime: Runtime) -> None:
    assistant = runtime.assistant
    history = (
        Message(role="user", content=VACATION),
        Message(role="assistant", content="26 days [1]."),
    )
    question = Question("  And can unused days be carried over?  ", history)
    assert question.text == "And can unused days be carried over?"
    query = assistant.condense(question)
    assert isinstance(query, Query) and query.question is question
    assert query.standalone != question.text and "carried over" in query.standalone
    assert query.recent == history[-assistant.history_turns :]
    retrieved = assistant.retrieve(query)
    assert isinstance(retrieved, Retrieved) and retrieved.query is query
    assert retrieved.hits and retrieved.hits[0].chunk.name == "leave-policy.md"
    *tokens, answer = list(assistant.generate(retrieved))
    assert tokens and all(isinstance(t, Token) for t in tokens)
    assert isinstance(answer, Answer) and not answer.abstained
    assert "".join(t.text for t in tokens).strip(), "the text arrives as it is written"
    assert answer.standalone_query == query.standalone
    assert set(answer.timings_ms) == {"condense", "retrieve", "generate", "total"}


def test_a_question_is_bounded_before_any_work(runtime: Runtime) -> None:
    with pytest.raises(InputError, match="empty"):
        Question("   ")
    with pytest.raises(InputError, match="longer than"):
        Question("why? " * 1000)
    scoped = Question(VACATION, scope=Scope.of(documents=["nothing-such"]))
    retrieved = runtime.assistant.retrieve(runtime.assistant.condense(scoped))
    assert retrieved.hits == [], "only passages within the scope"


def test_a_kept_conversation_holds_each_exchange_for_its_caller(runtime: Runtime) -> None:
    chat, conversations = runtime.chat, runtime.stores.conversations
    first = chat.ask("key:ana", VACATION, chat.conversation("key:ana"))
    assert isinstance(first, Reply) and first.conversation_id
    assert "26" in first.answer.text
    follow_up = chat.conversation("key:ana", first.conversation_id)
    assert [m.role for m in follow_up.history] == ["user", "assistant"]
    second = chat.ask("key:ana", "And can unused days be carried over?", follow_up)
    assert second.conversation_id == first.conversation_id
    assert len(conversations.history(first.conversation_id, "key:ana")) == 4
    with pytest.raises(InputError, match="unknown or expired"):
        chat.conversation("key:bob", first.conversation_id)  # not Bob's
    with pytest.raises(InputError, match="either"):
        chat.conversation("key:ana", first.conversation_id, history=[])


def test_a_conversation_gone_meanwhile_goes_on_in_a_new_one(runtime: Runtime) -> None:
    chat, conversations = runtime.chat, runtime.stores.conversations
    first = chat.ask("key:dan", VACATION, chat.conversation("key:dan"))
    assert first.conversation_id
    conversations.delete(first.conversation_id, "key:dan")
    again = chat.ask("key:dan", VACATION, Conversation(first.conversation_id))
    assert again.conversation_id not in (None, first.conversation_id)
    assert len(conversations.history(again.conversation_id or "", "key:dan")) == 2


def test_a_client_held_conversation_is_not_kept(runtime: Runtime) -> None:
    before = runtime.stores.conversations.list("key:cleo")
    held = Conversation(history=(Message(role="user", content=VACATION),), kept=False)
    reply = runtime.chat.ask("key:cleo", "How many days?", held)
    assert reply.conversation_id is None and not reply.answer.abstained
    assert runtime.chat.ask("key:cleo", VACATION, UNKEPT).conversation_id is None
    assert runtime.stores.conversations.list("key:cleo") == before == []


def test_refusals_are_recorded_whoever_asks_and_probes_are_not(runtime: Runtime) -> None:
    gaps = runtime.stores.unanswered
    before = len(gaps.recent(1000))
    assert runtime.assistant.answer(UNANSWERABLE).abstained  # the read path writes nothing
    assert len(gaps.recent(1000)) == before
    events = list(runtime.chat.stream("cli", UNANSWERABLE))
    reply = events[-1]
    assert isinstance(reply, Reply) and reply.answer.abstained
    assert all(isinstance(e, Token) for e in events[:-1])
    recorded = gaps.recent(1000)
    assert len(recorded) == before + 1 and recorded[0][0] == reply.answer.standalone_query
    runtime.chat.ask("cli", VACATION)
    assert len(gaps.recent(1000)) == before + 1, "an answer is no gap"
