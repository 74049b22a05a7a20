"""Job progress over HTTP: `GET /api/v1/jobs/{id}` reads the shared queue, so any process of
any node answers for a job any worker runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from rag.errors import NotFoundError
from rag.jobs.queue import Job, JobQueue
from rag.web.auth import document_manager

__all__ = ["jobs_router"]


def jobs_router(jobs: JobQueue) -> APIRouter:
    """Like documents, job progress needs an API key (or an open install)."""
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
