"""The data between the read path's stages, typed: a `Question` (with its history and scope)
becomes a `Query` (the standalone question), then `Retrieved` (the passages found), then
`Token`s as the answer is written and the final `Answer` with checked citations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from index.types import EVERYTHING, Chunk, Hit, Scope
from rag.errors import InputError

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_QUESTION_CHARS",
    "Answer",
    "Chunk",
    "Citation",
    "Hit",
    "Message",
    "Query",
    "Question",
    "Retrieved",
    "SentenceSupport",
    "ShortAnswer",
    "StreamEvent",
    "Token",
]

MAX_QUESTION_CHARS = 2000
MAX_ANSWER_CHARS = 8000


class Message(BaseModel):
    """One turn of a conversation; user turns are bounded like questions."""

    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_ANSWER_CHARS)

    @model_validator(mode="after")
    def _bounded(self) -> Message:
        if self.role == "user" and len(self.content) > MAX_QUESTION_CHARS:
            raise ValueError(f"a user message is longer than {MAX_QUESTION_CHARS} characters")
        return self


class Citation(BaseModel):
    """Marker `[n]` of the answer: passage n of `Answer.retrieved` (1-based)."""

    n: int
    chunk_id: str
    document_id: str
    name: str = Field(description="The cited document's display name.")
    title: str
    page: int | None
    location: str | None = Field(
        default=None, description="Where in the document, as shown: 'page 3', 'slide 2', 'sheet 1'."
    )
    start: int
    end: int
    passage: str
    highlights: list[tuple[int, int]] = Field(
        description="Spans of the cited sentences inside `passage`, in answer order."
    )
    score: float


class SentenceSupport(BaseModel):
    """How well one answer sentence is backed by the passages it cites."""

    start: int = Field(description="Character span of the sentence inside `Answer.text`.")
    end: int
    cites: list[int] = Field(description="The marker numbers in the sentence.")
    score: float = Field(description="Best support against a cited passage, 0..1; 0 if none.")
    supported: bool = Field(description="`score` reaches the support threshold.")


class ShortAnswer(BaseModel):
    """The span of a cited passage that answers the question (a number, a date, a name)."""

    n: int = Field(description="The citation whose passage holds it.")
    start: int = Field(description="Character span inside that citation's `passage`.")
    end: int
    text: str
    answer_span: tuple[int, int] | None = Field(
        default=None, description="Where `Answer.text` quotes it (shown in bold), if it does."
    )


class Answer(BaseModel):
    text: str
    citations: list[Citation]
    retrieved: list[Hit]
    standalone_query: str
    prompt_version: str
    generator: str
    abstained: bool = Field(description="The answer says the documents do not contain it.")
    supported: bool = Field(
        description="Valid citations back the answer and every citing sentence is supported."
    )
    short_answer: ShortAnswer | None = Field(
        default=None, description="The answering span inside a cited sentence; None on abstention."
    )
    dropped_markers: list[int] = Field(default_factory=list)
    sentences: list[SentenceSupport] = Field(
        default_factory=list, description="Support of each answer sentence (empty on abstention)."
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def kept(cls, text: str, citations: list[Citation]) -> Answer:
        """An answer as a conversation keeps it: its text and citations (no passages beyond
        the cited ones, no short answer or support scores)."""
        return cls(
            text=text,
            citations=citations,
            retrieved=[],
            standalone_query="",
            prompt_version="",
            generator="",
            abstained=False,
            supported=True,
        )


@dataclass(frozen=True)
class Question:
    """What was asked: bounded and not blank (`InputError` otherwise), with the conversation so
    far and the passages it may search."""

    text: str
    history: tuple[Message, ...] = ()
    scope: Scope = EVERYTHING

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self.text.strip())
        if not self.text:
            raise InputError("the question is empty")
        if len(self.text) > MAX_QUESTION_CHARS:
            raise InputError(f"the question is longer than {MAX_QUESTION_CHARS} characters")


@dataclass(frozen=True)
class Query:
    """The question as one standalone search (a follow-up rewritten with its history), and the
    recent turns a generator may read."""

    question: Question
    standalone: str
    recent: tuple[Message, ...]
    condense_ms: float = 0.0


@dataclass(frozen=True)
class Retrieved:
    """The passages found for a query, neutralised (`rag.answer.untrusted`), best first."""

    query: Query
    hits: list[Hit] = field(default_factory=list)
    retrieve_ms: float = 0.0


@dataclass(frozen=True)
class Token:
    """A piece of answer text as it is written (neutralised; citations not yet checked)."""

    text: str


StreamEvent = Token | Answer  # what `Assistant.stream` yields: tokens, then one Answer
