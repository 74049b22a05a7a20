"""Answers over HTTP under /api/v1 (FastAPI; OpenAPI at /docs).

- `POST /api/v1/ask` → the whole `Answer` as JSON, plus the `conversation_id` it belongs to.
- `POST /api/v1/ask/stream` → server-sent events: `token` (text pieces), `citations` (the
  checked citations and per-sentence support), `answer` (the whole `Answer` with timings), then
  `done`; `error` if it fails midway.
- A conversation keeps its history in the shared database (bounded); a client may instead send
  `history`.

Errors have the app's one JSON shape (`rag/web/errors.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field

from index.types import Scope
from rag.answer.types import MAX_QUESTION_CHARS, Answer, Message
from rag.errors import InputError
from rag.runtime import Runtime
from rag.stores.conversations import Conversations
from rag.web.auth import Caller, Principal, readable_collections
from rag.web.errors import error_response

__all__ = ["AskRequest", "AskResponse", "ask_router"]


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    conversation_id: str | None = Field(
        None, max_length=64, description="Continue a conversation this API returned earlier."
    )
    history: list[Message] | None = Field(
        None, max_length=50, description="Or pass the earlier messages yourself."
    )
    documents: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None, max_length=100, description="Only search these documents (their ids)."
    )
    collections: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None, max_length=100, description="Only search documents in these collections."
    )

    def scope(self, principal: Principal) -> Scope:
        """What this request may search: what it asks for, within what the caller may read."""
        return Scope.of(self.documents, readable_collections(principal, self.collections))


class AskResponse(Answer):
    conversation_id: str


def ask_router(runtime: Runtime, conversations: Conversations) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["answers"])

    def begin(request: AskRequest, principal: Principal) -> tuple[str, Sequence[Message]]:
        owner = principal.caller
        if request.conversation_id and request.history is not None:
            raise InputError("send either conversation_id or history, not both")
        if request.conversation_id:
            return request.conversation_id, conversations.history(request.conversation_id, owner)
        return conversations.start(owner), request.history or []

    @router.post("/ask", response_model=AskResponse)
    def ask(request: AskRequest, principal: Caller) -> AskResponse:
        """Answer a question with checked citations."""
        conversation_id, history = begin(request, principal)
        answer = runtime.assistant.answer(request.question, history, request.scope(principal))
        conversations.record(conversation_id, request.question, answer.text, answer.citations)
        return AskResponse(**dict(answer), conversation_id=conversation_id)

    @router.post("/ask/stream", response_class=EventSourceResponse)
    def ask_stream(request: AskRequest, principal: Caller) -> Iterator[ServerSentEvent]:
        """Server-sent events: `token`…, `citations`, `answer`, `done`; or an `error` event, as the
        status line has gone out before the question is answered."""
        try:
            conversation_id, history = begin(request, principal)
            for item in runtime.assistant.stream(
                request.question, history, request.scope(principal)
            ):
                if isinstance(item, Answer):
                    conversations.record(
                        conversation_id, request.question, item.text, item.citations
                    )
                    checked = item.model_dump(
                        mode="json", include={"citations", "sentences", "supported", "abstained"}
                    )
                    yield ServerSentEvent(data=checked, event="citations")
                    response = AskResponse(**dict(item), conversation_id=conversation_id)
                    yield ServerSentEvent(raw_data=response.model_dump_json(), event="answer")
                else:
                    yield ServerSentEvent(data={"text": item}, event="token")
        except Exception as exc:  # never cut a stream without telling the client
            _, body = error_response(exc)
            yield ServerSentEvent(data=body, event="error")
            return
        yield ServerSentEvent(data={"conversation_id": conversation_id}, event="done")

    return router
