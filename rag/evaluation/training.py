"""`app.py eval --train-answerer`: fit the extractive answerer's two logistic models on a
SQuAD-style set and write them to `answerer.v1.json`.

- sentence model: every candidate sentence of the passages retrieved for a question; positive
  when it is in the gold passage and holds an accepted answer (never, for an unanswerable
  question, so the model also learns what weak evidence looks like);
- span model: every candidate span of the positive sentences; positive when it equals an
  accepted answer after SQuAD's normalisation. (Also counting near misses, F1 ≥ 0.5, as
  positives was tried: held-out short F1 0.375 against 0.421.)

Both are L2-regularised logistic regressions (scikit-learn). Five-fold cross-validation, with
the folds split by question, reports what the models do on questions they were not fitted on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.errors import ConfigError
from rag.evaluation.datasets import QAQuestion
from rag.evaluation.metrics import contains_answer, exact_match, token_f1
from rag.generators import ExtractiveGenerator
from rag.generators.answerer_model import AnswererModel, Linear
from rag.generators.features import SENTENCE_FEATURES, SPAN_FEATURES, span_candidates
from rag.generators.questions import analyse
from rag.runtime import Runtime

__all__ = ["Examples", "collect_examples", "fit_answerer"]

_FOLDS = 5
_REGULARISATION = 1.0  # scikit-learn's C (0.3 and 3 held out no better)


@dataclass
class Examples:
    """Feature rows, labels and the question each row belongs to (for grouped folds)."""

    rows: list[np.ndarray]
    labels: list[int]
    groups: list[int]
    scores: list[float]  # for spans: the SQuAD F1 of the span (how good a pick it is)

    @classmethod
    def empty(cls) -> Examples:
        return cls([], [], [], [])

    def subset(self, keep: Sequence[int]) -> Examples:
        return Examples(
            [self.rows[i] for i in keep],
            [self.labels[i] for i in keep],
            [self.groups[i] for i in keep],
            [self.scores[i] for i in keep],
        )


def collect_examples(
    runtime: Runtime,
    questions: Sequence[QAQuestion],
    progress: Callable[[], None] | None = None,
) -> tuple[Examples, Examples]:
    generator = runtime.assistant.generator
    if not isinstance(generator, ExtractiveGenerator):
        raise ConfigError(
            "training fits the extractive generator: unset DOCENT_GENERATOR and --generator"
        )
    sentences, spans = Examples.empty(), Examples.empty()
    for group, question in enumerate(questions):
        hits = runtime.assistant.retriever.retrieve(question.question)
        analysed = analyse(question.question)
        for candidate in generator.candidates(question.question, hits):
            hit = hits[candidate.number - 1]
            positive = (
                not question.is_impossible
                and hit.chunk.source == question.gold_passage
                and contains_answer(candidate.sentence, question.answers)
            )
            sentences.rows.append(candidate.features)
            sentences.labels.append(int(positive))
            sentences.groups.append(group)
            sentences.scores.append(0.0)
            if not positive:
                continue
            start, end = candidate.unit.spans[-1]
            found = span_candidates(analysed, hit.chunk.text, start, end)
            for span in found:
                spans.rows.append(span.features)
                spans.labels.append(int(exact_match(span.text, question.answers)))
                spans.groups.append(group)
                spans.scores.append(token_f1(span.text, question.answers))
        if progress:
            progress()
    return sentences, spans


def _fit(examples: Examples, features: tuple[str, ...]) -> Linear:
    from sklearn.linear_model import LogisticRegression

    if len(set(examples.labels)) < 2:
        raise ConfigError("training needs both positive and negative examples")
    model = LogisticRegression(C=_REGULARISATION, max_iter=2000)
    model.fit(np.stack(examples.rows), np.asarray(examples.labels))
    return Linear(features, model.coef_[0].astype(np.float32), float(model.intercept_[0]))


def _best_per_group(examples: Examples, probabilities: np.ndarray) -> dict[int, int]:
    """Row index of the highest-scored row of each group."""
    best: dict[int, int] = {}
    for row, group in enumerate(examples.groups):
        if group not in best or probabilities[row] > probabilities[best[group]]:
            best[group] = row
    return best


def _cross_validate(sentences: Examples, spans: Examples) -> dict[str, float]:
    """Held-out quality: share of answerable questions whose best sentence holds an answer,
    and the mean SQuAD F1 of the best span inside the answer-bearing sentences."""
    groups = sorted(set(sentences.groups))
    folds = [set(groups[i::_FOLDS]) for i in range(_FOLDS)]
    top_sentence: list[float] = []
    span_f1: list[float] = []
    for held_out in folds:
        for examples, features, out in (
            (sentences, SENTENCE_FEATURES, top_sentence),
            (spans, SPAN_FEATURES, span_f1),
        ):
            train = [i for i, g in enumerate(examples.groups) if g not in held_out]
            test = [i for i, g in enumerate(examples.groups) if g in held_out]
            if not test:
                continue
            part, held = examples.subset(train), examples.subset(test)
            linear = _fit(part, features)
            chosen = _best_per_group(held, linear.probability(np.stack(held.rows)))
            answerable = {g for g, label in zip(held.groups, held.labels, strict=True) if label}
            for group, row in chosen.items():
                if examples is sentences and group in answerable:
                    out.append(float(held.labels[row]))
                elif examples is spans:
                    out.append(held.scores[row])
    return {
        "best sentence holds an answer": float(np.mean(top_sentence)) if top_sentence else 0.0,
        "short F1 in the answer's sentence": float(np.mean(span_f1)) if span_f1 else 0.0,
    }


def fit_answerer(
    sentences: Examples, spans: Examples, dataset: str, questions: int
) -> tuple[AnswererModel, dict[str, float]]:
    """Both models fitted on all examples, and their cross-validated quality."""
    held_out = _cross_validate(sentences, spans)
    about: dict[str, Any] = {
        "version": "answerer.v1",
        "trained_on": f"{dataset}: {questions} questions, {len(sentences.rows)} candidate "
        f"sentences, {len(spans.rows)} candidate spans",
        "command": "python app.py eval --train-answerer",
        "cross_validated": {k: round(v, 4) for k, v in held_out.items()},
    }
    model = AnswererModel(_fit(sentences, SENTENCE_FEATURES), _fit(spans, SPAN_FEATURES), about)
    return model, held_out
