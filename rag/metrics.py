"""Prometheus metrics: what a process counts as it works, and what the shared state holds.

Counted here (per process; `serve --workers N` writes them to PROMETHEUS_MULTIPROC_DIR, set by
`rag/web/app.py::serve_workers`, and a scrape of any process adds up all): HTTP requests by route
and status, the answer's stages (condense, retrieve, generate) as latency histograms, answers
and abstentions by generator. Read at scrape time (`StateCollector`): ingestion jobs by state,
the age of the oldest queued job, documents and indexed chunks per collection, and how many
changes this node's lexical index has yet to follow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

if TYPE_CHECKING:
    from rag.answer.types import Answer

__all__ = ["CONTENT_TYPE", "StateCollector", "observe_answer", "observe_request", "render"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_STAGES = ("condense", "retrieve", "generate")

REQUESTS = Counter(
    "docent_http_requests", "HTTP requests by route (its template) and status", ["route", "status"]
)
REQUEST_SECONDS = Histogram("docent_http_request_seconds", "HTTP request time by route", ["route"])
ANSWER_SECONDS = Histogram(
    "docent_answer_stage_seconds",
    "Time of each stage of an answer (condense, retrieve, generate)",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ANSWERS = Counter("docent_answers", "Answers given, by generator", ["generator"])
ABSTENTIONS = Counter(
    "docent_abstentions", "Answers that said 'not in the documents', by generator", ["generator"]
)


def observe_request(route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, str(status)).inc()
    REQUEST_SECONDS.labels(route).observe(seconds)


def observe_answer(answer: Answer) -> None:
    for stage in _STAGES:
        if stage in answer.timings_ms:
            ANSWER_SECONDS.labels(stage).observe(answer.timings_ms[stage] / 1000)
    ANSWERS.labels(answer.generator).inc()
    if answer.abstained:
        ABSTENTIONS.labels(answer.generator).inc()


class _Documents(Protocol):
    def collections(self) -> dict[str, int]: ...
    def chunks_per_collection(self) -> dict[str, int]: ...
    def latest_change(self) -> int: ...


class _Jobs(Protocol):
    def counts(self) -> dict[str, int]: ...
    def oldest_queued_seconds(self) -> float | None: ...


class _Lexical(Protocol):
    def watermark(self) -> int: ...


class StateCollector(Collector):
    """Gauges read from the database and this node's lexical index at each scrape (the
    runtime's manifest, job queue and lexical index)."""

    def __init__(self, manifest: _Documents, jobs: _Jobs, lexical: _Lexical) -> None:
        self.manifest, self.jobs, self.lexical = manifest, jobs, lexical

    def collect(self) -> Iterator[Metric]:
        manifest, jobs = self.manifest, self.jobs
        by_state = GaugeMetricFamily("docent_jobs", "Ingestion jobs by state", labels=["state"])
        for state, count in sorted(jobs.counts().items()):
            by_state.add_metric([state], count)
        yield by_state
        age = jobs.oldest_queued_seconds()
        yield GaugeMetricFamily(
            "docent_job_queue_age_seconds",
            "How long the oldest queued job has waited (0 when none waits)",
            value=age or 0.0,
        )
        documents = GaugeMetricFamily(
            "docent_documents", "Documents per collection", labels=["collection"]
        )
        for collection, count in sorted(manifest.collections().items()):
            documents.add_metric([collection], count)
        yield documents
        chunks = GaugeMetricFamily(
            "docent_chunks", "Chunks of indexed documents per collection", labels=["collection"]
        )
        for collection, count in sorted(manifest.chunks_per_collection().items()):
            chunks.add_metric([collection], count)
        yield chunks
        lag = manifest.latest_change() - self.lexical.watermark()
        yield GaugeMetricFamily(
            "docent_lexical_lag_changes",
            "Changes this node's lexical index has yet to follow",
            value=max(lag, 0),
        )


def render(state: StateCollector) -> bytes:
    """The text exposition of this process's (or with several, all processes') counters and
    the state gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(state)
    return generate_latest(counted) + generate_latest(gauges)
