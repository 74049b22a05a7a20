"""The generator seam: turn a question and numbered passages into answer text with [n] markers.

`NOT_FOUND` is the one abstention sentence: the extractive generator writes it, the answer
prompts receive it as the `not_found` variable, and `is_abstention` looks for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from index.types import Hit
from rag.sources import describe_location
from rag.types import Message

__all__ = ["NOT_FOUND", "Generator", "is_abstention", "prompt_passages"]

NOT_FOUND = "The documents do not contain an answer to this question."

_SENTINEL = " ".join(NOT_FOUND.lower().rstrip(".").split())


def is_abstention(text: str) -> bool:
    """Whether an answer says NOT_FOUND (in any case or spacing, possibly among other words)."""
    return _SENTINEL in " ".join(text.lower().split())


def prompt_passages(hits: Sequence[Hit]) -> list[dict[str, str]]:
    """The `passages` variable of the answer prompts: title, location and text of each hit."""
    return [
        {
            "title": hit.chunk.title,
            "location": describe_location(hit.chunk.name, hit.chunk.page),
            "text": hit.chunk.text,
        }
        for hit in hits
    ]


class Generator(Protocol):
    name: str
    prompt_version: str

    def stream(
        self, question: str, hits: Sequence[Hit], history: Sequence[Message] = ()
    ) -> Iterator[str]:
        """Yield the answer text in pieces; markers [n] refer to `hits[n-1]`. `question` is
        the standalone query (a follow-up already rewritten); `history` the recent turns.

        Raises `GenerationError` when the underlying model fails."""
        ...
