"""The one way files enter Docent over the web, for the HTTP API and the chat UI alike:
a safe name, an allowed type and a size limit, saved under `<data_dir>/uploads/<collection>/`,
then indexed by a background job whose progress both surfaces show."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel

from index.ingest import IngestReport
from index.loaders import SUPPORTED_SUFFIXES
from rag.errors import InputError
from rag.runtime import Runtime
from rag.web.jobs import Job, JobProgress, JobRunner

__all__ = [
    "Refused",
    "UploadAccepted",
    "Uploads",
    "check_collection",
    "safe_filename",
    "save_upload",
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


def save_upload(
    stream: BinaryIO, name: str, folder: Path, max_bytes: int, replace: bool = False
) -> Path:
    """Copy an uploaded file to `folder` under a safe name; refuses unsupported types, files
    over `max_bytes` and, unless `replace`, a name already taken (nothing is left behind)."""
    filename = safe_filename(name)
    if Path(filename).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise InputError(f"{filename}: unsupported file type")
    folder.mkdir(parents=True, exist_ok=True)
    destination = folder / filename
    if destination.exists() and not replace:
        raise InputError(f"{filename}: a document of this name exists (send replace to update it)")
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
    partial = Path(temp_name)
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while block := stream.read(_READ_SIZE):
                written += len(block)
                if written > max_bytes:
                    raise InputError(f"{filename}: larger than {max_bytes // _MB} MB")
                out.write(block)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


class Refused(BaseModel):
    name: str
    reason: str


class UploadAccepted(BaseModel):
    job: Job
    accepted: list[str]
    refused: list[Refused]


def _result(report: IngestReport) -> dict[str, Any]:
    return {
        "summary": report.summary(),
        "added": report.added,
        "replaced": report.replaced,
        "unchanged": report.unchanged,
        "failed": [{"name": name, "reason": reason} for name, reason in report.failed],
        "chunks_written": report.chunks_written,
    }


class Uploads:
    """Saves uploaded files and indexes them in background jobs (one runner for all surfaces)."""

    def __init__(self, runtime: Runtime, jobs: JobRunner) -> None:
        self.runtime = runtime
        self.jobs = jobs

    def accept(
        self, files: Sequence[tuple[str, BinaryIO]], collection: str, replace: bool = False
    ) -> UploadAccepted:
        """Save each (name, stream) that passes the checks and start one job indexing them;
        refusals are reported per file. Raises `InputError` when no file was accepted."""
        settings = self.runtime.settings
        check_collection(collection)
        if len(files) > settings.max_upload_files:
            raise InputError(f"at most {settings.max_upload_files} files in one upload")
        folder = settings.uploads_dir / collection
        saved: list[Path] = []
        refused: list[Refused] = []
        for name, stream in files:
            try:
                limit = settings.max_upload_mb * _MB
                saved.append(save_upload(stream, name, folder, limit, replace))
            except InputError as exc:
                refused.append(Refused(name=name, reason=str(exc)))
        if not saved:
            raise InputError(
                "no file was accepted: " + "; ".join(r.reason for r in refused)
                if refused
                else "no file was sent"
            )
        job = self.submit_indexing(saved, collection, kind="upload")
        return UploadAccepted(job=job, accepted=[p.name for p in saved], refused=refused)

    def submit_indexing(
        self, paths: list[Path], collection: str, kind: str, remove_first: str | None = None
    ) -> Job:
        """A job that indexes `paths` into `collection` (after removing `remove_first`)."""
        ingestor = self.runtime.ingestor

        def step(progress: JobProgress) -> dict[str, Any]:
            if remove_first:
                ingestor.remove(remove_first)
            report = ingestor.ingest(
                paths,
                progress=lambda done, total, path: progress(done, total, path.name),
                collection=collection,
            )
            return _result(report)

        return self.jobs.submit(kind, step, items=[p.name for p in paths])
