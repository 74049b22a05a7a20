"""The one way files enter Docent over the web, for the HTTP API and the chat UI alike:
a safe name, an allowed type and a size limit; the bytes go into the shared database (so any
worker on any machine can read them) and a job on the durable queue indexes them, whose
progress every surface shows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel

from index.loaders import SUPPORTED_SUFFIXES
from index.manifest import Manifest, StoredFile
from index.types import document_id
from rag.errors import InputError
from rag.jobs.queue import Job, JobQueue
from rag.settings import Settings

__all__ = [
    "Refused",
    "UploadAccepted",
    "Uploads",
    "check_collection",
    "read_upload",
    "safe_filename",
    "upload_source",
]

_COLLECTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_READ_SIZE = 1 << 20
_MB = 1 << 20


def safe_filename(name: str) -> str:
    """A file name without folders or unusual characters, keeping its suffix."""
    base = Path(name).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._") or "upload"
    return cleaned[:120]


def check_collection(name: str) -> str:
    if not _COLLECTION.fullmatch(name):
        raise InputError(f"invalid collection name {name!r}: use 1-64 letters, digits, '-' or '_'")
    return name


def upload_source(collection: str, filename: str) -> str:
    """The source key of an uploaded document."""
    return f"upload:{collection}/{filename}"


def read_upload(stream: BinaryIO, filename: str, max_bytes: int) -> bytes:
    """The bytes of an upload, refused as soon as they pass `max_bytes`."""
    chunks, size = [], 0
    while block := stream.read(_READ_SIZE):
        size += len(block)
        if size > max_bytes:
            raise InputError(f"{filename}: larger than {max_bytes // _MB} MB")
        chunks.append(block)
    return b"".join(chunks)


class Refused(BaseModel):
    name: str
    reason: str


class UploadAccepted(BaseModel):
    job: Job
    accepted: list[str]
    refused: list[Refused]


class Uploads:
    """Checks uploads, keeps their bytes and queues the job that indexes them."""

    def __init__(self, settings: Settings, manifest: Manifest, jobs: JobQueue) -> None:
        self.settings = settings
        self.manifest = manifest
        self.jobs = jobs

    def accept(
        self,
        files: Sequence[tuple[str, BinaryIO]],
        collection: str,
        replace: bool = False,
        owner: str = "",
    ) -> UploadAccepted:
        """Keep each (name, stream) that passes the checks and queue one job indexing them;
        refusals are reported per file. Raises `InputError` when no file was accepted."""
        check_collection(collection)
        if len(files) > self.settings.max_upload_files:
            raise InputError(f"at most {self.settings.max_upload_files} files in one upload")
        kept: list[StoredFile] = []
        refused: list[Refused] = []
        for name, stream in files:
            try:
                kept.append(self._checked(stream, name, collection, replace, kept))
            except InputError as exc:
                refused.append(Refused(name=name, reason=str(exc)))
        if not kept:
            raise InputError(
                "no file was accepted: " + "; ".join(r.reason for r in refused)
                if refused
                else "no file was sent"
            )
        self.manifest.store_files(kept, collection)
        job = self.jobs.submit(
            "ingest",
            {"collection": collection, "sources": [f.source for f in kept]},
            items=[f.name for f in kept],
            owner=owner,
        )
        return UploadAccepted(job=job, accepted=[f.name for f in kept], refused=refused)

    def _checked(
        self,
        stream: BinaryIO,
        name: str,
        collection: str,
        replace: bool,
        kept: Sequence[StoredFile],
    ) -> StoredFile:
        filename = safe_filename(name)
        if Path(filename).suffix.lower() not in SUPPORTED_SUFFIXES:
            raise InputError(f"{filename}: unsupported file type")
        source = upload_source(collection, filename)
        taken = any(f.source == source for f in kept) or self.manifest.get(document_id(source))
        if taken and not replace:
            raise InputError(
                f"{filename}: a document of this name exists (send replace to update it)"
            )
        content = read_upload(stream, filename, self.settings.max_upload_mb * _MB)
        return StoredFile(source, filename, content)

    def reindex(self, doc_id: str, owner: str = "") -> Job:
        """A job that reads one document again (an upload from the database, a file from
        its path) and indexes it anew."""
        document = self.manifest.get(doc_id)
        if document is None:
            raise InputError(f"no document with id {doc_id}")
        if not document.source.startswith("upload:") and not Path(document.source).is_file():
            raise InputError(f"the file behind this document is gone: {document.name}")
        payload = {
            "collection": document.collection,
            "sources": [document.source],
            "names": [document.name],
        }
        return self.jobs.submit("reindex", payload, items=[document.name], owner=owner)
