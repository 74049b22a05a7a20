"""Follow-up questions become standalone search queries, using the conversation so far."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

from rag.answer.prompts import Prompt
from rag.answer.types import Message
from rag.errors import GenerationError

log = logging.getLogger(__name__)

__all__ = ["ChatCondenser", "Condenser", "RuleCondenser"]


class Condenser(Protocol):
    def condense(self, question: str, history: Sequence[Message]) -> str:
        """A query that can be searched without the history."""
        ...


_REFERRING = re.compile(
    r"\b(it|its|it's|this|that|these|those|they|them|their|there|he|she|his|her|one|ones)\b"
    r"|^(and|also|what about|how about|but|so|then)\b",
    re.IGNORECASE,
)


_CONTEXT_CHARS = 300  # of the previous question, appended as context


class RuleCondenser:
    """Without a language model: a question that refers back (a pronoun, 'and…', 'what about…')
    or is very short gets the previous user question appended as context."""

    def condense(self, question: str, history: Sequence[Message]) -> str:
        previous = [m.content for m in history if m.role == "user"]
        if not previous:
            return question
        if _REFERRING.search(question) or len(question.split()) <= 3:
            return f"{question} ({previous[-1][:_CONTEXT_CHARS]})"
        return question


class ChatCondenser:
    """Asks the chat model to rewrite the question with the condense prompt."""

    def __init__(self, model: BaseChatModel, prompt: Prompt) -> None:
        self.model = model
        self.prompt = prompt

    def condense(self, question: str, history: Sequence[Message]) -> str:
        if not history:
            return question
        messages = self.prompt.render(history=[m.model_dump() for m in history], question=question)
        try:
            rewritten = self.model.invoke(messages).text.strip()
        except Exception as exc:  # the model boundary
            log.warning("the chat model failed to rewrite a question: %s", exc)
            raise GenerationError("the chat model failed to rewrite the question") from exc
        return rewritten.splitlines()[0].strip() if rewritten else question
