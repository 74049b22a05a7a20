"""A watched folder stays in sync: new, changed and deleted files go through the job queue and
the incremental write path (real file-system events, the real worker, Chroma and the model)."""

from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.database import Database
from index.manifest import Manifest
from index.paths import LINK_OUTSIDE
from rag.jobs.queue import Job, JobQueue
from rag.jobs.watch import FolderWatch
from rag.jobs.worker import Worker
from rag.runtime import Runtime
from tests.helpers import SAMPLES, run_cli
from tests.made_files import csv_file

_PATIENCE = 60  # seconds a batch may take to be noticed and indexed


class Watching:
    """The watch loop on a thread; each finished job's result arrives on `results`."""

    def __init__(self, runtime: Runtime, folder: Path) -> None:
        jobs = JobQueue(runtime.database)
        self.jobs = jobs
        self.worker = Worker(runtime, jobs)
        self.results: queue.Queue[Job | None] = queue.Queue()
        self.stop = threading.Event()
        watch = FolderWatch(folder, "handbook", jobs, runtime.ingestor.manifest)
        self.thread = threading.Thread(
            target=watch.run, args=(self.stop, self._run), kwargs={"debounce_ms": 300}
        )

    def _run(self, job: Job) -> None:
        while self.worker.run_one():
            pass
        self.results.put(self.jobs.get(job.id))

    def next_result(self) -> dict[str, Any]:
        finished = self.results.get(timeout=_PATIENCE)
        assert finished is not None and finished.status == "done", finished
        return finished.result


@pytest.fixture
def watching(tmp_path: Path, fresh_runtime: Runtime) -> Iterator[tuple[Watching, Path]]:
    folder = tmp_path / "share"
    (folder / "hr").mkdir(parents=True)
    shutil.copy(SAMPLES / "onboarding.txt", folder / "hr")
    (folder / ".hidden.txt").write_text("Never indexed.")
    running = Watching(fresh_runtime, folder)
    running.thread.start()
    yield running, folder
    running.stop.set()
    running.thread.join(timeout=_PATIENCE)
    assert not running.thread.is_alive()


def test_a_watched_folder_follows_new_changed_and_deleted_files(
    watching: tuple[Watching, Path], fresh_runtime: Runtime
) -> None:
    running, folder = watching
    first = running.next_result()
    assert first["added"] == ["hr/onboarding.txt"]

    csv_file(folder / "budgets.csv")
    assert running.next_result()["added"] == ["budgets.csv"]

    onboarding = folder / "hr" / "onboarding.txt"
    onboarding.write_text(
        onboarding.read_text() + "\nBicycle parking permits are issued by Vera Lindqvist.\n"
    )
    assert running.next_result()["replaced"] == ["hr/onboarding.txt"]

    (folder / "budgets.csv").unlink()
    assert running.next_result()["removed"] == ["budgets.csv"]

    documents = {d.name: d for d in fresh_runtime.ingestor.manifest.all_documents()}
    assert set(documents) == {"hr/onboarding.txt"}
    assert documents["hr/onboarding.txt"].collection == "handbook"
    answer = fresh_runtime.assistant.answer("Who issues bicycle parking permits?")
    assert "Vera Lindqvist" in answer.text


def test_a_link_leading_out_of_a_watched_folder_is_skipped_and_said_so(
    watching: tuple[Watching, Path], fresh_runtime: Runtime, tmp_path: Path
) -> None:
    running, folder = watching
    assert running.next_result()["added"] == ["hr/onboarding.txt"]
    secret = tmp_path / "server" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("DOCENT_JWT_SECRET=wobbly-kumquat-7f3a9c\n")
    (folder / "hr" / "notes.txt").symlink_to(secret)
    result = running.next_result()
    assert result["skipped"] == [{"name": "hr/notes.txt", "reason": LINK_OUTSIDE}]
    assert not result["added"] and not result["failed"]
    assert fresh_runtime.lexical.search("wobbly kumquat", 5) == []
    assert "kumquat" not in " ".join(c.text for c in fresh_runtime.store.iter_chunks())
    assert [d.name for d in fresh_runtime.manifest.documents()] == ["hr/onboarding.txt"]


def test_files_deleted_while_nobody_watched_are_removed_on_start(
    tmp_path: Path, fresh_runtime: Runtime
) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    for name in ("onboarding.txt", "expenses.md"):
        shutil.copy(SAMPLES / name, folder)
    fresh_runtime.ingestor.ingest([folder])
    (folder / "expenses.md").unlink()
    running = Watching(fresh_runtime, folder)
    running.thread.start()
    try:
        result = running.next_result()
    finally:
        running.stop.set()
        running.thread.join(timeout=_PATIENCE)
    assert result["removed"] == ["expenses.md"]
    assert result["unchanged"] == ["onboarding.txt"]


def test_watch_takes_one_folder(tmp_path: Path) -> None:
    done = run_cli(tmp_path / "data", "ingest", "--watch", str(SAMPLES / "onboarding.txt"))
    assert done.returncode != 0
    assert "--watch takes one folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_documents_under_a_folder_are_found_by_their_exact_prefix(database: Database) -> None:
    manifest = Manifest(database)
    sources = [
        "/w/Docs/b.md",
        "/w/Docs/sub/a.md",
        "/w/docs/c.md",  # another folder where case matters
        "/w/Docs_x/d.md",  # '_' is no wildcard
        "/w/Docs%/e.md",  # nor '%'
        "/w/Docs.md",
    ]
    manifest.begin([(s, s.removeprefix("/w/"), "") for s in sources], "default")
    assert manifest.sources_under("/w/Docs") == ["/w/Docs/b.md", "/w/Docs/sub/a.md"]
    assert manifest.sources_under("/w/Docs%/") == ["/w/Docs%/e.md"]
