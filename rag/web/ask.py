"""Answers over HTTP under /api/v1 (FastAPI; OpenAPI at /docs).

- `POST /api/v1/ask` → the whole `Answer` as JSON, plus the `conversation_id` it belongs to.
- `POST /api/v1/ask/stream` → server-sent events: `token` (text pieces), `citations` (the
  checked citations and per-sentence support), `answer` (the whole `Answer` with timings), then
  `done`; `error` if it fails midway.
- A conversation keeps its history in the shared database (bounded); a client may instead send
  `history`. Both go through `rag.chat.ChatService`, as every surface does.

Errors have the app's one JSON shape (`rag/web/errors.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field

from index.types import Scope
from rag.answer.types import MAX_QUESTION_CHARS, Answer, Message, Token
from rag.chat import Conversation
from rag.runtime import Runtime
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


def ask_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["answers"])
    chat = runtime.chat

    def conversation(request: AskRequest, principal: Principal) -> Conversation:
        return chat.conversation(principal.caller, request.conversation_id, request.history)

    @router.post("/ask", response_model=AskResponse)
    def ask(request: AskRequest, principal: Caller) -> AskResponse:
        """Answer a question with checked citations."""
        asked_in = conversation(request, principal)
        reply = chat.ask(principal.caller, request.question, asked_in, request.scope(principal))
        return AskResponse(**dict(reply.answer), conversation_id=reply.conversation_id or "")

    @router.post("/ask/stream", response_class=EventSourceResponse)
    def ask_stream(request: AskRequest, principal: Caller) -> Iterator[ServerSentEvent]:
        """Server-sent events: `token`…, `citations`, `answer`, `done`; or an `error` event, as the
        status line has gone out before the question is answered."""
        conversation_id = ""
        try:
            asked_in = conversation(request, principal)
            scope = request.scope(principal)
            for item in chat.stream(principal.caller, request.question, asked_in, scope):
                if isinstance(item, Token):
                    yield ServerSentEvent(data={"text": item.text}, event="token")
                    continue
                answer, conversation_id = item.answer, item.conversation_id or ""
                checked = answer.model_dump(
                    mode="json", include={"citations", "sentences", "supported", "abstained"}
                )
                yield ServerSentEvent(data=checked, event="citations")
                response = AskResponse(**dict(answer), conversation_id=conversation_id)
                yield ServerSentEvent(raw_data=response.model_dump_json(), event="answer")
        except Exception as exc:  # never cut a stream without telling the client
            _, body = error_response(exc)
            yield ServerSentEvent(data=body, event="error")
            return
        yield ServerSentEvent(data={"conversation_id": conversation_id}, event="done")

    return router
