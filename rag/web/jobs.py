"""Background jobs: ingestion runs on one worker thread, outside the request that asked for it,
and reports its progress (`GET /api/v1/jobs/{id}`, and to the chat UI while it waits)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from rag.errors import DocentError, NotFoundError
from rag.web.auth import document_manager

__all__ = ["Job", "JobProgress", "JobRunner", "Step", "jobs_router"]

log = logging.getLogger(__name__)

Status = Literal["queued", "running", "done", "failed"]


class Job(BaseModel):
    id: str
    kind: str
    items: list[str] = Field(default_factory=list, description="What the job works on.")
    status: Status = "queued"
    done: int = 0
    total: int = 0
    current: str = ""
    result: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    created_at: str


JobProgress = Callable[[int, int, str], None]  # (done, total, current item)
Step = Callable[[JobProgress], dict[str, Any]]  # the work; returns the job's result


class JobRunner:
    """Runs jobs one at a time in submission order; keeps the last `keep` jobs."""

    def __init__(self, keep: int = 200) -> None:
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docent-job")

    def submit(self, kind: str, step: Step, items: list[str] | None = None) -> Job:
        job = Job(
            id=uuid.uuid4().hex,
            kind=kind,
            items=items or [],
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._lock:
            self._jobs[job.id] = job
            finished = [i for i, j in self._jobs.items() if j.status in ("done", "failed")]
            for old in finished[: max(0, len(self._jobs) - self.keep)]:
                del self._jobs[old]
        self._pool.submit(self._run, job.id, step)
        return job.model_copy()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.model_copy() if job else None

    def wait(self, job_id: str, timeout: float) -> Job | None:
        """The job after the next change of any job (or `timeout` seconds): callers showing
        progress loop on this until the job is done. None when the job is unknown."""
        with self._changed:
            job = self._jobs.get(job_id)
            if job is not None and job.status in ("queued", "running"):
                self._changed.wait(timeout)
                job = self._jobs.get(job_id)
            return job.model_copy() if job else None

    def active(self) -> list[Job]:
        with self._lock:
            return [
                j.model_copy() for j in self._jobs.values() if j.status in ("queued", "running")
            ]

    def _update(self, job_id: str, **fields: Any) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                self._jobs[job_id] = job.model_copy(update=fields)
                self._changed.notify_all()

    def _run(self, job_id: str, step: Step) -> None:
        self._update(job_id, status="running")

        def progress(done: int, total: int, current: str) -> None:
            self._update(job_id, done=done, total=total, current=current)

        try:
            result = step(progress)
        except DocentError as exc:
            self._update(job_id, status="failed", error=str(exc))
        except Exception as exc:  # a job must never die silently
            log.exception("job %s failed", job_id)
            self._update(job_id, status="failed", error=f"internal error: {type(exc).__name__}")
        else:
            self._update(job_id, status="done", result=result)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


def jobs_router(jobs: JobRunner) -> APIRouter:
    """Job progress; like documents, it needs an API key (or an open install)."""
    router = APIRouter(
        prefix="/api/v1", tags=["documents"], dependencies=[Depends(document_manager)]
    )

    @router.get("/jobs/{job_id}", response_model=Job)
    def job_status(job_id: str) -> Job:
        job = jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no job with id {job_id}")
        return job

    return router
