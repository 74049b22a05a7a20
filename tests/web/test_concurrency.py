"""Overlapping requests on a live server never fail: questions from many threads while
documents are uploaded, indexed and deleted through the same server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import ANSWERABLE, SAMPLES, make_settings, serving, wait_for_job

pytestmark = pytest.mark.slow

FORM = {"X-Requested-With": "tests"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder) -> Iterator[str]:
    settings = make_settings(tmp_path_factory.mktemp("concurrency"), rate_limit_per_minute=0)
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES])
    with serving(create_app(runtime)) as url:
        yield url


def churn(url: str, stop: threading.Event, overlapped: threading.Event) -> tuple[list[str], int]:
    """Upload, index and delete a document over and over (`overlapped` is set after the third
    round); returns what went wrong and how many rounds were done."""
    problems = []
    round_ = 0
    with httpx.Client(base_url=url, timeout=120, headers=FORM) as client:
        while not stop.is_set():
            if round_ == 3:
                overlapped.set()
            round_ += 1
            text = f"# Parking\n\nRound {round_}: the car park opens at 06:{round_ % 60:02}.\n"
            upload = client.post(
                "/api/v1/documents",
                files={"files": ("parking.md", text.encode())},
                data={"replace": "true"},
            )
            if upload.status_code != 202:
                problems.append(f"upload {upload.status_code}")
                continue
            job = wait_for_job(url, upload.json()["job"]["id"], FORM)
            if job["status"] != "done":
                problems.append(f"job {job['status']}: {job['error']}")
            (document,) = [
                d for d in client.get("/api/v1/documents").json() if d["name"] == "parking.md"
            ]
            deleted = client.delete(f"/api/v1/documents/{document['id']}")
            if deleted.status_code != 200:
                problems.append(f"delete {deleted.status_code}")
    return problems, round_


def test_overlapping_questions_and_writes_never_fail(server: str) -> None:
    questions = [q for q, _, _ in ANSWERABLE] * 4

    def ask(number: int) -> tuple[int, str]:
        path = "/api/v1/ask/stream" if number % 3 == 0 else "/api/v1/ask"
        response = httpx.post(f"{server}{path}", json={"question": questions[number]}, timeout=300)
        if path.endswith("stream"):
            events = [line for line in response.text.splitlines() if line.startswith("event:")]
            return response.status_code, events[-1] if events else "no events"
        return response.status_code, "event: done"

    def keep_asking(first: int) -> list[tuple[int, str]]:
        """Every 16th question from `first` on, then on round the list again until the writer
        has done three rounds: answers are fast, so the asking lasts as long as the writing."""
        results = [ask(number) for number in range(first, len(questions), 16)]
        number = first
        while not overlapped.is_set() and not writes.done():  # a failed writer ends it too
            results.append(ask(number % len(questions)))
            number += 16
        return results

    stop, overlapped = threading.Event(), threading.Event()
    with ThreadPoolExecutor(max_workers=1) as writer:
        writes = writer.submit(churn, server, stop, overlapped)
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = [r for batch in pool.map(keep_asking, range(16)) for r in batch]
        stop.set()
        problems, rounds = writes.result(timeout=300)
    assert problems == [] and rounds >= 3, "documents changed while questions were answered"
    assert len(results) >= len(questions)
    assert results == [(200, "event: done")] * len(results)
