"""What an operator watches: /metrics (Prometheus text, behind an API key, summed over
`serve --workers` processes), `X-Request-ID` on every response, and JSON logs with one access
line per request that carries the id and no question text."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import (
    SAMPLES,
    create_key,
    free_port,
    make_settings,
    serving,
    start_app,
    wait_until_up,
)

QUESTION = "How many days of annual leave do I get?"
SECRET_QUESTION = "What does the plan codenamed Bluefinch say about moonbeams?"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition: (name, labels) → value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture(scope="module")
def secured(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[tuple[str, str]]:
    data = tmp_path_factory.mktemp("metrics")
    settings = make_settings(data, samples_dir=None, rate_limit_per_minute=1000)
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "leave-policy.md"], collection="hr")
    runtime.ingestor.ingest([SAMPLES / "expenses.md", SAMPLES / "onboarding.txt"])
    key = create_key(settings, "ops")
    with serving(create_app(runtime)) as url:
        yield url, key


def scrape(url: str, key: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


def test_metrics_need_a_key(secured: tuple[str, str]) -> None:
    url, _ = secured
    assert httpx.get(f"{url}/metrics", timeout=10).status_code == 401


def test_metrics_count_requests_answers_and_state(secured: tuple[str, str]) -> None:
    url, key = secured
    headers = {"Authorization": f"Bearer {key}"}
    before = scrape(url, key)
    for question in (QUESTION, SECRET_QUESTION):
        asked = httpx.post(
            f"{url}/api/v1/ask", json={"question": question}, headers=headers, timeout=60
        )
        assert asked.status_code == 200, asked.text
    after = scrape(url, key)

    def grew(name: str, **labels: str) -> float:
        key_ = (name, tuple(sorted(labels.items())))
        return after.get(key_, 0.0) - before.get(key_, 0.0)

    assert grew("docent_http_requests_total", route="/api/v1/ask", status="200") == 2
    assert grew("docent_answer_stage_seconds_count", stage="retrieve") == 2
    assert grew("docent_answer_stage_seconds_count", stage="generate") == 2
    assert grew("docent_answers_total", generator="extractive") == 2
    assert grew("docent_abstentions_total", generator="extractive") == 1  # the unknown plan
    assert after[("docent_documents", (("collection", "hr"),))] == 1
    assert after[("docent_documents", (("collection", "default"),))] == 2
    assert after[("docent_chunks", (("collection", "hr"),))] >= 1
    assert after[("docent_lexical_lag_changes", ())] == 0
    assert after[("docent_job_queue_age_seconds", ())] == 0


def test_every_response_carries_a_request_id(secured: tuple[str, str]) -> None:
    url, _ = secured
    made = httpx.get(f"{url}/api/health", timeout=10).headers["x-request-id"]
    assert len(made) == 32 and made != httpx.get(f"{url}/api/health").headers["x-request-id"]
    given = httpx.get(f"{url}/api/health", headers={"X-Request-ID": "portal-42.a"}, timeout=10)
    assert given.headers["x-request-id"] == "portal-42.a"
    odd = httpx.get(f"{url}/api/nowhere", headers={"X-Request-ID": "a b<script>"}, timeout=10)
    assert odd.status_code == 404 and odd.headers["x-request-id"] != "a b<script>"


@pytest.mark.slow
def test_json_logs_and_metrics_across_worker_processes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = make_settings(data, rate_limit_per_minute=1000)
    key = create_key(settings, "ops")
    port = free_port()
    env = {
        "DOCENT_SAMPLES_DIR": str(SAMPLES),
        "DOCENT_LOG_FORMAT": "json",
        "DOCENT_RATE_LIMIT_PER_MINUTE": "1000",
    }
    server = start_app(data, "serve", "--workers", "2", "--port", str(port), **env)
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        wait_until_up(url, server)
        ids = []
        for n in range(6):
            asked = httpx.post(
                f"{url}/api/v1/ask",
                json={"question": SECRET_QUESTION if n == 0 else QUESTION},
                headers={**headers, "X-Request-ID": f"ask-{n}"},
                timeout=60,
            )
            assert asked.status_code == 200, asked.text
            ids.append(asked.headers["x-request-id"])
        assert ids == [f"ask-{n}" for n in range(6)]
        counted = samples(httpx.get(f"{url}/metrics", headers=headers, timeout=30).text)
        key_ = ("docent_http_requests_total", (("route", "/api/v1/ask"), ("status", "200")))
        assert counted[key_] == 6, "both processes' requests, whichever answers the scrape"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    lines = [
        json.loads(line)
        for line in (data / "stderr.log").read_text().splitlines()
        if line.startswith("{")
    ]
    access = [line for line in lines if line["logger"] == "docent.access"]
    asks = {line["request_id"]: line for line in access if line["route"] == "/api/v1/ask"}
    assert set(asks) == set(ids)
    assert all(line["status"] == 200 and line["method"] == "POST" for line in asks.values())
    logged = (data / "stderr.log").read_text()
    assert "Bluefinch" not in logged and key not in logged, "no question text, no credential"
