"""Any LangChain chat model (an OpenAI-compatible server in production) answering with the
versioned answer prompt (answer.v5 by default: the standalone query, the recent conversation as
context, the numbered passages fenced as untrusted data); tokens are streamed."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from index.types import Hit
from rag.answer.types import Message

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

from rag.answer.generators.base import Likely, answer_variables, prompt_history, prompt_passages
from rag.answer.prompts import Prompt
from rag.errors import GenerationError

__all__ = ["ChatGenerator"]

log = logging.getLogger(__name__)


class ChatGenerator:
    """Any LangChain chat model with the versioned answer prompt; tokens are streamed."""

    name = "openai"

    def __init__(self, model: BaseChatModel, prompt: Prompt) -> None:
        self.model = model
        self.prompt = prompt
        self.prompt_version = prompt.id

    def stream(
        self,
        question: str,
        hits: Sequence[Hit],
        history: Sequence[Message] = (),
        likely: Likely | None = None,
    ) -> Iterator[str]:
        messages = self.prompt.render(
            **answer_variables(
                self.prompt.variables,
                question,
                prompt_passages(hits),
                prompt_history(history),
                likely,
            )
        )
        try:
            for piece in self.model.stream(messages):
                if piece.text:
                    yield piece.text
        except Exception as exc:  # the model boundary: any client failure becomes ours
            # The provider's message may name accounts or hosts: it goes to the log only.
            log.warning("the chat model failed: %s", exc)
            raise GenerationError("the chat model failed to answer") from exc
