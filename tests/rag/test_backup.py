"""`app.py backup` / `restore`: a backup taken while `serve` answers and ingests restores into
an empty install in a consistent state, and converges to the original once its queued jobs
ran (SQLite with embedded Chroma; PostgreSQL with Chroma servers); a restore refuses what it
cannot restore, in one line."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromadb.api.shared_system_client import SharedSystemClient

from index.embeddings import INT8_MODEL, Encoder
from index.store import connect
from rag.jobs.queue import JobQueue
from rag.jobs.worker import Worker
from rag.operations.backup import backup
from rag.runtime import Runtime, build_runtime
from rag.settings import Settings
from rag.stores.schema import open_database
from tests.helpers import (
    SAMPLES,
    PostgresCluster,
    chroma_server,
    free_port,
    make_settings,
    run_cli,
    start_app,
    wait_until_up,
)

CITIES = [
    "Aberdeen", "Bergen", "Cork", "Dundee", "Eindhoven", "Faro", "Ghent", "Hull",
    "Innsbruck", "Jena", "Kassel", "Leeds", "Malmo", "Nantes", "Oulu", "Porto",
    "Quimper", "Rennes", "Split", "Turku", "Utrecht", "Valencia", "Wroclaw", "York",
]  # fmt: skip
QUESTIONS = [
    "When does the Bergen depot open on weekdays?",
    "How many loading bays does the Porto depot have?",
    "Who manages the York depot?",
    "How many days of annual leave do I get?",
    "What is the mileage rate for private cars?",
]


def _depot_note(number: int, city: str) -> bytes:
    paragraphs = [
        f"Depot note {number}: {city}",
        f"The {city} depot opens at {6 + number % 4}:{15 * (number % 4):02d} on weekdays and "
        f"closes at {17 + number % 3}:00. On Saturdays it opens two hours later.",
        f"The {city} depot has {3 + number} loading bays and {20 + 7 * number} parking spaces "
        "for staff; visitors park in the public car park across the road.",
        f"The {city} depot is managed by {['Ana', 'Ben', 'Chloe', 'Dev'][number % 4]} "
        f"{city[::-1].capitalize()}, who approves overtime and holiday rotas for the site.",
        f"Forklift training at {city} runs every {['Monday', 'Tuesday', 'Thursday'][number % 3]} "
        "morning; nobody drives a forklift without the certificate.",
    ]
    return ("\n\n".join(paragraphs) + "\n").encode()


@contextlib.contextmanager
def _serving(data: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {"DOCENT_SAMPLES_DIR": str(SAMPLES), "DOCENT_RATE_LIMIT_PER_MINUTE": "0", **env}
    server = start_app(data, "serve", "--port", str(port), **env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, server)
        yield url, server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


def _poll(check: Any, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {within} s")


def _statuses(queue: JobQueue, ids: list[str]) -> set[str]:
    return {job.status for job in (queue.get(i) for i in ids) if job is not None}


def _consistency(settings: Settings, runtime: Runtime) -> dict[str, int]:
    """Every indexed document has exactly its chunks (same content hash) in Chroma and in the
    lexical index, and no other chunk is there."""
    records = {d.id: d for d in runtime.manifest.all_documents()}
    chunks: dict[str, int] = {}
    ids = set()
    for chunk_id, meta in _chroma_rows(settings):
        document = str(meta["document_id"])
        record = records.get(document)
        assert record is not None and record.status == "indexed", (document, meta["name"])
        assert meta["file_hash"] == runtime.manifest.indexed_hash(record.source), meta["name"]
        chunks[document] = chunks.get(document, 0) + 1
        ids.add(chunk_id)
    indexed = {d.id: d.chunks for d in records.values() if d.status == "indexed"}
    assert chunks == {d: n for d, n in indexed.items() if n}, "chunks per indexed document"
    assert runtime.lexical.chunk_ids() == ids
    return chunks


def _chroma_rows(settings: Settings) -> list[tuple[str, Any]]:
    client = connect(settings.chroma_dir, settings.chroma_url)
    collection = client.get_collection(settings.collection, embedding_function=None)
    found = collection.get(include=["metadatas"])
    return list(zip(found["ids"], found["metadatas"] or [], strict=True))


def _answers(runtime: Runtime) -> list[tuple[str, list[str]]]:
    answers = [runtime.assistant.answer(q) for q in QUESTIONS]
    return [(a.text, [c.name for c in a.citations]) for a in answers]


def _backup_while_ingesting(
    tmp_path: Path, source: Settings, target: Settings, embeddings: Encoder, env: dict[str, str]
) -> None:
    with _serving(source.data_dir, **env) as (url, _):
        _poll(lambda: httpx.get(f"{url}/api/health").json()["documents"] == 9, 120, "samples")
        jobs = []
        for batch in range(8):  # one job each, run one after the other: the backup overlaps them
            files = [
                ("files", (f"depot-{CITIES[n]}.txt", _depot_note(n, CITIES[n])))
                for n in range(batch * 3, batch * 3 + 3)
            ]
            answer = httpx.post(
                f"{url}/api/v1/documents",
                files=files,
                headers={"X-Requested-With": "docent-test"},
                timeout=60,
            )
            assert answer.status_code == 202, answer.text
            jobs.append(answer.json()["job"]["id"])
        queue = JobQueue(open_database(source))
        _poll(lambda: "running" in _statuses(queue, jobs), 60, "a running job")
        manifest = backup(source, tmp_path / "backup")  # in this process: no start-up delay
        _poll(lambda: _statuses(queue, jobs) == {"done"}, 180, "the jobs")
    listing = json.loads((tmp_path / "backup" / "backup.json").read_text())
    assert listing == json.loads(manifest.model_dump_json())
    unfinished = listing["jobs"].get("queued", 0) + listing["jobs"].get("running", 0)
    assert unfinished > 0, f"the backup caught the ingest: {listing['jobs']}"
    assert listing["counts"]["indexed_documents"] < 9 + 24
    target_env = {
        k: v for k, v in env.items() if k not in ("DOCENT_DATABASE_URL", "DOCENT_CHROMA_URL")
    }
    target_env |= {
        "DOCENT_DATABASE_URL": target.database_url or "",
        "DOCENT_CHROMA_URL": target.chroma_url or "",
    }
    target_env = {k: v for k, v in target_env.items() if v}
    restored = run_cli(target.data_dir, "restore", str(tmp_path / "backup"), **target_env)
    assert restored.returncode == 0, restored.stderr

    restored_runtime = build_runtime(target, embeddings=embeddings)
    _consistency(target, restored_runtime)
    queue = restored_runtime.stores.jobs
    waiting = queue.active()
    assert all(job.status == "queued" for job in waiting), "no job is left running"
    assert {job.id for job in waiting} <= set(jobs) | {
        job.id for job in waiting if job.kind == "reindex"
    }
    worker = Worker(restored_runtime, queue)
    while worker.run_one():
        pass
    # The source's embedded store, read afresh (this process opened it during the ingest).
    SharedSystemClient.clear_system_cache()
    original = build_runtime(source, embeddings=embeddings)
    assert _consistency(target, restored_runtime) == _consistency(source, original)
    assert restored_runtime.manifest.count() == original.manifest.count() == 9 + 24
    assert _answers(restored_runtime) == _answers(original)


@pytest.mark.slow
def test_a_backup_taken_while_ingesting_restores_consistent_sqlite(
    tmp_path: Path, embeddings: Encoder
) -> None:
    source = make_settings(tmp_path / "a")
    target = make_settings(tmp_path / "b")
    _backup_while_ingesting(tmp_path, source, target, embeddings, {})


@pytest.mark.slow
def test_a_backup_taken_while_ingesting_restores_consistent_postgresql(
    tmp_path: Path, embeddings: Encoder, postgres: PostgresCluster
) -> None:
    with (
        chroma_server(tmp_path / "chroma-a") as chroma_a,
        chroma_server(tmp_path / "chroma-b") as chroma_b,
    ):
        source = make_settings(
            tmp_path / "a", database_url=postgres.create_database(), chroma_url=chroma_a
        )
        target = make_settings(
            tmp_path / "b", database_url=postgres.create_database(), chroma_url=chroma_b
        )
        env = {"DOCENT_DATABASE_URL": source.database_url or "", "DOCENT_CHROMA_URL": chroma_a}
        _backup_while_ingesting(tmp_path, source, target, embeddings, env)


# --- refusals ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup of the samples (made by the CLI, as an operator would)."""
    data = tmp_path_factory.mktemp("small") / "data"
    ingested = run_cli(data, "ingest", str(SAMPLES))
    assert ingested.returncode == 0, ingested.stderr
    folder = data.parent / "backup"
    backed = run_cli(data, "backup", str(folder))
    assert backed.returncode == 0, backed.stderr
    assert "backed up 9 documents and 60 chunks" in backed.stdout
    return folder


def _copy(backup: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(backup, copy)
    return copy


def test_the_backup_lists_what_it_holds_and_is_private(small_backup: Path) -> None:
    listing = json.loads((small_backup / "backup.json").read_text())
    assert listing["counts"]["documents"] == 9 and listing["counts"]["chunks"] == 60
    assert listing["index"]["embedding_model"] == "all-MiniLM-L6-v2"
    assert listing["schema_revision"] and listing["database"] == "sqlite"
    assert set(listing["files"]) == {
        p.relative_to(small_backup).as_posix()
        for p in small_backup.rglob("*")
        if p.is_file() and p.name != "backup.json"
    }
    assert all(p.stat().st_mode & 0o077 == 0 for p in small_backup.rglob("*"))


def test_backing_up_into_a_non_empty_folder_is_refused(small_backup: Path) -> None:
    refused = run_cli(small_backup.parent / "data", "backup", str(small_backup))
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "not empty" in refused.stderr


def test_a_restore_answers_like_the_original(
    small_backup: Path, tmp_path: Path, embeddings: Encoder
) -> None:
    restored = run_cli(tmp_path / "data", "restore", str(small_backup))
    assert restored.returncode == 0, restored.stderr
    assert "restored 9 documents and 60 chunks" in restored.stdout
    settings = make_settings(tmp_path / "data")
    runtime = build_runtime(settings, embeddings=embeddings)
    assert len(_consistency(settings, runtime)) == 9
    answer = runtime.assistant.answer("How many days of annual leave do I get?")
    assert "26 days" in answer.text and answer.citations


def test_a_restore_never_overwrites_without_force(small_backup: Path, tmp_path: Path) -> None:
    first = run_cli(tmp_path / "data", "restore", str(small_backup))
    assert first.returncode == 0, first.stderr
    again = run_cli(tmp_path / "data", "restore", str(small_backup))
    assert again.returncode == 2 and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    forced = run_cli(tmp_path / "data", "restore", str(small_backup), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "restored 9 documents and 60 chunks" in forced.stdout


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("schema", "newer Docent"),
        ("model", "DOCENT_EMBEDDING_MODEL"),
        ("checksum", "damaged"),
        ("listing", "not a Docent backup"),
    ],
)
def test_a_restore_refuses_what_it_cannot_restore(
    small_backup: Path, tmp_path: Path, damage: str, reason: str
) -> None:
    copy = _copy(small_backup, tmp_path)
    listing_file = copy / "backup.json"
    listing = json.loads(listing_file.read_text())
    env = {}
    if damage == "schema":
        listing["schema_revision"] = "9999"
    elif damage == "model":
        env["DOCENT_EMBEDDING_MODEL"] = INT8_MODEL
    elif damage == "checksum":
        part = next((copy / "chunks").glob("*.npy"))
        part.write_bytes(part.read_bytes()[:-8] + b"\0" * 8)
    listing_file.write_text(json.dumps(listing))
    if damage == "listing":
        listing_file.unlink()
    refused = run_cli(tmp_path / "data", "restore", str(copy), **env)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert reason in refused.stderr
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())
