"""An OpenAI-compatible face: `POST /v1/chat/completions` (plain and streamed) and
`GET /v1/models`, so any OpenAI client or chat front-end can use Docent as a "model".

The last user message is the question and earlier user/assistant messages are the history
(system messages are ignored: Docent's own prompts decide how it answers). The client holds
the conversation, so Docent keeps none; a refused question is recorded for the coverage gaps as
on every surface (`rag.chat.ChatService`). Sources appear in the
content as [n] markers and in an extra `citations` field, the same citations as `/api/v1/ask`;
`sentences` says which answer sentences the passages support (`supported: false` is shown as
unsupported). A streamed answer's last chunk also carries `text`: the checked answer, whose
citations may differ from the streamed tokens (a citation moved to the passage that supports
its sentence, or removed); a client that shows citations shows that text.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel, Field, ValidationError

from index.types import Scope
from rag.answer.types import MAX_ANSWER_CHARS, MAX_QUESTION_CHARS, Answer, Message, Token
from rag.chat import Conversation
from rag.errors import InputError
from rag.runtime import Runtime
from rag.web.auth import Caller, readable_collections
from rag.web.errors import error_response

__all__ = ["MODEL_ID", "ChatRequest", "openai_router"]

MODEL_ID = "docent"


class TextPart(BaseModel):
    type: Literal["text"] = "text"
    text: str = Field(max_length=MAX_ANSWER_CHARS)


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = Field(None, max_length=MAX_ANSWER_CHARS)

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    # Accepted for compatibility; Docent's answers do not depend on them.
    temperature: float | None = None
    max_tokens: int | None = None
    user: str | None = Field(None, max_length=256)


def _question_and_history(request: ChatRequest) -> tuple[str, list[Message]]:
    turns = [m for m in request.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise InputError("the last message must come from the user")
    try:
        history = [Message(role=m.role, content=m.text()) for m in turns[:-1]]
    except ValidationError as exc:
        raise InputError(f"a message is too long: {exc.errors()[0]['msg']}") from exc
    question = turns[-1].text()
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    return question, history


def _client_held(history: list[Message]) -> Conversation:
    """The client keeps an OpenAI-style conversation: Docent saves none."""
    return Conversation(history=tuple(history), kept=False)


def _completion_base() -> dict[str, Any]:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": MODEL_ID}


def _checked(answer: Answer) -> dict[str, Any]:
    """Docent's fields beside OpenAI's: the citations and each sentence's support."""
    return {
        "citations": [citation.model_dump() for citation in answer.citations],
        "sentences": [sentence.model_dump() for sentence in answer.sentences],
        "supported": answer.supported,
    }


def _event(payload: dict[str, Any]) -> bytes:
    return format_sse_event(data_str=json.dumps(payload, default=str))


def openai_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["openai-compatible"])

    @router.get("/models")
    def models(_: Caller) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "docent"}],
        }

    @router.post("/chat/completions", response_model=None)
    def chat_completions(
        request: ChatRequest, principal: Caller
    ) -> dict[str, Any] | EventSourceResponse:
        question, history = _question_and_history(request)
        scope = Scope.of(collections=readable_collections(principal, None))
        if request.stream:
            return EventSourceResponse(_stream(principal.caller, question, history, scope))
        answer = runtime.chat.ask(principal.caller, question, _client_held(history), scope).answer
        return {
            **_completion_base(),
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer.text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **_checked(answer),
        }

    def _stream(
        caller: str, question: str, history: list[Message], scope: Scope
    ) -> Iterator[bytes]:
        base = {**_completion_base(), "object": "chat.completion.chunk"}

        def chunk(delta: dict[str, Any], finish: str | None, **extra: Any) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return _event({**base, "choices": [choice], **extra})

        yield chunk({"role": "assistant", "content": ""}, None)
        try:
            for item in runtime.chat.stream(caller, question, _client_held(history), scope):
                if isinstance(item, Token):
                    yield chunk({"content": item.text}, None)
                else:
                    yield chunk({}, "stop", text=item.answer.text, **_checked(item.answer))
        except Exception as exc:  # never cut a stream without telling the client
            _, body = error_response(exc)
            yield _event(body)
        yield format_sse_event(data_str="[DONE]")

    return router
