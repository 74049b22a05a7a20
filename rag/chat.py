"""`ChatService`: asking inside a conversation, the one way every surface asks (the API, the chat
UI, `/v1/chat/completions`, the widget through the API, the CLI).

It answers through the read path (`rag.answer.pipeline.Assistant`), keeps the exchange in the
caller's conversation (started with its first answer), and records a refused question for the
coverage gaps, whichever surface asked. The surface decides who the caller is and what they may
search (the `Scope`); nothing here speaks HTTP. Docent's own probes (the suggested questions)
ask the assistant directly and are never recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from index.types import EVERYTHING, Scope
from rag.answer.pipeline import Assistant
from rag.answer.types import Answer, Message, Token
from rag.errors import InputError
from rag.metrics import observe_answer
from rag.stores.conversations import Conversations
from rag.stores.unanswered import UnansweredLog

__all__ = ["UNKEPT", "ChatEvent", "ChatService", "Conversation", "Reply"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Conversation:
    """Where a question is asked: a kept conversation (`id`, or None for a new one, started
    when its first answer is kept), or, with `kept=False`, history the client holds itself."""

    id: str | None = None
    history: tuple[Message, ...] = ()
    kept: bool = True


@dataclass(frozen=True)
class Reply:
    """The checked answer and the conversation it was kept in (None when not kept)."""

    answer: Answer
    conversation_id: str | None


UNKEPT = Conversation(kept=False)  # no conversation is kept: the client holds the history

ChatEvent = Token | Reply  # what `ChatService.stream` yields: tokens, then one Reply


class ChatService:
    def __init__(
        self, assistant: Assistant, conversations: Conversations, unanswered: UnansweredLog
    ) -> None:
        self.assistant = assistant
        self.conversations = conversations
        self.unanswered = unanswered

    def conversation(
        self,
        caller: str,
        conversation_id: str | None = None,
        history: Sequence[Message] | None = None,
        kept: bool = True,
    ) -> Conversation:
        """The caller's conversation `conversation_id` with its kept history (`InputError` if
        it is not theirs), or a new one: empty, or continuing the `history` the client sent."""
        if conversation_id and history is not None:
            raise InputError("send either conversation_id or history, not both")
        if conversation_id:
            kept_history = self.conversations.history(conversation_id, caller)
            return Conversation(conversation_id, tuple(kept_history))
        return Conversation(None, tuple(history or ()), kept)

    def stream(
        self,
        caller: str,
        question: str,
        conversation: Conversation = UNKEPT,
        scope: Scope = EVERYTHING,
    ) -> Iterator[ChatEvent]:
        """Answer `question` from passages within `scope`: `Token`s as the answer is written,
        then the `Reply`, once the exchange is kept and a refusal recorded."""
        for item in self.assistant.stream(question, conversation.history, scope):
            if isinstance(item, Answer):
                observe_answer(item)
                conversation_id = self._keep(caller, conversation, question, item)
                if item.abstained:
                    self._record_refusal(item.standalone_query)
                yield Reply(item, conversation_id)
            else:
                yield item

    def ask(
        self,
        caller: str,
        question: str,
        conversation: Conversation = UNKEPT,
        scope: Scope = EVERYTHING,
    ) -> Reply:
        for item in self.stream(caller, question, conversation, scope):
            if isinstance(item, Reply):
                return item
        raise AssertionError("stream ended without a Reply")  # unreachable by construction

    def _keep(
        self, caller: str, conversation: Conversation, question: str, answer: Answer
    ) -> str | None:
        if not conversation.kept:
            return None
        conversations = self.conversations
        if conversation.id and conversations.record(
            conversation.id, question, answer.text, answer.citations
        ):
            return conversation.id
        conversation_id = conversations.start(caller)  # a new one, or the old one is gone
        conversations.record(conversation_id, question, answer.text, answer.citations)
        return conversation_id

    def _record_refusal(self, question: str) -> None:
        try:
            self.unanswered.record(question)
        except SQLAlchemyError as exc:  # the gaps view misses one; the answer stands
            log.warning("a refused question was not recorded: %r", exc)
