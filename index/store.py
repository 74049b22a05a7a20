"""The store seam: chunks and their vectors in a Chroma collection (cosine space).

Nothing above this module imports chromadb; it speaks `Chunk` and `Hit`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from index.errors import IndexMismatchError
from index.types import DEFAULT_COLLECTION, EVERYTHING, Chunk, Hit, Scope

__all__ = ["LAYOUT", "ChunkStore", "IndexSignature"]

IndexSignature = dict[str, str | int]
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
    return meta


def _chunk(chunk_id: str, text: str, meta: Any) -> Chunk:
    page = meta.get("page")
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
        ingested_at=str(meta.get("ingested_at", "")),
        collection=str(meta.get("collection", DEFAULT_COLLECTION)),
    )


class ChunkStore:
    """One Chroma collection. `signature` (model, dimension, chunker) is recorded on creation
    and checked on every open; a mismatch raises `IndexMismatchError`."""

    def __init__(self, path: Path, collection: str, signature: IndexSignature) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self._collection = self._client.get_or_create_collection(
            collection,
            metadata={"hnsw:space": "cosine", **signature},
            embedding_function=None,
        )
        self._check_signature(collection, signature)

    def _check_signature(self, name: str, wanted: IndexSignature) -> None:
        stored = self._collection.metadata or {}
        differences = [
            f"{key}: stored {stored.get(key)!r}, settings {value!r}"
            for key, value in wanted.items()
            if stored.get(key) != value
        ]
        if differences:
            raise IndexMismatchError(
                f"collection '{name}' in {self.path} was built with other settings "
                f"({'; '.join(differences)}). Rebuild it with "
                f"`python app.py ingest --rebuild PATH...`, or choose another DOCENT_COLLECTION."
            )

    # --- reads -----------------------------------------------------------------------------

    def count(self) -> int:
        return self._collection.count()

    def file_hash(self, source: str) -> str | None:
        found = self._collection.get(where={"source": source}, limit=1, include=["metadatas"])
        metas = found["metadatas"] or []
        return str(metas[0]["file_hash"]) if metas else None

    def ids_for(self, source: str) -> set[str]:
        return set(self._collection.get(where={"source": source}, include=[])["ids"])

    def sources(self) -> list[str]:
        metas = self._collection.get(include=["metadatas"])["metadatas"] or []
        return sorted({str(meta["source"]) for meta in metas})

    def documents(self) -> list[dict[str, Any]]:
        """One summary per source: source, id, name, title, collection, chunks, ingested_at."""
        metas = self._collection.get(include=["metadatas"])["metadatas"] or []
        summary: dict[str, dict[str, Any]] = {}
        for meta in metas:
            source = str(meta["source"])
            entry = summary.setdefault(
                source,
                {
                    "source": source,
                    "id": str(meta["document_id"]),
                    "name": str(meta["name"]),
                    "title": str(meta.get("title", "")),
                    "collection": str(meta.get("collection", DEFAULT_COLLECTION)),
                    "chunks": 0,
                    "ingested_at": str(meta.get("ingested_at", "")),
                },
            )
            entry["chunks"] += 1
        return [summary[source] for source in sorted(summary)]

    def all_chunks(self) -> list[Chunk]:
        found = self._collection.get(include=["documents", "metadatas"])
        docs, metas = found["documents"] or [], found["metadatas"] or []
        return [_chunk(i, d, m) for i, d, m in zip(found["ids"], docs, metas, strict=True)]

    def get_with_vectors(self, ids: Sequence[str]) -> list[tuple[Chunk, np.ndarray]]:
        """Chunks and their stored vectors, in the order of `ids` (unknown ids are skipped)."""
        if not ids:
            return []
        found = self._collection.get(
            ids=list(ids), include=["documents", "metadatas", "embeddings"]
        )
        docs, metas = found["documents"] or [], found["metadatas"] or []
        vectors = found["embeddings"] if found["embeddings"] is not None else []
        by_id = {
            i: (_chunk(i, d, m), np.asarray(v))
            for i, d, m, v in zip(found["ids"], docs, metas, vectors, strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def search(self, vector: Sequence[float], k: int, scope: Scope = EVERYTHING) -> list[Hit]:
        """Nearest chunks by cosine similarity, within `scope`."""
        filters = {"document_id": scope.documents, "collection": scope.collections}
        allowed = {key: sorted(values) for key, values in filters.items() if values is not None}
        count = self.count()
        if scope.empty or count == 0:
            return []
        clauses = [{key: {"$in": values}} for key, values in allowed.items()]
        where: Any = ({"$and": clauses} if len(clauses) > 1 else clauses[0]) if clauses else None
        found = self._collection.query(
            query_embeddings=np.asarray([vector], dtype=np.float32),
            n_results=min(k, count),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        docs = (found["documents"] or [[]])[0]
        metas = (found["metadatas"] or [[]])[0]
        distances = (found["distances"] or [[]])[0]
        return [
            Hit(chunk=_chunk(i, d, m), score=1.0 - float(dist), dense_rank=rank)
            for rank, (i, d, m, dist) in enumerate(
                zip(found["ids"][0], docs, metas, distances, strict=True), start=1
            )
        ]

    # --- writes ----------------------------------------------------------------------------

    def add(
        self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]], file_hash: str
    ) -> None:
        step = self._client.get_max_batch_size()
        for at in range(0, len(chunks), step):
            batch = chunks[at : at + step]
            self._collection.add(
                ids=[c.id for c in batch],
                documents=[c.text for c in batch],
                metadatas=[_metadata(c, file_hash) for c in batch],
                embeddings=np.asarray(vectors[at : at + step], dtype=np.float32),
            )

    def update_metadata(self, chunks: Sequence[Chunk], file_hash: str) -> None:
        """Refresh offsets, title and hash of chunks whose text (and so vector) is unchanged."""
        if chunks:
            self._collection.update(
                ids=[c.id for c in chunks], metadatas=[_metadata(c, file_hash) for c in chunks]
            )

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self._collection.delete(ids=ids)

    def delete_source(self, source: str) -> int:
        ids = self.ids_for(source)
        self.delete(ids)
        return len(ids)

    @staticmethod
    def drop(path: Path, collection: str) -> None:
        """Delete a whole collection (used by `ingest --rebuild`)."""
        client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )
        if collection in [c.name for c in client.list_collections()]:
            client.delete_collection(collection)
