"""A durable job queue in the shared database. Any process may submit; any worker, on any
machine, claims the oldest queued job (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's write
lock does the same), reports progress (which every API process reads), and finishes or fails it.
A worker beats while it works; a running job whose beat stops (its worker was killed) goes back
to the queue, up to `MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import JSON, DateTime, Integer, String, Text, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from index.database import Base, Database, utcnow

__all__ = ["MAX_ATTEMPTS", "ClaimedJob", "Job", "JobQueue", "JobRow"]


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    items: Mapped[list[str]] = mapped_column(JSON)
    owner: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    current: Mapped[str] = mapped_column(String(1024), default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


Status = Literal["queued", "running", "done", "failed"]
MAX_ATTEMPTS = 3


class Job(BaseModel):
    """A job as callers see it."""

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

    @classmethod
    def of(cls, row: JobRow) -> Job:
        return cls(
            id=row.id,
            kind=row.kind,
            items=list(row.items),
            status=row.status,
            done=row.done,
            total=row.total,
            current=row.current,
            result=dict(row.result or {}),
            error=row.error,
            created_at=row.created_at.isoformat(timespec="seconds"),
        )


class ClaimedJob(BaseModel):
    """A job a worker took, with what it needs to do it."""

    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int


class JobQueue:
    def __init__(self, database: Database, stale_after: float = 30.0) -> None:
        self.database = database
        self.stale_after = stale_after

    def submit(self, kind: str, payload: dict[str, Any], items: list[str], owner: str = "") -> Job:
        row = JobRow(
            id=uuid.uuid4().hex,
            kind=kind,
            payload=payload,
            items=items,
            owner=owner,
            status="queued",
            done=0,
            total=len(items),
            current="",
            result={},
            attempts=0,
            created_at=utcnow(),
        )
        with self.database.write() as session:
            session.add(row)
        return Job.of(row)

    def get(self, job_id: str) -> Job | None:
        with self.database.read() as session:
            row = session.get(JobRow, job_id)
            return Job.of(row) if row else None

    def active(self, limit: int = 100) -> list[Job]:
        query = (
            select(JobRow)
            .where(JobRow.status.in_(("queued", "running")))
            .order_by(JobRow.created_at)
            .limit(limit)
        )
        with self.database.read() as session:
            return [Job.of(row) for row in session.scalars(query).all()]

    def counts(self) -> dict[str, int]:
        """Jobs by status."""
        query = select(JobRow.status, func.count()).group_by(JobRow.status)
        with self.database.read() as session:
            return {str(status): int(n) for status, n in session.execute(query).all()}

    def oldest_queued_seconds(self) -> float | None:
        """How long the oldest queued job has waited; None when none waits."""
        query = select(func.min(JobRow.created_at)).where(JobRow.status == "queued")
        with self.database.read() as session:
            oldest = session.scalar(query)
        if oldest is None:
            return None
        if oldest.tzinfo is None:  # SQLite returns naive UTC
            oldest = oldest.replace(tzinfo=UTC)
        return max((utcnow() - oldest).total_seconds(), 0.0)

    def claim(self, worker: str, job_id: str | None = None) -> ClaimedJob | None:
        """Take the oldest queued job (or the job `job_id` if it is queued) for `worker`, or
        None when there is none."""
        self.requeue_stale()
        query = select(JobRow).where(JobRow.status == "queued")
        if job_id is not None:
            query = query.where(JobRow.id == job_id)
        query = query.order_by(JobRow.created_at).limit(1).with_for_update(skip_locked=True)
        with self.database.write() as session:
            row = session.scalars(query).first()
            if row is None:
                return None
            row.status, row.worker, row.heartbeat_at = "running", worker, utcnow()
            row.attempts += 1
            return ClaimedJob(id=row.id, kind=row.kind, payload=row.payload, attempts=row.attempts)

    def beat(self, job_id: str) -> None:
        self._update(job_id, heartbeat_at=utcnow())

    def progress(self, job_id: str, done: int, total: int, current: str) -> None:
        self._update(job_id, done=done, total=total, current=current[:1024], heartbeat_at=utcnow())

    def finish(self, job_id: str, result: dict[str, Any]) -> None:
        self._update(job_id, status="done", result=result, finished_at=utcnow())

    def fail(self, job_id: str, error: str) -> None:
        self._update(job_id, status="failed", error=error, finished_at=utcnow())

    def release(
        self, job_id: str, worker: str, why: str = "handed back by a stopping worker"
    ) -> bool:
        """A stopping worker hands its running job back: queued again at once, not counted as
        an attempt (the write path redoes it without duplicates). False if it was not its."""
        with self.database.write() as session:
            released = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "running", JobRow.worker == worker)
                .values(
                    status="queued",
                    worker=None,
                    attempts=JobRow.attempts - 1,
                    current=why,
                )
            )
            return bool(getattr(released, "rowcount", 0))

    def _update(self, job_id: str, **values: Any) -> None:
        with self.database.write() as session:
            session.execute(update(JobRow).where(JobRow.id == job_id).values(**values))

    def requeue_stale(self) -> int:
        """Running jobs whose worker stopped beating go back to the queue (or fail for good
        after MAX_ATTEMPTS). Returns how many were requeued."""
        limit = utcnow() - timedelta(seconds=self.stale_after)
        stale = (JobRow.status == "running") & or_(
            JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < limit
        )
        with self.database.write() as session:
            session.execute(
                update(JobRow)
                .where(stale, JobRow.attempts >= MAX_ATTEMPTS)
                .values(
                    status="failed",
                    error=f"its worker stopped {MAX_ATTEMPTS} times",
                    finished_at=utcnow(),
                )
            )
            requeued = session.execute(
                update(JobRow).where(stale).values(status="queued", worker=None)
            )
            return int(getattr(requeued, "rowcount", 0) or 0)

    def wait(self, job_id: str, timeout: float, poll: float = 0.25) -> Job | None:
        """The job once it is done or failed, or as it stands after `timeout` seconds (callers
        showing progress loop on this). None when the job is unknown."""
        deadline = time.monotonic() + timeout
        job = self.get(job_id)
        while job is not None and job.status in ("queued", "running"):
            if time.monotonic() >= deadline:
                return job
            time.sleep(poll)
            job = self.get(job_id)
        return job
