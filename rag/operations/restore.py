"""`app.py restore SRC`: a backup (`rag/operations/backup.py`) into an empty install.

Refused, with a one-line reason, before anything is written: a damaged backup (a file whose
sha256 differs), a backup from a newer schema, one made with another embedding model or
chunker than these settings', and a target that holds data (a non-empty data folder, a
PostgreSQL database with Docent's schema, a non-empty Chroma collection) unless `force`.

Then: the database snapshot in place (an older schema is migrated), the chunks into a new
collection, and the state made consistent: jobs running at backup time are queued again,
documents whose chunks changed during the backup (`redo`) or that were being indexed are
marked `indexing` and queued to be indexed again (from their stored bytes or their file), and
this node's lexical index is rebuilt from the restored chunks.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, delete, text

from index.chunking import Chunker
from index.lexical import LexicalIndex
from index.live_index import IndexCollectionRow
from index.manifest import Manifest
from index.snapshot import collection_metadata, restore_parts
from index.store import LAYOUT, ChunkStore, connect
from index.units import UnitVectorRow
from rag.errors import ConfigError, InputError
from rag.jobs.queue import JobQueue
from rag.operations.backup import BACKUP_FILE, CHUNKS, BackupManifest, sha256
from rag.operations.database_copy import is_empty, load_snapshot, sqlite_path
from rag.settings import Settings
from rag.stores.schema import SCHEMA_REVISION, open_database

__all__ = ["RestoreReport", "read_backup", "restore"]

log = logging.getLogger(__name__)


@dataclass
class RestoreReport:
    documents: int
    chunks: int
    requeued_jobs: int
    redone_documents: int
    seconds: float

    def summary(self) -> str:
        return (
            f"restored {self.documents} documents and {self.chunks} chunks in "
            f"{self.seconds:.1f} s; {self.requeued_jobs} running jobs queued again, "
            f"{self.redone_documents} documents queued to be indexed again"
        )


def read_backup(source: Path) -> BackupManifest:
    """The backup's manifest, once every file it lists is checked."""
    listing = source / BACKUP_FILE
    if not listing.is_file():
        raise InputError(f"{source} is not a Docent backup (no {BACKUP_FILE})")
    try:
        manifest = BackupManifest.model_validate_json(listing.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise InputError(
            f"{source / BACKUP_FILE} is not a backup manifest this Docent reads"
        ) from exc
    for name, entry in manifest.files.items():
        path = source / name
        if not path.is_file() or path.stat().st_size != entry.bytes or sha256(path) != entry.sha256:
            raise InputError(f"the backup is damaged: {name} is missing or changed")
    return manifest


def _check_compatible(manifest: BackupManifest, settings: Settings) -> None:
    if int(manifest.schema_revision) > int(SCHEMA_REVISION):
        raise ConfigError(
            f"the backup is from a newer Docent (schema {manifest.schema_revision}, this one "
            f"{SCHEMA_REVISION}): restore it with Docent {manifest.docent_version} or newer"
        )
    switched = manifest.collection != settings.collection  # the database records its model
    if not switched and manifest.embedding_model != settings.embedding_model:
        raise ConfigError(
            f"the backup's index was built with {manifest.embedding_model}, these settings use "
            f"{settings.embedding_model}: set DOCENT_EMBEDDING_MODEL={manifest.embedding_model} "
            "to restore it (then `app.py reindex` switches models)"
        )
    chunker = Chunker(settings.chunk_size, settings.chunk_overlap).signature
    stored = (manifest.index.get("chunker"), manifest.index.get("layout"))
    if stored != (chunker, LAYOUT):
        raise ConfigError(
            f"the backup's chunks were cut with {stored[0]} (layout {stored[1]}), these settings "
            f"cut {chunker} (layout {LAYOUT}): restore with the backup's DOCENT_CHUNK_SIZE and "
            "DOCENT_CHUNK_OVERLAP"
        )


def _occupied(settings: Settings, collection: str) -> list[str]:
    """What the restore would overwrite."""
    found = []
    if settings.data_dir.is_dir() and any(settings.data_dir.iterdir()):
        found.append(f"the data folder {settings.data_dir} is not empty")
    if sqlite_path(settings.database_address) is None and not is_empty(settings.database_address):
        found.append("the PostgreSQL database holds Docent's tables")
    for name in dict.fromkeys((settings.collection, collection)):
        if collection_metadata(settings.chroma_dir, settings.chroma_url, name):
            found.append(f"the Chroma collection {name!r} exists")
    return found


def _only_live(settings: Settings, database: Any, collection: str) -> None:
    """The backup holds the live collection only: forget the ones a switch kept (and their
    unit vectors)."""
    key = "" if collection == settings.collection else collection
    with database.write() as session:
        session.execute(delete(IndexCollectionRow).where(IndexCollectionRow.name != collection))
        session.execute(delete(UnitVectorRow).where(UnitVectorRow.chroma_collection != key))


def _clear(settings: Settings, collection: str) -> None:
    """Remove what a forced restore replaces (a PostgreSQL database is cleaned by pg_restore)."""
    database = sqlite_path(settings.database_address)
    if database is not None:
        for companion in ("", "-wal", "-shm"):
            Path(f"{database}{companion}").unlink(missing_ok=True)
    shutil.rmtree(settings.lexical_dir, ignore_errors=True)
    client = connect(settings.chroma_dir, settings.chroma_url)
    names = [c.name for c in client.list_collections()]
    for name in dict.fromkeys((settings.collection, collection)):
        if name in names:
            client.delete_collection(name)


def _requeue_running(settings: Settings, database: Any) -> int:
    with database.write() as session:
        done = session.execute(
            text("UPDATE jobs SET status = 'queued', worker = NULL WHERE status = 'running'")
        )
        return int(getattr(done, "rowcount", 0) or 0)


def _redo(settings: Settings, database: Any, manifest: BackupManifest) -> int:
    """Documents without their chunks (changed during the backup, or being indexed) are marked
    `indexing` and queued to be read again, unless a queued job already names them."""
    redo = list(manifest.redo)
    with database.write() as session:
        if redo:
            ids: Any = bindparam("ids", expanding=True)
            session.execute(
                text(
                    "UPDATE documents SET status = 'indexing', file_hash = NULL, chunks = 0 "
                    "WHERE id IN :ids"
                ).bindparams(ids),
                {"ids": redo},
            )
            session.execute(delete(UnitVectorRow).where(UnitVectorRow.document_id.in_(redo)))
        pending = session.execute(
            text("SELECT id, source, name, collection FROM documents WHERE status = 'indexing'")
        ).all()
        payloads = session.execute(text("SELECT payload FROM jobs WHERE status = 'queued'"))
        named = set()
        for (payload,) in payloads:
            stored = json.loads(payload) if isinstance(payload, str) else payload
            named |= set(stored.get("sources", []))
    queue = JobQueue(database, settings.job_stale_seconds)
    queued = 0
    for _, source, name, collection in pending:
        if source in named:
            continue
        payload = {"collection": collection, "sources": [source], "names": [name]}
        queue.submit("reindex", payload, items=[name], owner="restore")
        queued += 1
    return queued


def restore(
    settings: Settings,
    source: Path,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RestoreReport:
    """Restore the backup in `source` into the install of `settings`."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    manifest = read_backup(source)
    _check_compatible(manifest, settings)
    collection = manifest.collection
    if occupied := _occupied(settings, collection):
        if not force:
            raise InputError(f"refusing to overwrite: {'; '.join(occupied)} (--force replaces it)")
        _clear(settings, collection)
    load_snapshot(source / manifest.database_file, manifest.database, settings.database_address)
    database = open_database(settings)  # migrates a backup from an older schema
    _only_live(settings, database, collection)
    say(f"database: {manifest.database} restored at schema {manifest.schema_revision}")
    skipped = set(manifest.redo)

    def keep(meta: Mapping[str, Any]) -> bool:
        return str(meta.get("document_id")) not in skipped

    restored = restore_parts(
        settings.chroma_dir,
        settings.chroma_url,
        collection,
        manifest.index,
        source / CHUNKS,
        manifest.parts,
        keep,
        lambda done: say(f"chunks: {done} of {manifest.counts.get('chunks', 0)}"),
    )
    requeued = _requeue_running(settings, database)
    redone = _redo(settings, database, manifest)
    signature = {k: v for k, v in manifest.index.items() if not k.startswith("hnsw:")}
    store = ChunkStore(settings.chroma_dir, collection, signature, settings.chroma_url)
    lexical = LexicalIndex(settings.lexical_dir)
    documents = Manifest(database)
    lexical.sync(documents, store)
    lexical.close()
    say(f"lexical index: rebuilt, {len(lexical)} chunks")
    return RestoreReport(
        documents=documents.count(),
        chunks=restored.chunks,
        requeued_jobs=requeued,
        redone_documents=redone,
        seconds=time.perf_counter() - started,
    )
