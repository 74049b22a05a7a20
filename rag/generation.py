"""The generator seam: turn a question and numbered passages into answer text with [n] markers.

Two implementations share the `Generator` protocol:
- `ExtractiveGenerator` (default) quotes the passage sentences that best answer the question
  and needs no language model; it abstains when the best evidence is weak.
- `ChatGenerator` asks any LangChain chat model (an OpenAI-compatible server in production)
  with the versioned answer prompt, streaming its tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from index.errors import GenerationError
from index.types import Hit
from rag.prompts import Prompt
from rag.sentences import content_tokens, passage_units

__all__ = ["NOT_FOUND", "ChatGenerator", "ExtractiveGenerator", "Generator", "is_abstention"]

NOT_FOUND = "The documents do not contain an answer to this question."


def is_abstention(text: str) -> bool:
    lowered = text.lower()
    return "do not contain an answer" in lowered or "not in the documents" in lowered


def location(hit: Hit) -> str:
    page = f", page {hit.chunk.page}" if hit.chunk.page is not None else ""
    return f"{hit.chunk.source.rsplit('/', 1)[-1]}{page}"


def prompt_passages(hits: Sequence[Hit]) -> list[dict[str, str]]:
    """The `passages` variable of the answer prompts: title, location and text of each hit."""
    return [
        {"title": hit.chunk.title, "location": location(hit), "text": hit.chunk.text}
        for hit in hits
    ]


class Generator(Protocol):
    name: str
    prompt_version: str

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str]:
        """Yield the answer text in pieces; markers [n] refer to `hits[n-1]`.

        Raises `GenerationError` when the underlying model fails."""
        ...


_MARKUP = re.compile(r"^(?:[#>*\-+|]+\s*|\d+[.)]\s+)+|\*\*|__|`")


def _plain(sentence: str) -> str:
    """A passage sentence without Markdown list, heading and emphasis marks."""
    return _MARKUP.sub("", sentence).strip()


def _cite(sentence: str, number: int) -> str:
    """Put the marker before the closing punctuation: 'It is 25 days [1].'"""
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{number}]{sentence[-1]}"
    return f"{sentence} [{number}]"


class ExtractiveGenerator:
    """Scores every sentence of the passages by meaning (embedding cosine) and word overlap
    with the question, and answers with the best one or few, each cited."""

    name = "extractive"
    prompt_version = "extractive.v1"

    def __init__(
        self,
        embeddings: Embeddings,
        min_evidence: float,
        max_sentences: int,
        semantic_weight: float = 0.6,
    ) -> None:
        self.embeddings = embeddings
        self.min_evidence = min_evidence
        self.max_sentences = max_sentences
        self.semantic_weight = semantic_weight

    def score_sentences(self, question: str, hits: Sequence[Hit]) -> list[tuple[float, int, str]]:
        """(score, passage number, plain sentence) for every candidate sentence, best first."""
        candidates = []
        for number, hit in enumerate(hits, start=1):
            units = passage_units(hit.chunk.text)
            for index, (_, _, reading) in enumerate(units):
                sentence = _plain(" ".join(reading.split()))
                cut_at_start = index == 0 and sentence[:1].islower()
                cut_at_end = index == len(units) - 1 and sentence[-1:] not in ".!?:)\"'"
                if len(sentence.split()) >= 4 and not cut_at_start and not cut_at_end:
                    candidates.append((number, sentence))
        if not candidates:
            return []
        question_vector = np.asarray(self.embeddings.embed_query(question))
        vectors = np.asarray(self.embeddings.embed_documents([s for _, s in candidates]))
        cosines = vectors @ question_vector
        wanted = content_tokens(question)
        scored = []
        for (number, sentence), cosine in zip(candidates, cosines, strict=True):
            overlap = len(wanted & content_tokens(sentence)) / len(wanted) if wanted else 0.0
            score = self.semantic_weight * float(cosine) + (1 - self.semantic_weight) * overlap
            scored.append((score, number, sentence))
        return sorted(scored, key=lambda item: item[0], reverse=True)

    def compose(self, scored: Sequence[tuple[float, int, str]], min_evidence: float) -> str:
        """The answer for sentences scored by `score_sentences`: the best one or few, each
        cited, or NOT_FOUND when the best scores below `min_evidence`."""
        if not scored or scored[0][0] < min_evidence:
            return NOT_FOUND
        best = scored[0][0]
        chosen: list[tuple[float, int, str]] = []
        for score, number, sentence in scored:
            if len(chosen) == self.max_sentences or score < max(min_evidence, best - 0.08):
                break
            if all(sentence != other for _, _, other in chosen):
                chosen.append((score, number, sentence))
        return " ".join(_cite(sentence, number) for _, number, sentence in chosen)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str]:
        yield self.compose(self.score_sentences(question, hits), self.min_evidence)


class ChatGenerator:
    """Any LangChain chat model with the versioned answer prompt; tokens are streamed."""

    name = "openai"

    def __init__(self, model: BaseChatModel, prompt: Prompt) -> None:
        self.model = model
        self.prompt = prompt
        self.prompt_version = prompt.id

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str]:
        messages = self.prompt.render(question=question, passages=prompt_passages(hits))
        try:
            for piece in self.model.stream(messages):
                if piece.text:
                    yield piece.text
        except Exception as exc:  # the model boundary: any client failure becomes ours
            raise GenerationError(f"the chat model failed: {exc}") from exc
