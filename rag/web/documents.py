"""Documents and collections over HTTP (under /api/v1).

Uploads go through `Uploads` (checked, saved, indexed by a background job whose progress
`GET /api/v1/jobs/{id}` reports). Documents are named by id and display name; server paths
never leave the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel

from index.types import DEFAULT_COLLECTION
from rag.errors import InputError, NotFoundError
from rag.runtime import Runtime
from rag.web.auth import document_manager
from rag.web.jobs import Job
from rag.web.uploads import UploadAccepted, Uploads

__all__ = ["Document", "documents_router"]


class Document(BaseModel):
    id: str
    name: str
    title: str
    collection: str
    chunks: int
    ingested_at: str
    status: str  # "indexed", or "queued" / "indexing" while an upload job holds it
    job_id: str | None = None


def documents_router(runtime: Runtime, uploads: Uploads) -> APIRouter:
    """Managing documents needs an API key (or an open install); portal tokens only ask."""
    router = APIRouter(
        prefix="/api/v1", tags=["documents"], dependencies=[Depends(document_manager)]
    )
    settings = runtime.settings

    def find(doc_id: str) -> dict[str, Any]:
        for document in runtime.store.documents():
            if document["id"] == doc_id:
                return document
        raise NotFoundError(f"no document with id {doc_id}")

    @router.post("/documents", status_code=202, response_model=UploadAccepted)
    def upload(
        files: Annotated[
            list[UploadFile], File(description="One or more .txt .md .html .pdf .docx files")
        ],
        collection: Annotated[str, Form(max_length=64)] = DEFAULT_COLLECTION,
        replace: Annotated[bool, Form(description="Replace documents of the same name")] = False,
    ) -> UploadAccepted:
        """Save the files and index them in the background; poll the returned job."""
        named = [(f.filename or "upload", f.file) for f in files]
        return uploads.accept(named, collection, replace)

    @router.get("/documents", response_model=list[Document])
    def list_documents(collection: str | None = None) -> list[Document]:
        """Indexed documents, and uploads still waiting for or in indexing."""
        indexed = [
            Document.model_validate({**d, "status": "indexed"}) for d in runtime.store.documents()
        ]
        known = {d.name for d in indexed}
        pending = [
            Document(
                id="",
                name=name,
                title="",
                collection="",
                chunks=0,
                ingested_at="",
                status="queued" if job.status == "queued" else "indexing",
                job_id=job.id,
            )
            for job in uploads.jobs.active()
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
            raise InputError(f"the file behind this document is gone: {document['name']}")
        return uploads.submit_indexing(
            [path], document["collection"], kind="reindex", remove_first=document["source"]
        )

    @router.get("/collections")
    def collections() -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for document in runtime.store.documents():
            counts[document["collection"]] = counts.get(document["collection"], 0) + 1
        return [{"name": name, "documents": n} for name, n in sorted(counts.items())]

    return router
