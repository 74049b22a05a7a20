"""`Assistant`: the one read path behind every surface, in typed stages that can each be called
and tested alone:

    Question --condense--> Query --retrieve--> Retrieved --generate--> Token..., Answer

`condense` rewrites a follow-up as a standalone question; `retrieve` runs the hybrid search
within the question's scope; `generate` streams the generator's text and ends with the checked
`Answer`. The stages are plain methods over frozen dataclasses (`rag.answer.types`), not
LangChain runnables: nothing here needs a runnable's callbacks or composition, and typed
methods keep `question` visible from end to end. LangChain stays at the model boundary
(`generators/chat.py`, `condense.py`). Nothing here writes to the database:
`rag.chat.ChatService` keeps conversations and refused questions.

Citations are checked whoever wrote the answer (`grounding.py`): each sentence keeps, moves or
loses its citation by the support of the passages. Behind a language model, the extractive
generator is the `fallback`: when the model refuses although the evidence decision let it
answer, or nothing it wrote is supported, the answer is the quoted sentence the reader found,
so both paths answer and refuse the same questions. Surfaces that stream show the final
`Answer.text` once it arrives.

Document text is untrusted (`untrusted.py`): the retrieved passages are neutralised here,
before the generator or any client sees them, and so is the generated text as it streams, so
no surface returns a remote image, a link or raw HTML that a document (or a model it
instructed) wrote.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence

from index.types import EVERYTHING, Scope
from rag.answer.citations import MARKER, check_citations
from rag.answer.condense import Condenser
from rag.answer.generators import Generator, is_abstention
from rag.answer.grounding import ground
from rag.answer.retrieval import HybridRetriever
from rag.answer.short_answer import ShortAnswerFinder, locate
from rag.answer.support import SupportScorer
from rag.answer.types import (
    MAX_QUESTION_CHARS,
    Answer,
    Message,
    Query,
    Question,
    Retrieved,
    StreamEvent,
    Token,
)
from rag.answer.untrusted import StreamNeutraliser, neutral_hits

__all__ = ["Assistant"]

log = logging.getLogger(__name__)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class Assistant:
    def __init__(
        self,
        retriever: HybridRetriever,
        generator: Generator,
        condenser: Condenser,
        support: SupportScorer,
        short_answers: ShortAnswerFinder,
        history_turns: int,
        fallback: Generator | None = None,
        drop_unsupported: bool = False,
    ) -> None:
        self.retriever = retriever
        self.generator = generator
        self.condenser = condenser
        self.support = support
        self.short_answers = short_answers
        self.history_turns = history_turns
        self.fallback = fallback
        self.drop_unsupported = drop_unsupported

    def condense(self, question: Question) -> Query:
        """The question as one standalone search, bounded whatever the history."""
        started = time.perf_counter()
        recent = question.history[-self.history_turns :] if self.history_turns else ()
        standalone = self.condenser.condense(question.text, list(recent))
        return Query(question, standalone[:MAX_QUESTION_CHARS], recent, _ms_since(started))

    def retrieve(self, query: Query) -> Retrieved:
        started = time.perf_counter()
        hits = self.retriever.retrieve(query.standalone, scope=query.question.scope)
        return Retrieved(query, neutral_hits(hits), _ms_since(started))

    def generate(self, retrieved: Retrieved) -> Iterator[StreamEvent]:
        """The generator's text as it comes, then the `Answer` with checked citations."""
        started = time.perf_counter()
        query, hits = retrieved.query, retrieved.hits
        recent = list(query.recent)
        neutral = StreamNeutraliser()
        for piece in self.generator.stream(query.standalone, hits, recent):
            if shown := neutral.feed(piece):
                yield Token(shown)
        if shown := neutral.close():
            yield Token(shown)
        first = check_citations(neutral.text, hits)  # markers 1..len(hits) only
        text, answered_by = first.text, self.generator
        if not is_abstention(text):
            text = ground(text, hits, self.support, self.drop_unsupported).text
        if self.fallback is not None and (is_abstention(text) or not MARKER.search(text)):
            # The model refused, or nothing it wrote holds: the reader's quoted sentence (or
            # the same refusal as the extractive path's).
            text = "".join(self.fallback.stream(query.standalone, hits, recent))
            if not is_abstention(text):
                answered_by = self.fallback
        checked = check_citations(text, hits)
        checked.dropped[:0] = first.dropped
        abstained = is_abstention(checked.text)
        sentences = [] if abstained else self.support.score(checked.text, checked.citations)
        finder = self.short_answers
        short = (
            None if abstained else finder.find(query.standalone, checked.text, checked.citations)
        )
        generate_ms = _ms_since(started)
        timings = {
            "condense": query.condense_ms,
            "retrieve": retrieved.retrieve_ms,
            "generate": generate_ms,
            "total": query.condense_ms + retrieved.retrieve_ms + generate_ms,
        }
        log.info(
            "answered in %.0f ms; retrieved=%s cited=%s prompt=%s abstained=%s",
            timings["total"],
            [h.chunk.id[:8] for h in hits],
            [c.chunk_id[:8] for c in checked.citations],
            answered_by.prompt_version,
            abstained,
        )
        yield Answer(
            text=checked.text,
            citations=checked.citations,
            retrieved=hits,
            standalone_query=query.standalone,
            prompt_version=answered_by.prompt_version,
            generator=answered_by.name,
            abstained=abstained,
            supported=not abstained
            and bool(checked.citations)
            and all(s.supported for s in sentences),
            short_answer=locate(short, checked.text) if short else None,
            dropped_markers=checked.dropped,
            sentences=sentences,
            timings_ms={name: round(ms, 1) for name, ms in timings.items()},
        )

    def stream(
        self, question: str, history: Sequence[Message] = (), scope: Scope = EVERYTHING
    ) -> Iterator[StreamEvent]:
        """Answer `question` (`InputError` if blank or too long) from passages within `scope`:
        `Token`s as they are generated, then the final checked `Answer`."""
        asked = Question(question, tuple(history), scope)
        yield from self.generate(self.retrieve(self.condense(asked)))

    def answer(
        self, question: str, history: Sequence[Message] = (), scope: Scope = EVERYTHING
    ) -> Answer:
        for item in self.stream(question, history, scope):
            if isinstance(item, Answer):
                return item
        raise AssertionError("stream ended without an Answer")  # unreachable by construction
