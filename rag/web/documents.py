"""Documents and collections over HTTP (under /api/v1), read from the manifest (never by
scanning the store).

Uploads go through `Uploads` (checked, kept in the database, indexed by a queued job whose
progress `GET /api/v1/jobs/{id}` reports). Documents are named by id and display name; server
paths never leave the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel

from index.ingest import Ingestor
from index.loaders import SUPPORTED_SUFFIXES
from index.manifest import DocumentRecord
from index.types import DEFAULT_COLLECTION
from rag.errors import NotFoundError
from rag.jobs.queue import Job
from rag.web.auth import Manager, document_manager
from rag.web.uploads import UploadAccepted, Uploads

__all__ = ["documents_router"]


class Collection(BaseModel):
    name: str
    documents: int


def documents_router(ingestor: Callable[[], Ingestor], uploads: Uploads) -> APIRouter:
    """Managing documents needs an API key (or an open install); portal tokens only ask.
    `ingestor` gives the node's current write path (a model switch replaces it)."""
    router = APIRouter(
        prefix="/api/v1", tags=["documents"], dependencies=[Depends(document_manager)]
    )
    manifest = ingestor().manifest

    @router.post("/documents", status_code=202, response_model=UploadAccepted)
    def upload(
        principal: Manager,
        files: Annotated[
            list[UploadFile],
            File(description="One or more documents: " + ", ".join(sorted(SUPPORTED_SUFFIXES))),
        ],
        collection: Annotated[str, Form(max_length=64)] = DEFAULT_COLLECTION,
        replace: Annotated[bool, Form(description="Replace documents of the same name")] = False,
    ) -> UploadAccepted:
        """Keep the files and index them in the background; poll the returned job."""
        named = [(f.filename or "upload", f.file) for f in files]
        return uploads.accept(named, collection, replace, owner=principal.caller)

    @router.get("/documents", response_model=list[DocumentRecord])
    def list_documents(
        collection: Annotated[str | None, Query(max_length=64)] = None,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[DocumentRecord]:
        """One page of documents by name, with their status (`indexing` while a job writes)."""
        return manifest.documents(None if collection is None else [collection], offset, limit)

    @router.delete("/documents/{doc_id}")
    def delete_document(doc_id: str) -> dict[str, Any]:
        """Remove a document from both indexes (and its uploaded bytes)."""
        removed = ingestor().remove_document(doc_id)
        if removed is None:
            raise NotFoundError(f"no document with id {doc_id}")
        return {"id": doc_id, "removed_chunks": removed}

    @router.post("/documents/{doc_id}/reindex", status_code=202, response_model=Job)
    def reindex(doc_id: str, principal: Manager) -> Job:
        """Read the document again and index it anew, in the background."""
        if manifest.get(doc_id) is None:
            raise NotFoundError(f"no document with id {doc_id}")
        return uploads.reindex(doc_id, owner=principal.caller)

    @router.get("/collections", response_model=list[Collection])
    def collections() -> list[Collection]:
        counts = manifest.collections()
        return [Collection(name=name, documents=n) for name, n in sorted(counts.items())]

    return router
