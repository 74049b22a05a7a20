"""Documents and collections over HTTP (under /api/v1).

Uploads are checked (type, size, safe name) and saved in the request; indexing them runs as
a background job whose progress `GET /api/v1/jobs/{id}` reports. A document's id is a short
hash of its source path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from pydantic import BaseModel

from index.errors import InputError
from index.ingest import IngestReport
from index.types import DEFAULT_COLLECTION
from rag.auth import document_manager
from rag.jobs import Job, JobRunner, Progress
from rag.runtime import Runtime
from rag.uploads import check_collection, save_upload

__all__ = ["document_id", "documents_router"]


def document_id(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


class Refused(BaseModel):
    name: str
    reason: str


class UploadAccepted(BaseModel):
    job: Job
    accepted: list[str]
    refused: list[Refused]


class Document(BaseModel):
    id: str
    name: str
    source: str
    title: str
    collection: str
    chunks: int
    ingested_at: str
    status: str  # "indexed", or "queued" / "indexing" while an upload job holds it
    job_id: str | None = None


def _result(report: IngestReport) -> dict[str, Any]:
    return {
        "summary": report.summary(),
        "added": [Path(s).name for s in report.added],
        "replaced": [Path(s).name for s in report.replaced],
        "unchanged": [Path(s).name for s in report.unchanged],
        "failed": [{"name": Path(p).name, "reason": r} for p, r in report.failed],
        "chunks_written": report.chunks_written,
    }


def documents_router(runtime: Runtime, jobs: JobRunner) -> APIRouter:
    """Managing documents needs an API key (or an open install); portal tokens only ask."""
    router = APIRouter(
        prefix="/api/v1", tags=["documents"], dependencies=[Depends(document_manager)]
    )
    settings = runtime.settings

    def ingest_job(paths: list[Path], collection: str, remove_first: str | None = None) -> Any:
        def step(progress: Progress) -> dict[str, Any]:
            if remove_first:
                runtime.ingestor.remove(remove_first)
            report = runtime.ingestor.ingest(
                paths,
                progress=lambda done, total, path: progress(done, total, path.name),
                collection=collection,
            )
            return _result(report)

        return step

    def find(doc_id: str) -> dict[str, Any]:
        for document in runtime.store.documents():
            if document_id(document["source"]) == doc_id:
                return document
        raise HTTPException(404, f"no document with id {doc_id}")

    @router.post("/documents", status_code=202, response_model=UploadAccepted)
    def upload(
        files: Annotated[
            list[UploadFile], File(description="One or more .txt .md .html .pdf .docx files")
        ],
        collection: Annotated[str, Form()] = DEFAULT_COLLECTION,
    ) -> UploadAccepted:
        """Save the files and index them in the background; poll the returned job."""
        check_collection(collection)
        folder = settings.uploads_dir / collection
        saved: list[Path] = []
        refused: list[Refused] = []
        for upload in files:
            name = upload.filename or "upload"
            try:
                saved.append(
                    save_upload(upload.file, name, folder, settings.max_upload_mb * 1024 * 1024)
                )
            except InputError as exc:
                refused.append(Refused(name=name, reason=str(exc)))
        if not saved:
            raise InputError(
                "no file was accepted: " + "; ".join(r.reason for r in refused)
                if refused
                else "no file was sent"
            )
        names = [p.name for p in saved]
        job = jobs.submit("upload", ingest_job(saved, collection), items=names)
        return UploadAccepted(job=job, accepted=names, refused=refused)

    @router.get("/documents", response_model=list[Document])
    def list_documents(collection: str | None = None) -> list[Document]:
        """Indexed documents, and uploads still waiting for or in indexing."""
        indexed = [
            Document(
                id=document_id(d["source"]), name=Path(d["source"]).name, status="indexed", **d
            )
            for d in runtime.store.documents()
        ]
        known = {d.name for d in indexed}
        pending = [
            Document(
                id="",
                name=name,
                source="",
                title="",
                collection="",
                chunks=0,
                ingested_at="",
                status="queued" if job.status == "queued" else "indexing",
                job_id=job.id,
            )
            for job in jobs.active()
            for name in job.items
            if name not in known
        ]
        listed = indexed + pending
        return [d for d in listed if collection is None or d.collection in (collection, "")]

    @router.delete("/documents/{doc_id}")
    def delete_document(doc_id: str) -> dict[str, Any]:
        """Remove a document from both indexes (and its uploaded file)."""
        with runtime.ingestor.lock:
            document = find(doc_id)
            removed = runtime.ingestor.remove(document["source"])
            path = Path(document["source"])
            if settings.uploads_dir.resolve() in path.resolve().parents:
                path.unlink(missing_ok=True)
        return {"id": doc_id, "removed_chunks": removed}

    @router.post("/documents/{doc_id}/reindex", status_code=202, response_model=Job)
    def reindex(doc_id: str) -> Job:
        """Read the document's file again and index it anew, in the background."""
        document = find(doc_id)
        path = Path(document["source"])
        if not path.is_file():
            raise InputError(f"the file behind this document is gone: {path.name}")
        step = ingest_job([path], document["collection"], remove_first=document["source"])
        return jobs.submit("reindex", step, items=[path.name])

    @router.get("/jobs/{job_id}", response_model=Job)
    def job_status(job_id: str) -> Job:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job with id {job_id}")
        return job

    @router.get("/collections")
    def collections() -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for document in runtime.store.documents():
            counts[document["collection"]] = counts.get(document["collection"], 0) + 1
        return [{"name": name, "documents": n} for name, n in sorted(counts.items())]

    return router
