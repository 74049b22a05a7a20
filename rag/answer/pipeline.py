"""`Assistant.answer(question, history) -> Answer`: the one read path behind every surface.

question (+ history) → standalone query → hybrid retrieval → generator → checked citations.
The first two steps are a LangChain runnable chain; generation streams.

Citations are checked whoever wrote the answer (`rag/answer/grounding.py`): each sentence keeps,
moves or loses its citation by the support of the passages. Behind a language model, the
extractive generator is the `fallback`: when the model refuses although the evidence decision
let it answer, or nothing it wrote is supported, the answer is the quoted sentence the reader
found, so both paths answer and refuse the same questions. Surfaces that stream show the final
`Answer.text` once it arrives.

Document text is untrusted (`rag/answer/untrusted.py`): the retrieved passages are neutralised here,
before the generator or any client sees them, and so is the generated text as it streams, so
no surface returns a remote image, a link or raw HTML that a document (or a model it
instructed) wrote.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda
from sqlalchemy.exc import SQLAlchemyError

from index.types import EVERYTHING, Scope
from rag.answer.citations import MARKER, check_citations
from rag.answer.condense import Condenser
from rag.answer.generators import Generator, is_abstention
from rag.answer.grounding import ground
from rag.answer.retrieval import HybridRetriever
from rag.answer.short_answer import ShortAnswerFinder, locate
from rag.answer.support import SupportScorer
from rag.answer.types import MAX_QUESTION_CHARS, Answer, Message
from rag.answer.untrusted import StreamNeutraliser, neutral_hits
from rag.errors import InputError
from rag.stores.unanswered import UnansweredLog

__all__ = ["Assistant"]

log = logging.getLogger(__name__)

State = dict[str, Any]


def _timed(name: str, step: Callable[[State], State]) -> Runnable[State, State]:
    def run(state: State) -> State:
        started = time.perf_counter()
        update = step(state)
        timings = {**state["timings"], name: (time.perf_counter() - started) * 1000}
        return {**state, **update, "timings": timings}

    return RunnableLambda(run, name=name)


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
        # Where refused questions are recorded for the coverage gaps (the web app sets it).
        self.unanswered: UnansweredLog | None = None
        self._prepare = _timed("condense", self._condense) | _timed("retrieve", self._retrieve)

    def _condense(self, state: State) -> State:
        history = state["history"][-self.history_turns :] if self.history_turns else []
        standalone = self.condenser.condense(state["question"], history)
        return {"standalone": standalone[:MAX_QUESTION_CHARS]}  # bounded whatever the history

    def _retrieve(self, state: State) -> State:
        hits = self.retriever.retrieve(state["standalone"], scope=state["scope"])
        return {"hits": neutral_hits(hits)}

    def stream(
        self,
        question: str,
        history: Sequence[Message] = (),
        scope: Scope = EVERYTHING,
        probe: bool = False,
    ) -> Iterator[str | Answer]:
        """Yield answer text pieces as they are generated, then the final checked `Answer`.
        Only passages within `scope` (documents, collections) may be retrieved. A `probe`
        (Docent trying a question of its own) is never recorded as a coverage gap."""
        question = question.strip()
        if not question:
            raise InputError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        started = time.perf_counter()
        state = self._prepare.invoke(
            {
                "question": question,
                "history": list(history),
                "scope": scope,
                "timings": {},
            }
        )
        hits = state["hits"]
        generation_started = time.perf_counter()
        neutral = StreamNeutraliser()
        recent = state["history"][-self.history_turns :] if self.history_turns else []
        for piece in self.generator.stream(state["standalone"], hits, recent):
            if shown := neutral.feed(piece):
                yield shown
        if shown := neutral.close():
            yield shown
        first = check_citations(neutral.text, hits)  # markers 1..len(hits) only
        text, answered_by = first.text, self.generator
        if not is_abstention(text):
            text = ground(text, hits, self.support, self.drop_unsupported).text
        if self.fallback is not None and (is_abstention(text) or not MARKER.search(text)):
            # The model refused, or nothing it wrote holds: the reader's quoted sentence (or
            # the same refusal as the extractive path's).
            text = "".join(self.fallback.stream(state["standalone"], hits, recent))
            if not is_abstention(text):
                answered_by = self.fallback
        checked = check_citations(text, hits)
        checked.dropped[:0] = first.dropped
        abstained = is_abstention(checked.text)
        sentences = [] if abstained else self.support.score(checked.text, checked.citations)
        finder = self.short_answers
        short = (
            None if abstained else finder.find(state["standalone"], checked.text, checked.citations)
        )
        short_answer = locate(short, checked.text) if short else None
        timings = {
            **state["timings"],
            "generate": (time.perf_counter() - generation_started) * 1000,
            "total": (time.perf_counter() - started) * 1000,
        }
        answer = Answer(
            text=checked.text,
            citations=checked.citations,
            retrieved=hits,
            standalone_query=state["standalone"],
            prompt_version=answered_by.prompt_version,
            generator=answered_by.name,
            abstained=abstained,
            supported=not abstained
            and bool(checked.citations)
            and all(s.supported for s in sentences),
            short_answer=short_answer,
            dropped_markers=checked.dropped,
            sentences=sentences,
            timings_ms={name: round(ms, 1) for name, ms in timings.items()},
        )
        if abstained and self.unanswered is not None and not probe:
            try:
                self.unanswered.record(state["standalone"])
            except SQLAlchemyError as exc:  # the gaps view misses one; the answer stands
                log.warning("a refused question was not recorded: %r", exc)
        log.info(
            "answered in %.0f ms; retrieved=%s cited=%s prompt=%s abstained=%s",
            timings["total"],
            [h.chunk.id[:8] for h in hits],
            [c.chunk_id[:8] for c in answer.citations],
            answer.prompt_version,
            answer.abstained,
        )
        yield answer

    def answer(
        self,
        question: str,
        history: Sequence[Message] = (),
        scope: Scope = EVERYTHING,
        probe: bool = False,
    ) -> Answer:
        for item in self.stream(question, history, scope, probe):
            if isinstance(item, Answer):
                return item
        raise AssertionError("stream ended without an Answer")  # unreachable by construction
