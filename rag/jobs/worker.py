"""The ingestion worker: claims jobs from the durable queue and runs them with the write path.

Kinds of job: `ingest` (uploaded files, whose bytes the manifest keeps, or files of a watched
folder, into a collection; a watched folder's job also names the documents whose files are gone)
and `reindex` (one document read again), and `switch-index` (a model switch,
`rag.operations.model_switch`). Before each claim the worker follows a switch another node
made; a job whose write meets one (`IndexSwitchedError`) goes back to the queue and is done
again on the live index. `python app.py worker` runs this loop on its own; in the
embedded default, `serve` runs it in a thread (`DOCENT_RUN_JOBS`). A job a worker dies in is
claimed again once its beat stops, and redone without duplicates (the write path is
idempotent per document). A worker told to stop (SIGTERM) claims nothing more, lets its running
job finish within DOCENT_SHUTDOWN_GRACE_SECONDS, and otherwise hands it back to the queue at
once (`Worker.stop`), so another worker takes it without waiting for the beat to go stale.

Files on disk are read by `index/paths.py`'s rule, re-applied here at read time: an `ingest` job
names the folder (`root`) its files were listed under and each is read only if it is a regular
file inside it, opened without following links; a `reindex` job reads a document from the
folder its name says it was listed under. A job naming a file on disk without such a folder is
refused; a file outside it fails.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
from functools import partial
from pathlib import Path
from typing import Any

from index.ingest import IngestProgress, IngestReport, SourceFile
from index.paths import document_root
from index.types import document_id
from rag.errors import DocentError, IndexSwitchedError
from rag.jobs.queue import ClaimedJob, JobQueue
from rag.operations.model_switch import SWITCH_JOB, run_switch
from rag.runtime import Runtime

__all__ = ["Worker", "report_result"]

log = logging.getLogger(__name__)


def report_result(report: IngestReport) -> dict[str, Any]:
    """What a job shows of an ingest: names and counts."""
    return {
        "summary": report.summary(),
        "added": report.added,
        "replaced": report.replaced,
        "unchanged": report.unchanged,
        "removed": report.removed,
        "failed": [{"name": name, "reason": reason} for name, reason in report.failed],
        "skipped": [{"name": name, "reason": reason} for name, reason in report.skipped],
        "partial": [{"name": name, "note": note} for name, note in report.partial],
        "chunks_written": report.chunks_written,
    }


class Worker:
    def __init__(self, runtime: Runtime, queue: JobQueue, name: str | None = None) -> None:
        self.runtime = runtime
        self.queue = queue
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._running: str | None = None  # the id of the job being run
        self._handed_back = False

    def run(self, stop: threading.Event, poll: float = 0.5) -> None:
        """Run jobs until `stop` is set; waits `poll` seconds when the queue is empty."""
        self.runtime.ingestor.resume()
        while not stop.is_set():
            try:
                worked = self.run_one()
            except Exception:  # the loop must survive a broken job or a database hiccup
                log.exception("the worker loop failed; going on")
                worked = False
            if not worked:
                stop.wait(poll)

    def run_one(self, job_id: str | None = None) -> bool:
        """Claim and run one job (the oldest, or `job_id`); False when there was none."""
        self.runtime.follow_live_index()
        job = self.queue.claim(self.name, job_id)
        if job is None:
            return False
        self._running = job.id
        beating = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job.id, beating), daemon=True)
        beat.start()
        result: dict[str, Any] | None = None
        error = ""
        switched = False
        try:
            result = self._execute(job)
        except IndexSwitchedError as exc:
            log.warning("job %s goes back to the queue: %s", job.id, exc)
            switched = True
        except DocentError as exc:
            error = str(exc)
        except Exception as exc:  # a job must never die silently
            log.exception("job %s failed", job.id)
            error = f"internal error: {type(exc).__name__}"
        finally:
            beating.set()
            beat.join()
            self._running = None
        if self._handed_back:  # a handed-back job is another worker's now
            return True
        if switched:
            self.queue.release(job.id, self.name, "the index switched models: done again")
            return True
        if result is None:
            self.queue.fail(job.id, error)
        else:
            self.queue.finish(job.id, result)
        return True

    def stop(self, thread: threading.Thread, grace: float) -> str | None:
        """After `run`'s stop event is set: wait up to `grace` seconds for the running job
        (in `thread`) to finish, then hand it back; the id of a job handed back, or None."""
        thread.join(grace)
        return self.hand_back() if thread.is_alive() else None

    def hand_back(self) -> str | None:
        """Stop for good: the running job (if any) goes back to the queue for another worker;
        its id, or None. The caller's process exits next (what was written is redone
        without duplicates, as after a kill)."""
        self._handed_back = True
        job_id = self._running
        if job_id is not None and self.queue.release(job_id, self.name):
            log.warning("job %s handed back to the queue", job_id)
            return job_id
        return None

    def _beat(self, job_id: str, done: threading.Event) -> None:
        """Beat several times within the queue's patience, so a live worker is never robbed."""
        while not done.wait(self.queue.stale_after / 6):
            self.queue.beat(job_id)

    def _on_disk(self, job: ClaimedJob, source: str, name: str) -> SourceFile:
        """The file on disk a job names, with the folder it may be read from: the job's root
        (a watched folder's), or for a re-index the folder the document was listed under."""
        if job.kind == "reindex":
            record = self.runtime.ingestor.manifest.get(document_id(source))
            root = document_root(record.source, record.name) if record is not None else None
        else:
            named = job.payload.get("root")
            root = Path(named) if isinstance(named, str) and named.startswith("/") else None
        if root is None:
            raise DocentError(f"refused: {name} is on disk and the job names no folder it is from")
        return SourceFile(Path(source), source, name, root)

    def _execute(self, job: ClaimedJob) -> dict[str, Any]:
        if job.kind == SWITCH_JOB:
            return run_switch(self.runtime, job.payload, partial(self.queue.progress, job.id))
        manifest = self.runtime.ingestor.manifest

        def progress(status: IngestProgress) -> None:
            self.queue.progress(job.id, status.files_done, status.files_total, status.describe())

        collection = str(job.payload["collection"])
        with tempfile.TemporaryDirectory(prefix="docent-job-") as folder:
            files = []
            for number, source in enumerate(job.payload["sources"]):
                stored = manifest.stored_file(source)
                if stored is None:
                    if not source.startswith("/"):
                        raise DocentError(f"the content of {source.split('/')[-1]} is gone")
                    files.append(self._on_disk(job, source, str(job.payload["names"][number])))
                    continue
                path = Path(folder) / str(number) / Path(stored.name).name
                path.parent.mkdir()
                path.write_bytes(stored.content)
                files.append(SourceFile(path, source, stored.name))
            force = job.kind == "reindex"
            report = self.runtime.ingestor.ingest_files(files, collection, progress, force)
        report.skipped += [
            (str(name), str(reason)) for name, reason in job.payload.get("skipped", [])
        ]
        # A watched folder's deleted files (unless back since the job was queued).
        report.removed += self.runtime.ingestor.remove_gone(job.payload.get("removed", []))
        return report_result(report)
