"""Answer quality on a SQuAD-style set: Docent answers every question over an index of all the
passages, and each answer is scored against the gold passage and the accepted answers.

- gold recall@k: the gold passage is among the k passages handed to the generator;
- exact match / token F1 (answerable questions; an abstention scores 0), and "answer in
  text": the answer contains an accepted answer (fairer to an answerer that quotes sentences);
- abstention rate on unanswerable questions, false abstention rate on answerable ones;
- short exact match / short F1: the same for `Answer.short_answer` (the span inside the quoted
  sentence), the way SQuAD scores a reader;
- echoes: answers to answerable questions that quote a heading or title, a question, or a
  sentence that only restates the question (`restates`);
- citation precision: share of citations that point into the retrieved set and whose citing
  sentences are supported by the cited passage (support score ≥ `min_support`);
- answer-bearing citations: share of citations on answerable questions whose passage
  contains an accepted answer;
- model-written (a language model's path only): share of the answers, refusals aside, whose
  text the model wrote rather than its extractive fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from index.sentences import content_tokens, sentence_spans
from rag.answer.citations import MARKER
from rag.answer.types import Answer
from rag.evaluation.datasets import QAQuestion
from rag.evaluation.metrics import contains_answer, exact_match, token_f1
from rag.reader.evidence import restates
from rag.runtime import Runtime

__all__ = ["QAOutcome", "answer_only", "outcome", "run_qa", "summarize_qa"]

_SPACED_MARKER = re.compile(rf"\s*{MARKER.pattern}")


def answer_only(answer: Answer) -> str:
    """The answer text without citation markers."""
    return _SPACED_MARKER.sub("", answer.text).strip()


def is_echo(question: str, answer: Answer) -> bool:
    """Some quoted sentence is a title, a question, or says nothing the question does not."""
    titles = {" ".join(h.chunk.title.lower().split()) for h in answer.retrieved}
    asked = content_tokens(question)
    text = answer_only(answer)
    for start, end in sentence_spans(text):
        sentence = text[start:end].strip()
        if sentence.endswith("?") or " ".join(sentence.lower().split()) in titles:
            return True
        if restates(sentence, asked):
            return True
    return False


@dataclass(frozen=True)
class QAOutcome:
    id: str
    question: str
    impossible: bool
    gold_rank: int | None  # 1-based rank of the gold passage among the retrieved, if there
    prediction: str
    abstained: bool
    exact: float
    f1: float
    short_answer: str
    short_exact: float
    short_f1: float
    contains_answer: bool
    echo: bool
    citations: int
    precise_citations: int
    answer_bearing_citations: int
    right_sentence: bool | None = None  # quotes the set's answering sentence (where it names one)
    answered_by: str = ""  # the generator whose text the answer is (a model, or its fallback)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def outcome(question: QAQuestion, answer: Answer) -> QAOutcome:
    sources = [hit.chunk.source for hit in answer.retrieved]
    gold_rank = (
        sources.index(question.gold_passage) + 1 if question.gold_passage in sources else None
    )
    prediction = answer_only(answer)
    short = answer.short_answer.text if answer.short_answer else ""
    answered = not answer.abstained and not question.is_impossible
    retrieved_ids = {hit.chunk.id for hit in answer.retrieved}
    supported = {n for s in answer.sentences if s.supported for n in s.cites}
    unsupported = {n for s in answer.sentences if not s.supported for n in s.cites}
    precise = [
        c
        for c in answer.citations
        if c.chunk_id in retrieved_ids and c.n in supported and c.n not in unsupported
    ]
    bearing = [
        c for c in answer.citations if any(a.lower() in c.passage.lower() for a in question.answers)
    ]
    return QAOutcome(
        id=question.id,
        question=question.question,
        impossible=question.is_impossible,
        gold_rank=gold_rank,
        prediction=prediction,
        abstained=answer.abstained,
        exact=exact_match(prediction, question.answers) if answered else 0.0,
        f1=token_f1(prediction, question.answers) if answered else 0.0,
        short_answer=short,
        short_exact=exact_match(short, question.answers) if answered else 0.0,
        short_f1=token_f1(short, question.answers) if answered else 0.0,
        echo=answered and is_echo(question.question, answer),
        contains_answer=answered and contains_answer(prediction, question.answers),
        citations=len(answer.citations),
        precise_citations=len(precise),
        answer_bearing_citations=len(bearing) if not question.is_impossible else 0,
        right_sentence=answered and _squashed(question.sentence) in _squashed(prediction)
        if question.sentence
        else None,
        answered_by=answer.generator,
    )


def _squashed(text: str) -> str:
    return " ".join(text.lower().split())


def run_qa(
    runtime: Runtime,
    questions: Sequence[QAQuestion],
    progress: Callable[[], None] | None = None,
) -> list[QAOutcome]:
    outcomes = []
    for question in questions:
        outcomes.append(outcome(question, runtime.assistant.answer(question.question)))
        if progress:
            progress()
    return outcomes


def _share(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def summarize_qa(outcomes: Sequence[QAOutcome], k: int) -> dict[str, float]:
    answerable = [o for o in outcomes if not o.impossible]
    impossible = [o for o in outcomes if o.impossible]
    cited_answerable = [o for o in answerable if o.citations]
    judged = [o for o in answerable if o.right_sentence is not None]
    answered = [o for o in outcomes if not o.abstained]
    by_model = [o for o in answered if o.answered_by != "extractive"]
    return {
        "gold R@1": _share(sum(o.gold_rank == 1 for o in outcomes), len(outcomes)),
        f"gold R@{k}": _share(sum(o.gold_rank is not None for o in outcomes), len(outcomes)),
        "EM": _share(sum(o.exact for o in answerable), len(answerable)),
        "F1": _share(sum(o.f1 for o in answerable), len(answerable)),
        "short EM": _share(sum(o.short_exact for o in answerable), len(answerable)),
        "short F1": _share(sum(o.short_f1 for o in answerable), len(answerable)),
        "echoes": _share(sum(o.echo for o in answerable), len(answerable)),
        "answer in text": _share(sum(o.contains_answer for o in answerable), len(answerable)),
        "abstention": _share(sum(o.abstained for o in impossible), len(impossible)),
        "false abstention": _share(sum(o.abstained for o in answerable), len(answerable)),
        "citation precision": _share(
            sum(o.precise_citations for o in outcomes), sum(o.citations for o in outcomes)
        ),
        "answer-bearing citations": _share(
            sum(o.answer_bearing_citations for o in cited_answerable),
            sum(o.citations for o in cited_answerable),
        ),
        **(
            {"right sentence": _share(sum(bool(o.right_sentence) for o in judged), len(judged))}
            if judged
            else {}
        ),
        # Behind a language model: the answers it wrote (the rest are the quoted fallback).
        **({"model-written": _share(len(by_model), len(answered))} if by_model else {}),
    }
