"""A Chroma collection copied to files and back, through Chroma's own API (so the same code
backs up an embedded store and a Chroma server): parts of at most `PAGE` chunks, each a
gzipped JSON-lines file of ids, texts and metadata beside a `.npy` file of their vectors.

Only the chunks a caller keeps are written (`keep`: a backup keeps the chunks of documents its
database snapshot records as indexed, with the same content hash). A vector the reading
process's copy of the vector index does not know yet (an embedded store another process
writes to) is embedded again from the chunk's text by `embed`.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.errors import InternalError, NotFoundError

from index.store import PAGE, connect

__all__ = ["CopiedChunks", "collection_metadata", "read_parts", "restore_parts", "write_parts"]

log = logging.getLogger(__name__)

Embed = Callable[[list[str]], list[list[float]]]


@dataclass
class CopiedChunks:
    """What a copy wrote (or read): chunks per document, the part files, re-embedded ones."""

    per_document: dict[str, int] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)
    reembedded: int = 0

    @property
    def chunks(self) -> int:
        return sum(self.per_document.values())


def collection_metadata(path: Path, url: str | None, name: str) -> dict[str, Any] | None:
    """The metadata (index signature, distance) of collection `name`, None if it is absent."""
    if url is None and not path.is_dir():
        return None  # no embedded store (and none is made by asking)
    try:
        collection = connect(path, url).get_collection(name, embedding_function=None)
    except (NotFoundError, ValueError):
        return None
    return dict(collection.metadata or {})


def _text_of(chunk_id: str, text: str, meta: Mapping[str, Any]) -> str:
    """The text a chunk's vector was made from (`index.types.indexed_text`: title, text)."""
    return f"{meta.get('title', '')}\n{text}"


def write_parts(
    path: Path,
    url: str | None,
    name: str,
    folder: Path,
    keep: Callable[[Mapping[str, Any]], bool],
    embed: Embed,
    progress: Callable[[int], None] | None = None,
) -> CopiedChunks:
    """Copy the kept chunks of collection `name` into `folder` (part-00000.jsonl.gz + .npy…)."""
    collection = connect(path, url).get_collection(name, embedding_function=None)
    folder.mkdir(parents=True, exist_ok=True)
    copied = CopiedChunks()
    offset = 0
    while True:
        page = collection.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
        if not page["ids"]:
            return copied
        offset += len(page["ids"])
        rows = [
            (i, d, m)
            for i, d, m in zip(
                page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True
            )
            if d is not None and m is not None and keep(m)
        ]
        if rows:
            vectors = _vectors(collection, rows, embed, copied)
            stem = folder / f"part-{len(copied.parts):05d}"
            with gzip.open(stem.with_suffix(".jsonl.gz"), "wt", encoding="utf-8") as out:
                for chunk_id, text, meta in rows:
                    out.write(json.dumps({"id": chunk_id, "text": text, "meta": meta}) + "\n")
                    document = str(meta["document_id"])
                    copied.per_document[document] = copied.per_document.get(document, 0) + 1
            np.save(stem.with_suffix(".npy"), vectors, allow_pickle=False)
            copied.parts.append(stem.name)
        if progress is not None:
            progress(offset)


def _vectors(
    collection: Any, rows: list[tuple[str, str, Any]], embed: Embed, copied: CopiedChunks
) -> np.ndarray:
    ids = [chunk_id for chunk_id, _, _ in rows]
    try:
        found = collection.get(ids=ids, include=["embeddings"])
        by_id = dict(zip(found["ids"], found["embeddings"], strict=True))
    except InternalError as exc:  # this process's vector index lags the store
        log.info("vectors of %d chunks are embedded again (%s)", len(ids), exc)
        by_id = {}
    missing = [row for row in rows if by_id.get(row[0]) is None]
    if missing:
        texts = [_text_of(*row) for row in missing]
        by_id.update(zip([row[0] for row in missing], embed(texts), strict=True))
        copied.reembedded += len(missing)
    return np.asarray([by_id[chunk_id] for chunk_id in ids], dtype=np.float32)


def read_parts(folder: Path, parts: Sequence[str]) -> Iterator[tuple[list[Any], np.ndarray]]:
    """The (rows, vectors) of each part, in order."""
    for part in parts:
        stem = folder / part
        with gzip.open(stem.with_suffix(".jsonl.gz"), "rt", encoding="utf-8") as lines:
            rows = [json.loads(line) for line in lines]
        vectors = np.load(stem.with_suffix(".npy"), allow_pickle=False)
        if len(rows) != len(vectors):
            raise ValueError(f"{part}: {len(rows)} chunks but {len(vectors)} vectors")
        yield rows, vectors


def restore_parts(
    path: Path,
    url: str | None,
    name: str,
    metadata: Mapping[str, Any],
    folder: Path,
    parts: Sequence[str],
    keep: Callable[[Mapping[str, Any]], bool],
    progress: Callable[[int], None] | None = None,
) -> CopiedChunks:
    """Create collection `name` (which must not exist) with `metadata` and add the kept
    chunks of the parts."""
    client = connect(path, url)
    collection = client.create_collection(name, metadata=dict(metadata), embedding_function=None)
    step = min(client.get_max_batch_size(), PAGE)
    restored = CopiedChunks(parts=list(parts))
    for rows, vectors in read_parts(folder, parts):
        chosen = [n for n, row in enumerate(rows) if keep(row["meta"])]
        for at in range(0, len(chosen), step):
            batch = chosen[at : at + step]
            collection.add(
                ids=[rows[n]["id"] for n in batch],
                documents=[rows[n]["text"] for n in batch],
                metadatas=[rows[n]["meta"] for n in batch],
                embeddings=vectors[batch],
            )
        for n in chosen:
            document = str(rows[n]["meta"]["document_id"])
            restored.per_document[document] = restored.per_document.get(document, 0) + 1
        if progress is not None:
            progress(restored.chunks)
    return restored
