"""Two machines in miniature: PostgreSQL and one Chroma server, two API nodes with separate data
dirs (each `serve --workers 2`), and ingestion workers, all on 127.0.0.1, with an API key."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.chunking import Chunker
from index.embeddings import INT8_MODEL
from index.loaders import LoadedDocument
from index.store import connect
from tests.helpers import (
    SAMPLES,
    PostgresCluster,
    chroma_server,
    create_key,
    free_port,
    make_settings,
    run_cli,
    start_app,
    wait_for_job,
    wait_until_up,
)

pytestmark = pytest.mark.slow

LIMIT = 300  # requests per minute and principal, on both nodes together
VISIBLE_WITHIN = 5.0  # seconds for a change made through one node to show on the other


@dataclass
class Cluster:
    a: str
    b: str
    key: str
    burst_key: str
    shared: dict[str, str]
    folder: Path
    workers: list[subprocess.Popen[bytes]]

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def ask(self, node: str, question: str, **extra: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{node}/api/v1/ask",
            json={"question": question, **extra},
            headers=self.headers(),
            timeout=120,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def upload(self, node: str, name: str, content: bytes) -> str:
        response = httpx.post(
            f"{node}/api/v1/documents",
            files={"files": (name, content)},
            headers=self.headers(),
            timeout=120,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["job"]["id"])

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return start_app(self.folder / name, "worker", **self.shared)


def eventually(check: Callable[[], bool], within: float) -> bool:
    """Whether `check` holds at some point within `within` seconds (polled)."""
    deadline = time.monotonic() + within
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresCluster
) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("two-nodes")
    database = postgres.create_database()
    with chroma_server(folder / "chroma") as chroma:
        shared = {
            "DOCENT_DATABASE_URL": database,
            "DOCENT_CHROMA_URL": chroma,
            "DOCENT_RUN_JOBS": "false",
            "DOCENT_RATE_LIMIT_PER_MINUTE": str(LIMIT),
            "DOCENT_JOB_STALE_SECONDS": "6",
        }
        settings = make_settings(folder / "a", database_url=database)
        key, burst_key = create_key(settings, "portal"), create_key(settings, "burst")
        nodes, processes = [], []
        for name in ("a", "b"):
            port = free_port()
            nodes.append(f"http://127.0.0.1:{port}")
            args = ("serve", "--workers", "2", "--port", str(port))
            processes.append(start_app(folder / name, *args, **shared))
        workers = [start_app(folder / "worker-1", "worker", **shared)]
        try:
            for url, process in zip(nodes, processes, strict=True):
                wait_until_up(url, process)
            yield Cluster(nodes[0], nodes[1], key, burst_key, shared, folder, workers)
        finally:
            for process in processes + workers:
                process.terminate()
            for process in processes + workers:
                process.wait(timeout=60)


def test_an_upload_through_a_is_answered_through_b(cluster: Cluster) -> None:
    job_id = cluster.upload(cluster.a, "desks.txt", b"Desk booking opens at 07:00 on weekdays.\n")
    job = wait_for_job(cluster.b, job_id, cluster.headers())
    assert job["status"] == "done" and job["result"]["added"] == ["desks.txt"]

    def cited() -> bool:
        answer = cluster.ask(cluster.b, "When does desk booking open?")
        return [c["name"] for c in answer["citations"]] == ["desks.txt"]

    assert eventually(cited, VISIBLE_WITHIN)


def test_a_conversation_started_on_a_continues_on_b(cluster: Cluster) -> None:
    first = cluster.ask(cluster.a, "Which travel agency books our flights?")
    follow = cluster.ask(cluster.b, "And how early?", conversation_id=first["conversation_id"])
    assert "Which travel agency books our flights?" in follow["standalone_query"]
    assert follow["conversation_id"] == first["conversation_id"]


def test_a_delete_through_b_is_gone_for_a(cluster: Cluster) -> None:
    job_id = cluster.upload(cluster.a, "parking.txt", b"The car park opens at 06:30.\n")
    assert wait_for_job(cluster.a, job_id, cluster.headers())["status"] == "done"
    listed = httpx.get(f"{cluster.b}/api/v1/documents", headers=cluster.headers(), timeout=30)
    (parking,) = [d for d in listed.json() if d["name"] == "parking.txt"]
    deleted = httpx.delete(
        f"{cluster.b}/api/v1/documents/{parking['id']}", headers=cluster.headers(), timeout=60
    )
    assert deleted.status_code == 200

    def gone() -> bool:
        names = [
            d["name"]
            for d in httpx.get(
                f"{cluster.a}/api/v1/documents", headers=cluster.headers(), timeout=30
            ).json()
        ]
        answer = cluster.ask(cluster.a, "When does the car park open?")
        retrieved = {h["chunk"]["name"] for h in answer["retrieved"]}
        return "parking.txt" not in names and "parking.txt" not in retrieved

    assert eventually(gone, VISIBLE_WITHIN)


def test_the_rate_limit_holds_across_nodes(cluster: Cluster) -> None:
    statuses = [
        httpx.get(
            f"{node}/v1/models", headers=cluster.headers(cluster.burst_key), timeout=30
        ).status_code
        for node in [cluster.a, cluster.b] * (LIMIT // 2 + 1)
    ]
    assert statuses.count(200) == LIMIT and statuses[LIMIT:] == [429, 429]


def test_a_killed_worker_s_job_is_finished_by_another(cluster: Cluster) -> None:
    paragraphs = [f"Room {n} seats {n % 9 + 2} people and has a screen." for n in range(900)]
    text = "\n\n".join(paragraphs) + "\n"
    expected = len(Chunker(800, 120).split(LoadedDocument(Path("rooms.txt"), "", text), "x", "x"))
    before = health(cluster.b)["chunks"]
    job_id = cluster.upload(cluster.a, "rooms.txt", text.encode())
    assert eventually(lambda: job_status(cluster, job_id) == "running", within=60)
    cluster.workers[0].send_signal(signal.SIGKILL)  # mid-job, the hard way
    cluster.workers.append(cluster.worker("worker-2"))
    job = wait_for_job(cluster.b, job_id, cluster.headers())
    assert job["status"] == "done", job
    listed = httpx.get(f"{cluster.b}/api/v1/documents", headers=cluster.headers(), timeout=30)
    (rooms,) = [d for d in listed.json() if d["name"] == "rooms.txt"]
    assert rooms["chunks"] == expected == health(cluster.b)["chunks"] - before
    stored = stored_chunk_ids(cluster.shared["DOCENT_CHROMA_URL"], {"document_id": rooms["id"]})
    assert len(stored) == expected, "Chroma holds each chunk once, none missing"

    def found() -> bool:
        answer = cluster.ask(
            cluster.b, "How many people does room 17 seat?", documents=[rooms["id"]]
        )
        return "Room 17 seats 10 people" in answer["text"]

    assert eventually(found, VISIBLE_WITHIN)


def test_a_worker_stopped_mid_job_hands_it_back(cluster: Cluster) -> None:
    """SIGTERM: an idle worker exits 0 at once; a busy one whose job outlasts
    DOCENT_SHUTDOWN_GRACE_SECONDS hands it back, exits 0, and another finishes it, each chunk
    once."""
    idle = [process for process in cluster.workers if process.poll() is None]
    for process in idle:
        process.send_signal(signal.SIGTERM)
    assert [process.wait(timeout=60) for process in idle] == [0] * len(idle)
    stopping = start_app(
        cluster.folder / "worker-stopping",
        "worker",
        **cluster.shared,
        DOCENT_SHUTDOWN_GRACE_SECONDS="0",
    )
    cluster.workers.append(stopping)
    paragraphs = [f"Desk {n} is by window {n % 7 + 1} on floor {n % 5}." for n in range(1500)]
    text = "\n\n".join(paragraphs) + "\n"
    expected = len(
        Chunker(800, 120).split(LoadedDocument(Path("window-desks.txt"), "", text), "x", "x")
    )
    job_id = cluster.upload(cluster.a, "window-desks.txt", text.encode())
    assert eventually(lambda: job_status(cluster, job_id) == "running", within=60)
    stopping.send_signal(signal.SIGTERM)
    assert stopping.wait(timeout=60) == 0
    handed = httpx.get(f"{cluster.b}/api/v1/jobs/{job_id}", headers=cluster.headers(), timeout=30)
    # No worker runs now, so nothing requeued it for staleness: the stopping worker did.
    assert handed.json()["status"] == "queued", handed.json()
    cluster.workers.append(cluster.worker("worker-3"))
    job = wait_for_job(cluster.b, job_id, cluster.headers())
    assert job["status"] == "done", job
    listed = httpx.get(f"{cluster.b}/api/v1/documents", headers=cluster.headers(), timeout=30)
    (desks,) = [d for d in listed.json() if d["name"] == "window-desks.txt"]
    assert desks["chunks"] == expected
    stored = stored_chunk_ids(cluster.shared["DOCENT_CHROMA_URL"], {"document_id": desks["id"]})
    assert len(stored) == expected, "Chroma holds each chunk once, none missing"


def stored_chunk_ids(chroma_url: str, where: dict[str, Any] | None = None) -> list[str]:
    """The ids Chroma itself holds (asked directly, not through Docent's counts)."""
    collection = connect(Path(), chroma_url).get_collection("docent")
    return list(collection.get(where=where, include=[])["ids"])


def health(node: str) -> dict[str, Any]:
    return dict(httpx.get(f"{node}/api/health", timeout=30).json())


def job_status(cluster: Cluster, job_id: str) -> str:
    response = httpx.get(f"{cluster.b}/api/v1/jobs/{job_id}", headers=cluster.headers(), timeout=30)
    return str(response.json()["status"])


def test_processes_starting_together_on_an_empty_store_agree(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    """Migrations, the demo samples and the collection are made once, whoever comes first."""
    database = postgres.create_database()
    with chroma_server(tmp_path / "chroma") as chroma:
        shared = {
            "DOCENT_DATABASE_URL": database,
            "DOCENT_CHROMA_URL": chroma,
            "DOCENT_SAMPLES_DIR": str(SAMPLES),
        }
        ports = [free_port() for _ in range(3)]
        processes = [
            start_app(tmp_path / f"node-{n}", "serve", "--port", str(port), **shared)
            for n, port in enumerate(ports)
        ]
        try:
            for port, process in zip(ports, processes, strict=True):
                wait_until_up(f"http://127.0.0.1:{port}", process)
            assert eventually(
                lambda: all(health(f"http://127.0.0.1:{p}")["documents"] == 9 for p in ports),
                within=120,
            )
            final = [health(f"http://127.0.0.1:{port}") for port in ports]
            stored = stored_chunk_ids(chroma)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
    assert len({h["chunks"] for h in final}) == 1
    assert final[0]["chunks"] == 60 and final[0]["documents"] == 9, "the samples, once"
    assert len(stored) == len(set(stored)) == 60


def test_a_model_switch_under_load_loses_no_answer_and_no_write(cluster: Cluster) -> None:
    """`reindex --model` while both nodes answer without pause and an upload is indexed:
    every question answered, both nodes on the new model, the upload in the new collection."""
    assert health(cluster.a)["embedding_model"] == "all-MiniLM-L6-v2"
    stop = threading.Event()
    outcomes: list[int | str] = []

    def load() -> None:
        questions = ["Which rooms can be booked?", "Who may use the window desks?"]
        while not stop.is_set():
            for node in (cluster.a, cluster.b):
                try:
                    response = httpx.post(
                        f"{node}/api/v1/ask",
                        json={"question": questions[len(outcomes) % 2]},
                        headers=cluster.headers(),
                        timeout=60,
                    )
                    outcomes.append(response.status_code)
                except httpx.HTTPError as exc:
                    outcomes.append(type(exc).__name__)

    asking = threading.Thread(target=load, daemon=True)
    asking.start()
    text = "The Falkirk warehouse keeps 340 spare pallets beside the loading bay."
    job_id = cluster.upload(cluster.b, "falkirk-note.txt", text.encode())
    switch = run_cli(cluster.folder / "switch", "reindex", "--model", INT8_MODEL, **cluster.shared)
    assert switch.returncode == 0, switch.stderr
    switched = eventually(
        lambda: all(
            health(node)["embedding_model"] == INT8_MODEL
            for node in (cluster.a, cluster.b)
            for _ in range(6)  # each node is two processes
        ),
        within=VISIBLE_WITHIN,
    )
    stop.set()
    asking.join(timeout=120)
    assert switched
    assert outcomes and [o for o in outcomes if o != 200] == []
    assert job_status(cluster, job_id) in ("queued", "running", "done")
    assert eventually(lambda: job_status(cluster, job_id) == "done", within=120)
    answer = cluster.ask(cluster.a, "How many spare pallets does the Falkirk warehouse keep?")
    assert any(c["name"] == "falkirk-note.txt" for c in answer["citations"])
    assert "Switched to all-MiniLM-L6-v2-int8" in switch.stdout
    expected = health(cluster.b)["chunks"]
    names = [
        c.name for c in connect(Path(), cluster.shared["DOCENT_CHROMA_URL"]).list_collections()
    ]
    new = next(name for name in names if name.startswith("docent--"))
    held = connect(Path(), cluster.shared["DOCENT_CHROMA_URL"]).get_collection(new).count()
    assert held == expected
