"""Links never lead out of a folder (review round 2, H1): folder ingest, the watcher's jobs,
the worker and re-index read a file only if its real path is inside the folder named, opened
without following links (real Ingestor, Chroma, lexical index and model; real links on disk)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from index.ingest import SourceFile
from index.paths import LINK_OUTSIDE, list_folder
from index.types import document_id
from rag.jobs.queue import Job, JobQueue
from rag.jobs.watch import FolderWatch
from rag.jobs.worker import Worker
from rag.runtime import Runtime
from rag.web.uploads import Uploads
from tests.helpers import SAMPLES

SECRET = "DOCENT_JWT_SECRET=wobbly-kumquat-7f3a9c"
PUBLIC = "Bicycle parking permits are issued by Vera Lindqvist at the front desk."


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the share, holding the server's secrets."""
    folder = tmp_path / "server"
    (folder / "config").mkdir(parents=True)
    (folder / ".env").write_text(f"{SECRET}\n")
    (folder / "config" / "secret.txt").write_text(f"The signing key is {SECRET}.\n")
    return folder


@pytest.fixture
def share(tmp_path: Path) -> Path:
    folder = tmp_path / "share"
    (folder / "hr").mkdir(parents=True)
    shutil.copy(SAMPLES / "onboarding.txt", folder / "hr")
    return folder


def assert_secret_absent(runtime: Runtime, outside: Path) -> None:
    """Nothing of the secret in the store, the lexical index or the manifest."""
    texts = " ".join(chunk.text for chunk in runtime.store.iter_chunks())
    assert "kumquat" not in texts
    assert runtime.lexical.search("wobbly kumquat DOCENT_JWT_SECRET", 5) == []
    for document in runtime.manifest.all_documents():
        assert not document.source.startswith(str(outside)), document
        assert "kumquat" not in document.title


def run_job(runtime: Runtime, jobs: JobQueue, job: Job) -> Job:
    assert Worker(runtime, jobs).run_one()
    finished = jobs.get(job.id)
    assert finished is not None
    return finished


def test_a_file_link_leading_outside_is_skipped_and_said_so(
    fresh_runtime: Runtime, share: Path, outside: Path, tmp_path: Path
) -> None:
    (share / "notes.txt").symlink_to(outside / ".env")
    (share / "hr" / "keys.md").symlink_to("../../server/config/secret.txt")
    report = fresh_runtime.ingestor.ingest([share])
    assert report.added == ["hr/onboarding.txt"]
    assert report.skipped == [("hr/keys.md", LINK_OUTSIDE), ("notes.txt", LINK_OUTSIDE)]
    summary = report.summary()
    assert "2 skipped" in summary and "notes.txt" in summary and str(tmp_path) not in summary
    assert_secret_absent(fresh_runtime, outside)


def test_a_folder_link_leading_outside_is_skipped_and_said_so(
    fresh_runtime: Runtime, share: Path, outside: Path
) -> None:
    (share / "config").symlink_to(outside / "config", target_is_directory=True)
    (share / "hr" / "all").symlink_to(outside, target_is_directory=True)
    report = fresh_runtime.ingestor.ingest([share])
    assert report.added == ["hr/onboarding.txt"]
    assert report.skipped == [("config", LINK_OUTSIDE), ("hr/all", LINK_OUTSIDE)]
    # A watcher's event for a file under such a link is refused the same way.
    listing = list_folder(share, [share / "config" / "secret.txt", share / "hr" / "all"])
    assert listing.files == []
    assert listing.skipped == [("config/secret.txt", LINK_OUTSIDE), ("hr/all", LINK_OUTSIDE)]
    assert_secret_absent(fresh_runtime, outside)


def test_links_inside_the_folder_lead_to_each_real_file_once_and_a_loop_ends(
    fresh_runtime: Runtime, share: Path
) -> None:
    (share / "hr" / "parking.md").write_text(f"# Parking\n\n{PUBLIC}\n")
    (share / "alias.md").symlink_to("hr/parking.md")
    (share / "people").symlink_to("hr", target_is_directory=True)
    (share / "hr" / "loop").symlink_to("..", target_is_directory=True)  # hr/loop/hr/loop/...
    (share / "hr" / "self").symlink_to("self")  # a link to itself
    report = fresh_runtime.ingestor.ingest([share])
    assert report.added == ["hr/onboarding.txt", "hr/parking.md"] and not report.skipped
    names = [d.name for d in fresh_runtime.manifest.documents()]
    assert names == ["hr/onboarding.txt", "hr/parking.md"]
    # Named through a link, a file is still listed once, by its real path.
    listing = list_folder(share, [share / "alias.md", share / "people" / "parking.md"])
    assert [f.name for f in listing.files] == ["hr/parking.md"]
    again = fresh_runtime.ingestor.ingest([share])
    assert again.unchanged == ["hr/onboarding.txt", "hr/parking.md"] and not again.changed


def test_a_file_swapped_for_a_link_after_listing_is_not_read(
    fresh_runtime: Runtime, share: Path, outside: Path
) -> None:
    (share / "notes.txt").write_text(PUBLIC)
    (share / "minutes" / "2026").mkdir(parents=True)
    (share / "minutes" / "2026" / "march.txt").write_text(PUBLIC)
    (share / "pipe.txt").write_text(PUBLIC)
    listing = list_folder(share, [share])
    assert [f.name for f in listing.files] == [
        "hr/onboarding.txt",
        "minutes/2026/march.txt",
        "notes.txt",
        "pipe.txt",
    ]
    # Between listing and reading: the file becomes a link, a folder on the path becomes a
    # link to a folder outside holding a file of that name, another file becomes a FIFO.
    (share / "notes.txt").unlink()
    (share / "notes.txt").symlink_to(outside / ".env")
    (outside / "2026").mkdir()
    shutil.copy(outside / "config" / "secret.txt", outside / "2026" / "march.txt")
    shutil.rmtree(share / "minutes" / "2026")
    (share / "minutes" / "2026").symlink_to(outside / "2026", target_is_directory=True)
    (share / "pipe.txt").unlink()
    os.mkfifo(share / "pipe.txt")  # opening it must not wait for a writer
    report = fresh_runtime.ingestor.ingest_files(listing.files, "default")
    assert report.added == ["hr/onboarding.txt"]
    reasons = dict(report.failed)
    assert set(reasons) == {"minutes/2026/march.txt", "notes.txt", "pipe.txt"}
    assert "link" in reasons["notes.txt"] and "link" in reasons["minutes/2026/march.txt"]
    assert reasons["pipe.txt"] == "not a regular file"
    assert_secret_absent(fresh_runtime, outside)


def test_the_watcher_refuses_links_out_and_the_worker_reads_only_inside_the_root(
    fresh_runtime: Runtime, share: Path, outside: Path
) -> None:
    (share / "notes.txt").symlink_to(outside / ".env")
    jobs = JobQueue(fresh_runtime.database)
    watch = FolderWatch(share, "handbook", jobs, fresh_runtime.manifest)
    job = watch.submit([share])
    assert job is not None and job.items == ["hr/onboarding.txt"]
    finished = run_job(fresh_runtime, jobs, job)
    assert finished.status == "done" and finished.result["added"] == ["hr/onboarding.txt"]
    assert finished.result["skipped"] == [{"name": "notes.txt", "reason": LINK_OUTSIDE}]
    assert "1 skipped" in finished.result["summary"]

    # Payloads naming files outside their root, through '..', or with no root at all.
    root = str(share.resolve())
    secret = "server/config/secret.txt"
    escapes = [str(outside.parent / secret), f"{root}/../{secret}", "/etc/passwd"]
    names = ["notes.txt", "up.txt", "passwd.txt"]
    payload = {"collection": "handbook", "root": root, "sources": escapes, "names": names}
    refused = run_job(fresh_runtime, jobs, jobs.submit("ingest", payload, items=names))
    assert refused.status == "done" and not refused.result["added"]
    assert {f["name"] for f in refused.result["failed"]} == set(names)
    rootless = {"collection": "handbook", "sources": escapes[:1], "names": names[:1]}
    refused = run_job(fresh_runtime, jobs, jobs.submit("ingest", rootless, items=names[:1]))
    assert refused.status == "failed" and "refused" in (refused.error or "")
    unknown = {"collection": "handbook", "sources": escapes[:1], "names": ["secret.txt"]}
    refused = run_job(fresh_runtime, jobs, jobs.submit("reindex", unknown, items=["secret.txt"]))
    assert refused.status == "failed" and "refused" in (refused.error or "")
    assert_secret_absent(fresh_runtime, outside)


def test_a_document_whose_file_became_a_link_out_is_dropped_at_the_next_sync(
    fresh_runtime: Runtime, share: Path, outside: Path
) -> None:
    (share / "notes.txt").write_text(PUBLIC)
    (share / "minutes").mkdir()
    (share / "minutes" / "secret.txt").write_text(PUBLIC)
    fresh_runtime.ingestor.ingest([share])
    notes = fresh_runtime.manifest.get(document_id(str((share / "notes.txt").resolve())))
    assert notes is not None
    (share / "notes.txt").unlink()
    (share / "notes.txt").symlink_to(outside / ".env")
    shutil.rmtree(share / "minutes")
    (share / "minutes").symlink_to(outside / "config", target_is_directory=True)

    # Re-index reads the document's own path without following the link.
    jobs = JobQueue(fresh_runtime.database)
    reindex = Uploads(fresh_runtime.settings, fresh_runtime.manifest, jobs).reindex(notes.id)
    reread = run_job(fresh_runtime, jobs, reindex)
    assert reread.status == "done" and [f["name"] for f in reread.result["failed"]] == ["notes.txt"]
    assert_secret_absent(fresh_runtime, outside)

    report = fresh_runtime.ingestor.ingest([share], prune=True)
    assert sorted(report.removed) == ["minutes/secret.txt", "notes.txt"]
    assert report.skipped == [("minutes", LINK_OUTSIDE), ("notes.txt", LINK_OUTSIDE)]
    assert [d.name for d in fresh_runtime.manifest.documents()] == ["hr/onboarding.txt"]
    assert len(fresh_runtime.lexical) == fresh_runtime.store.count()
    assert_secret_absent(fresh_runtime, outside)


def test_the_watcher_drops_a_document_whose_file_became_a_link_out(
    fresh_runtime: Runtime, share: Path, outside: Path
) -> None:
    (share / "notes.txt").write_text(PUBLIC)
    jobs = JobQueue(fresh_runtime.database)
    watch = FolderWatch(share, "handbook", jobs, fresh_runtime.manifest)
    first = watch.submit([share])
    assert first is not None and run_job(fresh_runtime, jobs, first).status == "done"
    (share / "notes.txt").unlink()
    (share / "notes.txt").symlink_to(outside / ".env")
    job = watch.submit([share / "notes.txt"])
    assert job is not None
    finished = run_job(fresh_runtime, jobs, job)
    assert finished.status == "done" and finished.result["removed"] == ["notes.txt"]
    assert [d.name for d in fresh_runtime.manifest.documents()] == ["hr/onboarding.txt"]
    assert_secret_absent(fresh_runtime, outside)


def test_a_document_read_through_a_link_before_links_were_checked_is_dropped(
    fresh_runtime: Runtime, share: Path, outside: Path
) -> None:
    """What the old listing stored for `notes.txt -> ../server/.env`: the target's path under
    the link's name. The next sync, by prune or by the watcher, removes it."""
    secret = outside / ".env"
    (share / "notes.txt").symlink_to(secret)
    leaked = SourceFile(share / "notes.txt", str(secret), "notes.txt")
    for collection in ("default", "handbook"):
        fresh_runtime.ingestor.ingest_files([leaked], collection)
        assert fresh_runtime.lexical.search("wobbly kumquat", 5)
        if collection == "default":
            report = fresh_runtime.ingestor.ingest([share], prune=True)
            assert report.removed == ["notes.txt"]
        else:
            jobs = JobQueue(fresh_runtime.database)
            job = FolderWatch(share, "handbook", jobs, fresh_runtime.manifest).submit([share])
            assert job is not None
            assert run_job(fresh_runtime, jobs, job).result["removed"] == ["notes.txt"]
        assert_secret_absent(fresh_runtime, outside)
