"""`python app.py eval`: build (or reuse) the evaluation indexes, run every system, report."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

from index.embeddings import Encoder
from index.types import indexed_text
from rag.errors import InputError
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
from rag.reader.model import Reader
from rag.runtime import Runtime, load_encoder, with_generator
from rag.settings import Settings

__all__ = [
    "Bar",
    "EvalResult",
    "compare_encoders",
    "evaluate_qa",
    "evaluate_retrieval",
    "prepare",
    "progress_bar",
]

_SPEED_SAMPLE = 512  # chunks of the corpus each encoder is timed on

EvalResult = dict[str, Any]


class Bar:
    """How far a long step is: `to(done)` sets it, calling the bar advances it by one."""

    def __init__(self, bar: tqdm) -> None:
        self._bar = bar

    def to(self, done: int) -> None:
        self._bar.update(done - self._bar.n)

    def __call__(self) -> None:
        self._bar.update(1)


@contextmanager
def progress_bar(description: str, total: int, unit: str) -> Iterator[Bar]:
    """A progress bar on stderr."""
    with tqdm(total=total, desc=description, unit=unit, file=sys.stderr, disable=None) as bar:
        yield Bar(bar)


def prepare(
    settings: Settings,
    embeddings: Encoder,
    dataset: str,
    records: Sequence[Record],
    answers: bool = True,
    reader: Reader | None = None,
) -> Runtime:
    """Docent's index of `records` under <data_dir>/eval, reused when already complete."""
    runtime = eval_runtime(settings, embeddings, dataset, records, answers, reader)
    with progress_bar(f"index {dataset}", len(records), "doc") as bar:
        report = index_records(runtime, records, lambda status: bar.to(status.files_done))
    if report.chunks_written:
        print(f"indexed {dataset}: {report.summary()}", file=sys.stderr)
    return runtime


def _rankers(
    settings: Settings,
    embeddings: Encoder,
    dataset: str,
    records: Sequence[Record],
    runtime: Runtime,
    systems: Sequence[str],
) -> dict[str, Ranker]:
    rankers = {name: r for name, r in docent_rankers(runtime).items() if name in systems}
    if "langchain" in systems:
        baseline = LangChainBaseline(settings, embeddings, dataset, records)
        total = len(baseline.documents())
        with progress_bar("index langchain baseline", total, "chunk") as bar:
            baseline.index(lambda done, _total: bar.to(done))
        rankers["langchain"] = baseline.rank
    return {name: rankers[name] for name in SYSTEMS if name in rankers}


def _score(
    embeddings: Encoder,
    rankers: Mapping[str, Ranker],
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    for name, rank in rankers.items():
        embeddings.forget_queries()  # every system pays for embedding its queries
        started = time.perf_counter()
        run = {}
        with progress_bar(f"queries {name}", len(queries), "q") as bar:
            for query_id, text in queries.items():
                run[query_id] = dict(rank(text))
                bar()
        seconds = time.perf_counter() - started
        rows[name] = {**ranking_scores(qrels, run), "ms/query": 1000 * seconds / len(queries)}
    return rows


def evaluate_retrieval(
    settings: Settings,
    embeddings: Encoder,
    data: RetrievalSet,
    systems: Sequence[str],
    limit: int | None = None,
) -> EvalResult:
    runtime = prepare(settings, embeddings, data.name, data.corpus, answers=False)
    return _rank_all(settings, embeddings, data, runtime, systems, limit)


def _rank_all(
    settings: Settings,
    embeddings: Encoder,
    data: RetrievalSet,
    runtime: Runtime,
    systems: Sequence[str],
    limit: int | None,
) -> EvalResult:
    """Every system's ranking of every query, scored against the judgments."""
    queries = dict(list(data.queries.items())[:limit]) if limit else data.queries
    qrels = {q: data.qrels[q] for q in queries}
    rankers = _rankers(settings, embeddings, data.name, data.corpus, runtime, systems)
    return {
        "dataset": data.name,
        "documents": len(data.corpus),
        "chunks": runtime.store.count(),
        "queries": len(queries),
        "metrics": list(RANKING_MEASURES),
        "systems": _score(embeddings, rankers, queries, qrels),
    }


def compare_encoders(
    settings: Settings, data: RetrievalSet, encoders: Sequence[str], limit: int | None = None
) -> dict[str, dict[str, float]]:
    """Per encoder build: its speed (chunks of the corpus per second, the query p50 in ms)
    and the nDCG@10 of dense and hybrid retrieval over an index of its own."""
    rows: dict[str, dict[str, float]] = {}
    for name in encoders:
        encoder_settings = settings.model_copy(update={"embedding_model": name})
        encoder = load_encoder(encoder_settings)
        runtime = prepare(encoder_settings, encoder, data.name, data.corpus, answers=False)
        result = _rank_all(encoder_settings, encoder, data, runtime, ["dense", "hybrid"], limit)
        texts = [
            indexed_text(c)
            for _, c in zip(range(_SPEED_SAMPLE), runtime.store.iter_chunks(), strict=False)
        ]
        started = time.perf_counter()
        encoder.embed_documents(texts)
        chunks_per_second = len(texts) / (time.perf_counter() - started)
        queries = list(data.queries.values())[:200]
        encoder.forget_queries()
        timings = []
        for query in queries:
            started = time.perf_counter()
            encoder.embed_query(query)
            timings.append((time.perf_counter() - started) * 1000)
        systems = result["systems"]
        rows[name] = {
            "chunks/s": chunks_per_second,
            "query ms": statistics.median(timings),
            "dense nDCG@10": systems["dense"]["nDCG@10"],
            "hybrid nDCG@10": systems["hybrid"]["nDCG@10"],
            "hybrid R@100": systems["hybrid"]["R@100"],
        }
    return rows


def evaluate_qa(
    settings: Settings,
    embeddings: Encoder,
    data: QASet,
    systems: Sequence[str],
    limit: int | None = None,
    generators: Sequence[str] = (),
) -> EvalResult:
    """Gold-passage retrieval for every system, then Docent's answers to every question, by
    each of `generators` (default: the settings' one) over the same index."""
    questions = data.questions[:limit] if limit else data.questions
    if not questions:
        raise InputError(f"{data.name} has no questions")
    # The index, with the extractive path: each generator's answer path is built below.
    indexing = settings.model_copy(update={"generator": "extractive"})
    runtime = prepare(indexing, embeddings, data.name, data.passages)
    rankers = _rankers(settings, embeddings, data.name, data.passages, runtime, systems)
    k = settings.top_k
    queries = {q.id: q.question for q in questions}
    qrels = {q.id: {q.gold_passage: 1} for q in questions}
    retrieval = _score(embeddings, rankers, queries, qrels)
    rows: dict[str, dict[str, float]] = {
        name: {f"gold {m}": scores[m] for m in ("R@1", "R@5", "R@10")}
        for name, scores in retrieval.items()
    }
    outcomes = []
    for generator in generators or [settings.generator]:
        answering = with_generator(runtime, generator)
        embeddings.forget_queries()
        started = time.perf_counter()
        with progress_bar(f"answers ({generator})", len(questions), "q") as bar:
            answered = run_qa(answering, questions, bar)
        seconds = time.perf_counter() - started
        rows[f"docent ({generator})"] = {
            **summarize_qa(answered, k),
            "ms/question": 1000 * seconds / len(questions),
        }
        outcomes += [{**o.as_dict(), "generator": generator} for o in answered]
    return {
        "dataset": data.name,
        "passages": len(data.passages),
        "questions": len(questions),
        "unanswerable": sum(q.is_impossible for q in questions),
        "top_k": k,
        "min_evidence": settings.min_evidence,
        "relevance_weight": settings.relevance_weight,
        "coverage_weight": settings.coverage_weight,
        "min_support": settings.min_support,
        "systems": rows,
        "outcomes": outcomes,
    }
