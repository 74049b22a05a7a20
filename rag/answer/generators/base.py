"""The generator seam: turn a question and numbered passages into answer text with [n] markers.

`NOT_FOUND` is the one abstention sentence: the extractive generator writes it, the answer
prompts receive it as the `not_found` variable, and `is_abstention` looks for it. Nothing else
spells it out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from index.types import Hit
from rag.answer.citations import MARKER, SPACE_BEFORE_PUNCTUATION
from rag.answer.sources import describe_location
from rag.answer.types import Message

__all__ = [
    "NOT_FOUND",
    "Generator",
    "Likely",
    "PromptedGenerator",
    "answer_variables",
    "is_abstention",
    "prompt_history",
    "prompt_passages",
    "unfenced",
]

NOT_FOUND = "The documents do not contain an answer to this question."

_WORD = re.compile(r"[^\W_]+")  # letters and digits: quotes, dashes and punctuation fall away
# The sentence's words with anything but letters and digits between them (spaces, quotes).
_SENTINEL = re.compile(
    r"(?<![^\W_])" + r"[\W_]+".join(_WORD.findall(NOT_FOUND)) + r"(?![^\W_])", re.IGNORECASE
)
# Words an abstention may carry around the sentence ("I'm sorry, but", "Answer:" before it);
# more, or a citation before it, and the reply says something else too: it is an answer.
_LEAD_IN_WORDS = 5
_TRAILING_WORDS = 3
_TURN_CHARS = 600  # an earlier turn longer than this is shortened in the prompt
# The passage fence of the answer prompts (<passage n="1"> … </passage>), in any spelling.
_FENCE_TAG = re.compile(r"<(\s*/?\s*passage)", re.IGNORECASE)


def is_abstention(text: str) -> bool:
    """Whether a reply is NOT_FOUND: in any case, spacing or quotes, with or without its final
    period or [n] markers, after at most a short lead-in. An answer that states something and
    also contains the sentence is not an abstention."""
    found = _SENTINEL.search(text)
    if found is None:
        return False
    before, after = text[: found.start()], MARKER.sub(" ", text[found.end() :])
    return (
        not MARKER.search(before)
        and len(_WORD.findall(before)) <= _LEAD_IN_WORDS
        and len(_WORD.findall(after)) <= _TRAILING_WORDS
    )


def unfenced(text: str) -> str:
    """`text` with any passage fence tag escaped (`&lt;/passage>`), so that a document cannot
    close its passage in the prompt and write outside it."""
    return _FENCE_TAG.sub(r"&lt;\1", text)


def prompt_passages(hits: Sequence[Hit]) -> list[dict[str, str]]:
    """The `passages` variable of the answer prompts: title, location and text of each hit,
    fence tags escaped."""
    return [
        {
            "title": unfenced(hit.chunk.title),
            "location": unfenced(describe_location(hit.chunk.name, hit.chunk.page)),
            "text": unfenced(hit.chunk.text),
        }
        for hit in hits
    ]


def _without_markers(text: str) -> str:
    # Spaces left before punctuation (anchored at a run's start: linear time), as in citations.
    return SPACE_BEFORE_PUNCTUATION.sub("", MARKER.sub("", text))


def prompt_history(history: Sequence[Message]) -> list[dict[str, str]]:
    """The `history` variable of the answer prompts: each turn's role and text on one line,
    shortened; earlier answers lose their [n] markers, which numbered other passages."""
    turns = []
    for message in history:
        text = message.content if message.role == "user" else _without_markers(message.content)
        text = unfenced(" ".join(text.split()))
        if len(text) > _TURN_CHARS:
            text = text[:_TURN_CHARS].rsplit(" ", 1)[0] + " …"
        turns.append({"role": message.role, "content": text})
    return turns


@dataclass(frozen=True)
class Likely:
    """The reader's best span, offered to a language model as the likely answer: the words
    and the number of the passage they are in."""

    number: int
    text: str


def answer_variables(
    declared: frozenset[str],
    question: str,
    passages: list[dict[str, str]],
    history: list[dict[str, str]],
    likely: Likely | None = None,
) -> dict[str, Any]:
    """The values an answer prompt is rendered with; `history` and `likely` only for a prompt
    that declares them (older versions predate them and stay loadable)."""
    values: dict[str, Any] = {"question": question, "passages": passages, "not_found": NOT_FOUND}
    if "history" in declared:
        values["history"] = history
    if "likely" in declared:
        values["likely"] = (
            None if likely is None else {"number": likely.number, "text": unfenced(likely.text)}
        )
    return values


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


class PromptedGenerator(Protocol):
    """A language model behind an answer prompt: a `Generator` that may be offered the
    reader's likely answer."""

    name: str
    prompt_version: str

    def stream(
        self,
        question: str,
        hits: Sequence[Hit],
        history: Sequence[Message] = (),
        likely: Likely | None = None,
    ) -> Iterator[str]: ...
