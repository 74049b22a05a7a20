"""The store seam: chunks and their vectors in a Chroma collection (cosine space), embedded on
local disk (the default) or on a Chroma server (`chroma run`) that many processes share.

Nothing above this module imports chromadb; it speaks `Chunk` and `Hit`.

Concurrency: within a process, reads share the collection and a write waits for them (Chroma
updates its SQLite rows before its vector index, and a read in between would see an id the
index does not know). An embedded store accepts writes from one process only (a lock file
beside it), because every other process would keep a stale copy of the vector index; several
writing processes need a Chroma server. A read that still meets such drift is answered from
what can be read, never with an error.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import InternalError, UniqueConstraintError

from index.errors import IndexMismatchError, StoreBusyError
from index.types import DEFAULT_COLLECTION, EVERYTHING, Chunk, Scope

__all__ = ["LAYOUT", "ChunkStore", "IndexSignature", "connect"]

log = logging.getLogger(__name__)

IndexSignature = dict[str, str | int]
PAGE = 5000  # rows per Chroma read or delete: SQLite allows at most 32,766 variables a query
LAYOUT = 2  # what a chunk's metadata holds (2: document_id and display name); in the signature


def _metadata(chunk: Chunk, file_hash: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "source": chunk.source,
        "document_id": chunk.document_id,
        "name": chunk.name,
        "title": chunk.title,
        "start": chunk.start,
        "end": chunk.end,
        "file_hash": file_hash,
        "ingested_at": chunk.ingested_at,
        "collection": chunk.collection,
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    if chunk.page_breaks:
        meta["page_breaks"] = ",".join(str(b) for b in chunk.page_breaks)
    return meta


def _chunk(chunk_id: str, text: str, meta: Any) -> Chunk:
    page = meta.get("page")
    breaks = str(meta.get("page_breaks") or "")  # absent in chunks indexed before it existed
    return Chunk(
        id=chunk_id,
        text=text,
        source=str(meta["source"]),
        document_id=str(meta["document_id"]),
        name=str(meta["name"]),
        title=str(meta.get("title", "")),
        start=int(meta["start"]),
        end=int(meta["end"]),
        page=int(page) if page is not None else None,
        page_breaks=tuple(int(b) for b in breaks.split(",") if b.isdigit()),
        ingested_at=str(meta.get("ingested_at", "")),
        collection=str(meta.get("collection", DEFAULT_COLLECTION)),
    )


def connect(path: Path, url: str | None = None) -> ClientAPI:
    """A Chroma client: the server at `url` (http://host:port), else embedded at `path`."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parts = urlsplit(url)
        return chromadb.HttpClient(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (443 if parts.scheme == "https" else 8000),
            ssl=parts.scheme == "https",
            settings=settings,
        )
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


_WRITERS: dict[Path, IO[str]] = {}  # embedded stores this process writes to, and their locks
_WRITERS_LOCK = threading.Lock()


def _claim_writer(path: Path) -> None:
    """Make this process the one writer of the embedded store at `path` (once)."""
    key = path.resolve()
    with _WRITERS_LOCK:
        if key in _WRITERS:
            return
        handle = (key / "docent-writer.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise StoreBusyError(
                f"another process writes to the store in {path} (a running `serve`?): upload "
                "through it, stop it first, or share a Chroma server (DOCENT_CHROMA_URL)"
            ) from exc
        _WRITERS[key] = handle


class _ReadWriteLock:
    """Many readers or one writer."""

    def __init__(self) -> None:
        self._readers = 0
        self._writing = False
        self._changed = threading.Condition()

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._writing and self._readers == 0)
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


class ChunkStore:
    """One Chroma collection. `signature` (model, dimension, chunker) is recorded on creation
    and checked on every open; a mismatch raises `IndexMismatchError`."""

    def __init__(
        self, path: Path, collection: str, signature: IndexSignature, url: str | None = None
    ) -> None:
        self.path = path
        self.location = url or str(path)
        self._client = connect(path, url)
        self._embedded = url is None
        self._collection = self._open_collection(collection, signature)
        self._check_signature(collection, signature)
        self._lock = _ReadWriteLock()

    def _open_collection(self, name: str, signature: IndexSignature) -> Collection:
        """The collection, created on first use; several processes may start at once, and
        the one that loses the race to create it opens the winner's."""
        metadata = {"hnsw:space": "cosine", **signature}
        for attempt in range(3):
            try:
                return self._client.get_or_create_collection(
                    name, metadata=metadata, embedding_function=None
                )
            except (UniqueConstraintError, InternalError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _check_signature(self, name: str, wanted: IndexSignature) -> None:
        stored = self._collection.metadata or {}
        differences = [
            f"{key}: stored {stored.get(key)!r}, settings {value!r}"
            for key, value in wanted.items()
            if stored.get(key) != value
        ]
        if differences:
            raise IndexMismatchError(
                f"collection '{name}' in {self.location} was built with other settings "
                f"({'; '.join(differences)}). Rebuild it with "
                f"`python app.py ingest --rebuild PATH...`, or choose another DOCENT_COLLECTION."
            )

    # --- reads -----------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock.reading():
            return self._collection.count()

    def _pages(
        self, where: Any = None, include: list[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Rows of the collection, read `PAGE` at a time (one unbounded get() fails past
        32,766 rows: SQLite's limit on query variables)."""
        offset = 0
        while True:
            with self._lock.reading():
                found = self._collection.get(
                    where=where,
                    include=include or [],  # type: ignore[arg-type]
                    limit=PAGE,
                    offset=offset,
                )
            if not found["ids"]:
                return
            yield dict(found)
            offset += len(found["ids"])

    def ids_of(self, document: str) -> set[str]:
        """The ids of one document's chunks."""
        where = {"document_id": document}
        return {i for page in self._pages(where) for i in page["ids"]}

    def chunk_counts(self) -> dict[str, int]:
        """Chunks per document id (a scan of the metadata: for maintenance, never a request)."""
        counts: dict[str, int] = {}
        for page in self._pages(include=["metadatas"]):
            for meta in page["metadatas"] or []:
                if meta is not None:
                    key = str(meta.get("document_id", ""))
                    counts[key] = counts.get(key, 0) + 1
        return counts

    def chunks_of_documents(self, documents: Sequence[str]) -> list[Chunk]:
        """The chunks of several documents, read a few hundred documents at a time."""
        chunks: list[Chunk] = []
        for at in range(0, len(documents), 200):
            where = {"document_id": {"$in": list(documents[at : at + 200])}}
            chunks.extend(self.iter_chunks(where))
        return chunks

    def iter_chunks(self, where: Any = None) -> Iterator[Chunk]:
        """Every chunk (or those matching `where`), page by page."""
        for page in self._pages(where, ["documents", "metadatas"]):
            docs, metas = page["documents"] or [], page["metadatas"] or []
            yield from (
                _chunk(i, d, m)
                for i, d, m in zip(page["ids"], docs, metas, strict=True)
                if d is not None and m is not None
            )

    def get_with_vectors(self, ids: Sequence[str]) -> list[tuple[Chunk, np.ndarray | None]]:
        """Chunks and their stored vectors, in the order of `ids` (unknown ids are skipped).
        A vector is None when this process's vector index does not know the chunk yet (a
        store another process wrote to): the caller may embed the text instead."""
        if not ids:
            return []
        with self._lock.reading():
            try:
                found = self._collection.get(
                    ids=list(ids), include=["documents", "metadatas", "embeddings"]
                )
            except InternalError as exc:
                log.warning("the vector index lags the store (%s): reading without vectors", exc)
                found = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        docs, metas = found["documents"] or [], found["metadatas"] or []
        vectors = found.get("embeddings")
        stored = list(vectors) if vectors is not None else [None] * len(found["ids"])
        by_id = {
            i: (_chunk(i, d, m), None if v is None else np.asarray(v))
            for i, d, m, v in zip(found["ids"], docs, metas, stored, strict=True)
            if d is not None and m is not None
        }
        return [by_id[i] for i in ids if i in by_id]

    def nearest(
        self, vector: Sequence[float], k: int, scope: Scope = EVERYTHING
    ) -> list[tuple[str, float]]:
        """Ids of the nearest chunks within `scope` and their cosine similarity, best first
        (ids and distances only: texts are read for the few a caller keeps)."""
        filters = {"document_id": scope.documents, "collection": scope.collections}
        allowed = {key: sorted(values) for key, values in filters.items() if values is not None}
        if scope.empty:
            return []
        clauses = [{key: {"$in": values}} for key, values in allowed.items()]
        where: Any = ({"$and": clauses} if len(clauses) > 1 else clauses[0]) if clauses else None
        with self._lock.reading():
            try:
                found = self._collection.query(
                    query_embeddings=np.asarray([vector], dtype=np.float32),
                    n_results=k,  # Chroma returns fewer when fewer exist (count() costs a scan)
                    where=where,
                    include=["distances"],
                )
            except InternalError as exc:
                log.warning("dense search failed, answering from lexical hits only: %s", exc)
                return []
        distances = (found["distances"] or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(found["ids"][0], distances, strict=True)]

    # --- writes ----------------------------------------------------------------------------

    def can_write(self) -> bool:
        """Whether this process may write (a server: always; an embedded store: if no other
        process is its writer, in which case this one becomes it)."""
        if self._embedded:
            try:
                _claim_writer(self.path)
            except StoreBusyError:
                return False
        return True

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Exclusive in this process; and for an embedded store, this process must be its
        only writer (the lock file is released when the process ends, however it ends)."""
        if self._embedded:
            _claim_writer(self.path)
        with self._lock.writing():
            yield

    def add(
        self,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
        file_hashes: str | Sequence[str],
    ) -> None:
        """Store chunks with their vectors and the content hash of their document (one for
        all, or one per chunk)."""
        hashes = [file_hashes] * len(chunks) if isinstance(file_hashes, str) else file_hashes
        step = min(self._client.get_max_batch_size(), PAGE)
        with self._writing():
            for at in range(0, len(chunks), step):
                batch = chunks[at : at + step]
                self._collection.add(
                    ids=[c.id for c in batch],
                    documents=[c.text for c in batch],
                    metadatas=[
                        _metadata(c, h) for c, h in zip(batch, hashes[at : at + step], strict=True)
                    ],
                    embeddings=np.asarray(vectors[at : at + step], dtype=np.float32),
                )

    def update_metadata(self, chunks: Sequence[Chunk], file_hash: str) -> None:
        """Refresh offsets, title and hash of chunks whose text (and so vector) is unchanged."""
        with self._writing():
            for at in range(0, len(chunks), PAGE):
                batch = chunks[at : at + PAGE]
                self._collection.update(
                    ids=[c.id for c in batch], metadatas=[_metadata(c, file_hash) for c in batch]
                )

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        with self._writing():
            for at in range(0, len(ids), PAGE):
                self._collection.delete(ids=ids[at : at + PAGE])

    def delete_document(self, document: str) -> int:
        """Remove one document's chunks; returns how many there were."""
        ids = self.ids_of(document)
        self.delete(ids)
        return len(ids)

    @staticmethod
    def drop(path: Path, collection: str, url: str | None = None) -> None:
        """Delete a whole collection (used by `ingest --rebuild`)."""
        client = connect(path, url)
        if collection in [c.name for c in client.list_collections()]:
            client.delete_collection(collection)
