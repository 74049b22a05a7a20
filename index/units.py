"""Unit vectors: one vector per answerable unit (`index.sentences.passage_units`) of every
stored chunk, pooled at ingestion from the chunk's own token vectors (`Encoder.embed_passages`)
and kept in the shared database beside the manifest, float16, one row per chunk and collection
(vectors are the encoder's: a model switch builds a second collection with its own rows; those
of the install's own collection have the key "").

The extractive answerer and the support scores read them instead of embedding sentences at
question time. A chunk without a row (an index built before them, or a write a crash cut short)
is simply embedded when it is read, so they are never needed for a right answer, only a fast one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
from sqlalchemy import LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from index.database import Base, Database
from index.embeddings import Encoder
from index.sentences import Unit, passage_units
from index.types import Chunk, indexed_text

__all__ = ["UnitVectorRow", "UnitVectors", "encode_chunks"]

_PAGE = 500  # ids per IN (...) query


class UnitVectorRow(Base):
    __tablename__ = "unit_vectors"

    chroma_collection: Mapped[str] = mapped_column(String(128), primary_key=True, default="")
    chunk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[str] = mapped_column(String(16), index=True)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)  # float16, units × dimension


def encode_chunks(
    encoder: Encoder, chunks: Sequence[Chunk], on_batch: Callable[[int], None] | None = None
) -> tuple[list[list[float]], list[np.ndarray]]:
    """Each chunk's vector (of its indexed text) and its units' vectors, from one pass of the
    model; a unit that truncation cut off is embedded on its own."""
    texts = [indexed_text(c) for c in chunks]
    shifts = [len(t) - len(c.text) for t, c in zip(texts, chunks, strict=True)]  # title line
    units = [passage_units(c.text) for c in chunks]
    spans = [
        [[(start + shift, end + shift) for start, end in unit.spans] for unit in chunk_units]
        for chunk_units, shift in zip(units, shifts, strict=True)
    ]
    encoded = encoder.embed_passages(texts, spans, on_batch)
    cut = [
        (i, j) for i, (_, pooled) in enumerate(encoded) for j, v in enumerate(pooled) if v is None
    ]
    alone = encoder.embed_documents([units[i][j].reading for i, j in cut])
    filled = {place: np.asarray(vector) for place, vector in zip(cut, alone, strict=True)}
    vectors, unit_vectors = [], []
    for i, (vector, pooled) in enumerate(encoded):
        vectors.append(vector.tolist())
        rows = [v if v is not None else filled[(i, j)] for j, v in enumerate(pooled)]
        unit_vectors.append(np.stack(rows) if rows else np.empty((0, len(vector))))
    return vectors, unit_vectors


class UnitVectors:
    """The unit vectors of one index (`key`: its collection, "" for the install's own), and
    the encoder that makes any that are missing."""

    def __init__(self, database: Database, encoder: Encoder, key: str = "") -> None:
        self.database = database
        self.encoder = encoder
        self.dimension = encoder.dimension
        self.key = key

    def put(self, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray]) -> None:
        """Store (or replace) the unit vectors of chunks."""
        with self.database.write() as session:
            self._delete(session, [c.id for c in chunks])
            session.add_all(
                UnitVectorRow(
                    chroma_collection=self.key,
                    chunk_id=chunk.id,
                    document_id=chunk.document_id,
                    vectors=np.asarray(units, dtype=np.float16).tobytes(),
                )
                for chunk, units in zip(chunks, vectors, strict=True)
            )

    def get(self, chunk_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored unit vectors by chunk id (float32); chunks without a row are left out."""
        ids = list(dict.fromkeys(chunk_ids))
        found: dict[str, np.ndarray] = {}
        with self.database.read() as session:
            for at in range(0, len(ids), _PAGE):
                query = select(UnitVectorRow.chunk_id, UnitVectorRow.vectors).where(
                    UnitVectorRow.chroma_collection == self.key,
                    UnitVectorRow.chunk_id.in_(ids[at : at + _PAGE]),
                )
                for chunk_id, blob in session.execute(query):
                    vectors = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
                    found[chunk_id] = vectors.reshape(-1, self.dimension)
        return found

    def units_of(self, passages: Sequence[tuple[str, str]]) -> list[tuple[list[Unit], np.ndarray]]:
        """For (chunk id, text) pairs: the passage's units and their vectors, stored ones
        where they exist, the rest embedded now in one batch."""
        stored = self.get(chunk_id for chunk_id, _ in passages)
        units = [passage_units(text) for _, text in passages]
        missing = [
            i
            for i, (chunk_id, _) in enumerate(passages)
            if len(stored.get(chunk_id, ())) != len(units[i])
        ]
        readings = [u.reading for i in missing for u in units[i]]
        embedded = iter(
            np.asarray(self.encoder.embed_documents(readings)).reshape(-1, self.dimension)
        )
        for i in missing:
            stored[passages[i][0]] = (
                np.stack([next(embedded) for _ in units[i]])
                if units[i]
                else np.empty((0, self.dimension))
            )
        return [(units[i], stored[chunk_id]) for i, (chunk_id, _) in enumerate(passages)]

    def delete(self, chunk_ids: Iterable[str]) -> None:
        with self.database.write() as session:
            self._delete(session, list(chunk_ids))

    def _delete(self, session: Session, ids: list[str]) -> None:
        for at in range(0, len(ids), _PAGE):
            chosen = ids[at : at + _PAGE]
            session.execute(
                delete(UnitVectorRow).where(
                    UnitVectorRow.chroma_collection == self.key, UnitVectorRow.chunk_id.in_(chosen)
                )
            )

    def delete_document(self, document_id: str) -> None:
        with self.database.write() as session:
            session.execute(
                delete(UnitVectorRow).where(
                    UnitVectorRow.chroma_collection == self.key,
                    UnitVectorRow.document_id == document_id,
                )
            )

    def clear(self) -> None:
        self.drop(self.database, self.key)

    @staticmethod
    def drop(database: Database, key: str) -> None:
        """Delete every unit vector of one collection (a dropped one)."""
        with database.write() as session:
            session.execute(delete(UnitVectorRow).where(UnitVectorRow.chroma_collection == key))
