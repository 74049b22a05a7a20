"""`python app.py eval`: build (or reuse) the evaluation indexes, run every system, report."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.embeddings import Embeddings
from tqdm import tqdm

from index.errors import InputError
from rag.evaluation import SYSTEMS
from rag.evaluation.answers import run_qa, summarize_qa
from rag.evaluation.datasets import QASet, Record, RetrievalSet
from rag.evaluation.metrics import RANKING_MEASURES, ranking_scores
from rag.evaluation.systems import (
    LangChainBaseline,
    Ranker,
    docent_rankers,
    eval_runtime,
    index_records,
)
from rag.runtime import Runtime
from rag.settings import Settings

__all__ = ["EvalResult", "evaluate_qa", "evaluate_retrieval", "prepare", "progress_bar"]

EvalResult = dict[str, Any]


@contextmanager
def progress_bar(description: str, total: int, unit: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; the yielded function sets how much is done."""
    with tqdm(total=total, desc=description, unit=unit, file=sys.stderr, disable=None) as bar:

        def to(done: int) -> None:
            bar.update(done - bar.n)

        yield to


def prepare(
    settings: Settings,
    embeddings: Embeddings,
    dataset: str,
    records: Sequence[Record],
    answers: bool = True,
) -> Runtime:
    """Docent's index of `records` under <data_dir>/eval, reused when already complete."""
    runtime = eval_runtime(settings, embeddings, dataset, records, answers)
    with progress_bar(f"index {dataset}", len(records), "doc") as to:
        report = index_records(runtime, records, lambda done, _total, _path: to(done))
    if report.chunks_written:
        print(f"indexed {dataset}: {report.summary()}", file=sys.stderr)
    return runtime


def _rankers(
    settings: Settings,
    embeddings: Embeddings,
    dataset: str,
    records: Sequence[Record],
    runtime: Runtime,
    systems: Sequence[str],
) -> dict[str, Ranker]:
    rankers = {name: r for name, r in docent_rankers(runtime).items() if name in systems}
    if "langchain" in systems:
        baseline = LangChainBaseline(settings, embeddings, dataset, records)
        total = len(baseline.documents())
        with progress_bar("index langchain baseline", total, "chunk") as to:
            baseline.index(lambda done, _total: to(done))
        rankers["langchain"] = baseline.rank
    return {name: rankers[name] for name in SYSTEMS if name in rankers}


def _score(
    rankers: Mapping[str, Ranker],
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    for name, rank in rankers.items():
        started = time.perf_counter()
        run = {}
        with progress_bar(f"queries {name}", len(queries), "q") as to:
            for done, (query_id, text) in enumerate(queries.items(), start=1):
                run[query_id] = dict(rank(text))
                to(done)
        seconds = time.perf_counter() - started
        rows[name] = {**ranking_scores(qrels, run), "ms/query": 1000 * seconds / len(queries)}
    return rows


def evaluate_retrieval(
    settings: Settings,
    embeddings: Embeddings,
    data: RetrievalSet,
    systems: Sequence[str],
    limit: int | None = None,
) -> EvalResult:
    queries = dict(list(data.queries.items())[:limit]) if limit else data.queries
    qrels = {q: data.qrels[q] for q in queries}
    runtime = prepare(settings, embeddings, data.name, data.corpus, answers=False)
    rankers = _rankers(settings, embeddings, data.name, data.corpus, runtime, systems)
    return {
        "dataset": data.name,
        "documents": len(data.corpus),
        "chunks": runtime.store.count(),
        "queries": len(queries),
        "metrics": list(RANKING_MEASURES),
        "systems": _score(rankers, queries, qrels),
    }


def evaluate_qa(
    settings: Settings,
    embeddings: Embeddings,
    data: QASet,
    systems: Sequence[str],
    limit: int | None = None,
) -> EvalResult:
    """Gold-passage retrieval for every system, then Docent's answers to every question."""
    questions = data.questions[:limit] if limit else data.questions
    if not questions:
        raise InputError(f"{data.name} has no questions")
    runtime = prepare(settings, embeddings, data.name, data.passages)
    rankers = _rankers(settings, embeddings, data.name, data.passages, runtime, systems)
    k = settings.top_k
    queries = {q.id: q.question for q in questions}
    qrels = {q.id: {q.gold_passage: 1} for q in questions}
    retrieval = _score(rankers, queries, qrels)
    started = time.perf_counter()
    with progress_bar(f"answers ({settings.generator})", len(questions), "q") as to:
        done = iter(range(1, len(questions) + 1))
        outcomes = run_qa(runtime, questions, lambda: to(next(done)))
    seconds = time.perf_counter() - started
    answers = {**summarize_qa(outcomes, k), "ms/question": 1000 * seconds / len(questions)}
    rows = {
        name: {f"gold {m}": scores[m] for m in ("R@1", "R@5", "R@10")}
        for name, scores in retrieval.items()
    }
    docent_row = f"docent ({settings.generator})"
    return {
        "dataset": data.name,
        "passages": len(data.passages),
        "questions": len(questions),
        "unanswerable": sum(q.is_impossible for q in questions),
        "top_k": k,
        "min_evidence": settings.min_evidence,
        "min_support": settings.min_support,
        "systems": {**rows, docent_row: answers},
        "outcomes": [o.as_dict() for o in outcomes],
    }
