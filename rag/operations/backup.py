"""`app.py backup DEST`: the whole install in one folder, consistent while it serves and ingests.

Order makes it consistent: first the database as of one instant (`database_copy`), which holds
the document manifest, the uploaded documents' bytes, the jobs and every store; then the
chunks of the documents that snapshot records as indexed, and only those whose content hash
is still the recorded one. A document re-indexed or deleted between the two steps (its chunks
no longer match) is listed in `redo`: restore queues it to be indexed again from its bytes.
Chunks written after the snapshot belong to documents the snapshot does not record as indexed,
so they are left out; their jobs are in the snapshot, queued or running, and restore queues
them again. The lexical index is not copied: restore rebuilds it from the chunks.

The folder is written as DEST.partial and renamed when complete, so a folder named DEST is a
whole backup; `backup.json` (`BackupManifest`) lists its files with their sha256.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
import tomllib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from index.database import Database
from index.live_index import IndexCollections
from index.snapshot import collection_metadata, write_parts
from rag.errors import ConfigError, InputError
from rag.operations.database_copy import take_snapshot
from rag.settings import PROJECT_ROOT, Settings
from rag.stores.schema import SCHEMA_REVISION

__all__ = ["BACKUP_FILE", "BackupManifest", "FileEntry", "backup", "docent_version", "sha256"]

log = logging.getLogger(__name__)

BACKUP_FILE = "backup.json"
CHUNKS = "chunks"


class FileEntry(BaseModel):
    bytes: int
    sha256: str


class BackupManifest(BaseModel):
    """What a backup holds (`backup.json`)."""

    format: Literal[1] = 1
    docent_version: str
    created_at: str
    seconds: float = 0.0
    schema_revision: str = Field(description="The database's Alembic revision.")
    database: Literal["sqlite", "postgresql"]
    database_file: str
    collection: str = Field(description="The Chroma collection the chunks come from.")
    index: dict[str, Any] = Field(
        description="The collection's metadata: the index signature (embedding model, "
        "dimension, chunker, layout) and its distance."
    )
    counts: dict[str, int] = Field(
        description="documents, indexed documents, chunks copied, rows of the main tables."
    )
    jobs: dict[str, int] = Field(description="Jobs by status at the snapshot.")
    redo: list[str] = Field(
        default_factory=list,
        description="Documents indexed at the snapshot whose chunks changed before they were "
        "copied: restore indexes them again.",
    )
    parts: list[str] = Field(default_factory=list)
    files: dict[str, FileEntry] = Field(default_factory=dict)

    @property
    def embedding_model(self) -> str:
        return str(self.index.get("embedding_model", ""))


def docent_version() -> str:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def _embedder(settings: Settings, model: str) -> Callable[[list[str]], list[list[float]]]:
    """Embeds chunks whose stored vector this process cannot read, with the index's model."""

    def embed(texts: list[str]) -> list[list[float]]:
        if model != settings.embedding_model:
            raise ConfigError(
                f"some vectors must be embedded again with {model}, the index's model, but "
                f"DOCENT_EMBEDDING_MODEL is {settings.embedding_model}"
            )
        from rag.runtime import load_encoder

        return load_encoder(settings).embed_documents(texts)

    return embed


def _prepare(destination: Path) -> Path:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise InputError(f"{destination} exists and is not empty: back up into a new folder")
    partial = destination.with_name(destination.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)  # an earlier backup that did not finish
    partial.mkdir(mode=0o700, parents=True)
    return partial


def live_collection(settings: Settings) -> str:
    """The Chroma collection that answers (a model switch's, else `DOCENT_COLLECTION`)."""
    database = Database(settings.database_address)
    try:
        live = IndexCollections(database).live()
    except SQLAlchemyError:  # a database from before model switches: checked below
        live = None
    finally:
        database.dispose()
    return live.name if live is not None else settings.collection


def backup(
    settings: Settings, destination: Path, progress: Callable[[str], None] | None = None
) -> BackupManifest:
    """Back up the install of `settings` into the new folder `destination`."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    collection = live_collection(settings)
    metadata = collection_metadata(settings.chroma_dir, settings.chroma_url, collection)
    if metadata is None:
        raise InputError(f"there is no index to back up (collection {collection!r})")
    partial = _prepare(destination)
    snapshot = take_snapshot(settings.database_address, partial)
    if snapshot.revision != SCHEMA_REVISION:
        raise ConfigError(
            f"the database is at schema {snapshot.revision}, this Docent at {SCHEMA_REVISION}: "
            "start Docent once (it migrates), then back up"
        )
    say(f"database: {snapshot.kind} snapshot, {len(snapshot.documents)} documents")
    indexed = {
        doc_id: state.file_hash
        for doc_id, state in snapshot.documents.items()
        if state.status == "indexed"
    }

    def keep(meta: Mapping[str, Any]) -> bool:
        doc_id = str(meta.get("document_id"))
        return doc_id in indexed and meta.get("file_hash") == indexed[doc_id]

    expected = sum(snapshot.documents[d].chunks for d in indexed)
    copied = write_parts(
        settings.chroma_dir,
        settings.chroma_url,
        collection,
        partial / CHUNKS,
        keep,
        _embedder(settings, str(metadata.get("embedding_model"))),
        lambda read: say(f"chunks: {read} read, of about {expected}"),
    )
    if live_collection(settings) != collection:
        shutil.rmtree(partial, ignore_errors=True)
        raise InputError("a model switch finished during the backup: back up again")
    redo = sorted(
        d for d in indexed if copied.per_document.get(d, 0) != snapshot.documents[d].chunks
    )
    if redo:
        log.warning("%d documents changed during the backup: restore indexes them again", len(redo))
    manifest = BackupManifest(
        docent_version=docent_version(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        schema_revision=snapshot.revision,
        database=snapshot.kind,
        database_file=snapshot.file,
        collection=collection,
        index=metadata,
        counts={
            **snapshot.rows,
            "indexed_documents": len(indexed),
            "chunks": sum(n for d, n in copied.per_document.items() if d not in redo),
            "reembedded_chunks": copied.reembedded,
        },
        jobs=snapshot.jobs,
        redo=redo,
        parts=copied.parts,
    )
    for path in sorted(p for p in partial.rglob("*") if p.is_file()):
        path.chmod(0o600)  # the database holds key hashes and the session key
        name = path.relative_to(partial).as_posix()
        manifest.files[name] = FileEntry(bytes=path.stat().st_size, sha256=sha256(path))
    manifest.seconds = round(time.perf_counter() - started, 2)
    (partial / CHUNKS).chmod(0o700)
    (partial / BACKUP_FILE).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    (partial / BACKUP_FILE).chmod(0o600)
    if destination.exists():
        _move_into(partial, destination)
    else:
        partial.rename(destination)
    return manifest


def _move_into(partial: Path, destination: Path) -> None:
    """`destination` is an empty folder: the backup's files go into it."""
    for entry in partial.iterdir():
        entry.rename(destination / entry.name)
    partial.rmdir()
