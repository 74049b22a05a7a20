"""The document manifest: one row per document (id, display name, source, collection, content
hash, chunk count, status, times), the bytes of uploaded documents, and a change log.

The manifest is what listings, counts and "has this file changed?" read, so no request scans
the vector store. A document is `indexing` while its chunks are written and `indexed` once
Chroma holds exactly them; the commit that marks it indexed (or deletes its row) also appends
to the change log, which every node's lexical index follows (`LexicalIndex.sync`). A crash
leaves at worst a row in `indexing` with the old hash, and the next ingest redoes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    LargeBinary,
    String,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from index.database import Base, Database, utcnow
from index.live_index import fence
from index.types import document_id

__all__ = ["ChangeRow", "ContentRow", "DocumentRecord", "DocumentRow", "Manifest", "StoredFile"]


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    source: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(1024), index=True)
    title: Mapped[str] = mapped_column(String(256), default="")
    collection: Mapped[str] = mapped_column(String(64), index=True)
    file_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChangeRow(Base):
    """A document whose indexed chunks changed (added, replaced or removed), in commit order."""

    __tablename__ = "document_changes"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    document_id: Mapped[str] = mapped_column(String(16), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContentRow(Base):
    """The bytes of an uploaded document, so any worker on any machine can index it."""

    __tablename__ = "document_contents"

    source: Mapped[str] = mapped_column(String(2048), primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocumentRecord(BaseModel):
    """What a listing shows of one document (never its server-side source)."""

    id: str
    name: str
    title: str
    collection: str
    chunks: int
    status: str
    ingested_at: str = Field(description="When its chunks were last written (ISO 8601, UTC).")
    source: str = Field("", exclude=True, repr=False)
    indexed_before: bool = Field(False, exclude=True, repr=False)
    file_hash: str = Field("", exclude=True, repr=False)  # of what the store holds

    @classmethod
    def of(cls, row: DocumentRow) -> DocumentRecord:
        return cls(
            id=row.id,
            name=row.name,
            title=row.title,
            collection=row.collection,
            chunks=row.chunks,
            status=row.status,
            ingested_at=row.updated_at.isoformat(timespec="seconds"),
            source=row.source,
            indexed_before=row.file_hash is not None,
            file_hash=row.file_hash or "",
        )


@dataclass(frozen=True)
class StoredFile:
    source: str
    name: str
    content: bytes


class Manifest:
    """The documents of the index. `writes_to` names the Chroma collection this process writes
    chunks to: a change is committed only while it is the live one (`index.live_index.fence`);
    None for a process that never writes chunks."""

    def __init__(self, database: Database, writes_to: str | None = None) -> None:
        self.database = database
        self.writes_to = writes_to

    def _fence(self, session: Session) -> None:
        if self.writes_to is not None:
            fence(session, self.writes_to)

    # --- reads ---------------------------------------------------------------------------

    def get(self, doc_id: str) -> DocumentRecord | None:
        with self.database.read() as session:
            row = session.get(DocumentRow, doc_id)
            return DocumentRecord.of(row) if row else None

    def get_many(self, doc_ids: Sequence[str]) -> dict[str, DocumentRecord]:
        """The records of the documents that exist among `doc_ids`."""
        with self.database.read() as session:
            rows = self._rows(session, doc_ids)
            return {doc_id: DocumentRecord.of(row) for doc_id, row in rows.items()}

    def indexed_hash(self, source: str) -> str | None:
        """The content hash of what the store holds for `source`, if fully indexed."""
        with self.database.read() as session:
            row = session.get(DocumentRow, document_id(source))
            return row.file_hash if row is not None and row.status == "indexed" else None

    def indexed_as(self, source: str) -> tuple[str, str] | None:
        """The content hash and name of what the store holds for `source`, if fully indexed."""
        with self.database.read() as session:
            row = session.get(DocumentRow, document_id(source))
            if row is None or row.status != "indexed" or row.file_hash is None:
                return None
            return row.file_hash, row.name

    def documents(
        self, collections: Sequence[str] | None = None, offset: int = 0, limit: int = 1000
    ) -> list[DocumentRecord]:
        """One page of documents by name (optionally of some collections only)."""
        query = select(DocumentRow).order_by(DocumentRow.name, DocumentRow.id)
        if collections is not None:
            query = query.where(DocumentRow.collection.in_(collections))
        with self.database.read() as session:
            rows = session.scalars(query.offset(offset).limit(limit)).all()
            return [DocumentRecord.of(row) for row in rows]

    def named(self, name: str) -> list[DocumentRecord]:
        """The documents shown as `name` (as the Library lists them), any case; or, for a
        name without folders, shown as a file of that name in some folder."""
        wanted = name.strip().lower()
        query = select(DocumentRow).where(
            func.lower(DocumentRow.name) == wanted
            if "/" in wanted
            else (func.lower(DocumentRow.name) == wanted)
            | func.lower(DocumentRow.name).endswith(f"/{wanted}", autoescape=True)
        )
        with self.database.read() as session:
            rows = session.scalars(query.order_by(DocumentRow.name).limit(50)).all()
            return [DocumentRecord.of(row) for row in rows]

    def names(self, limit: int = 10_000) -> list[str]:
        """Display names of the documents, by name (at most `limit`)."""
        query = select(DocumentRow.name).order_by(DocumentRow.name).limit(limit)
        with self.database.read() as session:
            return list(session.scalars(query).all())

    def sources_under(self, folder: str) -> list[str]:
        """Source keys of the documents read from files under `folder` (an absolute path),
        by name."""
        prefix = f"{folder.rstrip('/')}/"
        query = (
            select(DocumentRow.source)
            .where(DocumentRow.source.startswith(prefix, autoescape=True))
            .order_by(DocumentRow.name, DocumentRow.id)
        )
        with self.database.read() as session:
            found = session.scalars(query).all()
        return [s for s in found if s.startswith(prefix)]  # SQLite's LIKE ignores case

    def all_documents(self, page: int = 1000) -> Iterator[DocumentRecord]:
        """Every document, read page by page (for pruning and maintenance, never a request)."""
        offset = 0
        while batch := self.documents(offset=offset, limit=page):
            yield from batch
            offset += len(batch)

    def count(self) -> int:
        with self.database.read() as session:
            return int(session.scalar(select(func.count()).select_from(DocumentRow)) or 0)

    def chunk_count(self) -> int:
        """Chunks of the indexed documents (what the store holds once writes are done)."""
        query = select(func.coalesce(func.sum(DocumentRow.chunks), 0))
        with self.database.read() as session:
            return int(session.scalar(query.where(DocumentRow.status == "indexed")) or 0)

    def collections(self) -> dict[str, int]:
        """Documents per collection."""
        query = select(DocumentRow.collection, func.count()).group_by(DocumentRow.collection)
        with self.database.read() as session:
            return {name: int(n) for name, n in session.execute(query).all()}

    def chunks_per_collection(self) -> dict[str, int]:
        """Chunks of the indexed documents per collection."""
        query = (
            select(DocumentRow.collection, func.coalesce(func.sum(DocumentRow.chunks), 0))
            .where(DocumentRow.status == "indexed")
            .group_by(DocumentRow.collection)
        )
        with self.database.read() as session:
            return {name: int(n) for name, n in session.execute(query).all()}

    def changes_since(self, seq: int, limit: int = 10_000) -> list[tuple[int, str]]:
        query = (
            select(ChangeRow.seq, ChangeRow.document_id)
            .where(ChangeRow.seq > seq)
            .order_by(ChangeRow.seq)
            .limit(limit)
        )
        with self.database.read() as session:
            return [(int(s), d) for s, d in session.execute(query).all()]

    def latest_change(self) -> int:
        with self.database.read() as session:
            return int(session.scalar(select(func.max(ChangeRow.seq))) or 0)

    def stored_file(self, source: str) -> StoredFile | None:
        with self.database.read() as session:
            row = session.get(ContentRow, source)
            return StoredFile(row.source, row.name, row.content) if row else None

    # --- writes --------------------------------------------------------------------------

    def begin(self, documents: Sequence[tuple[str, str, str]], collection: str) -> None:
        """Mark documents (source, name, title) as being indexed, in one transaction (their
        old hashes stay until they are done)."""
        now = utcnow()
        with self.database.write() as session:
            rows = self._rows(session, [document_id(source) for source, _, _ in documents])
            for source, name, title in documents:
                row = rows.get(document_id(source))
                if row is None:
                    row = DocumentRow(
                        id=document_id(source), source=source, chunks=0, created_at=now
                    )
                    session.add(row)
                row.name, row.title, row.collection = name, title[:256], collection
                row.status, row.updated_at = "indexing", now

    @staticmethod
    def _rows(session: Session, doc_ids: Sequence[str]) -> dict[str, DocumentRow]:
        rows: dict[str, DocumentRow] = {}
        for at in range(0, len(doc_ids), 500):
            query = select(DocumentRow).where(DocumentRow.id.in_(doc_ids[at : at + 500]))
            rows |= {row.id: row for row in session.scalars(query)}
        return rows

    def finish(self, documents: Sequence[tuple[str, str, int]]) -> None:
        """The store now holds exactly these documents' chunks (source, hash, chunk count):
        record them and log the changes, in one transaction."""
        with self.database.write() as session:
            self._fence(session)
            rows = self._rows(session, [document_id(source) for source, _, _ in documents])
            for source, file_hash, chunks in documents:
                row = rows.get(document_id(source))
                if row is None:
                    continue  # removed meanwhile
                row.file_hash, row.chunks, row.status = file_hash, chunks, "indexed"
                row.updated_at = utcnow()
                session.add(ChangeRow(document_id=row.id))

    def mark_deleting(self, doc_id: str) -> DocumentRecord | None:
        with self.database.write() as session:
            row = session.get(DocumentRow, doc_id)
            if row is None:
                return None
            row.status, row.updated_at = "deleting", utcnow()
            return DocumentRecord.of(row)

    def remove(self, doc_id: str) -> None:
        """Forget a document (its chunks are gone from the store) and log the change."""
        with self.database.write() as session:
            self._fence(session)
            row = session.get(DocumentRow, doc_id)
            if row is not None:
                session.execute(delete(ContentRow).where(ContentRow.source == row.source))
                session.delete(row)
            session.add(ChangeRow(document_id=doc_id))

    def store_files(self, files: Sequence[StoredFile], collection: str) -> None:
        """Keep uploaded bytes under their source keys (replacing older ones); documents not
        yet known are listed as `queued` until a worker indexes them."""
        now = utcnow()
        with self.database.write() as session:
            for file in files:
                session.merge(ContentRow(source=file.source, name=file.name, content=file.content))
                if session.get(DocumentRow, document_id(file.source)) is None:
                    session.add(
                        DocumentRow(
                            id=document_id(file.source),
                            source=file.source,
                            name=file.name,
                            title="",
                            collection=collection,
                            chunks=0,
                            status="queued",
                            created_at=now,
                            updated_at=now,
                        )
                    )

    def forget_hashes(self) -> None:
        """Mark every document as not indexed (the store was emptied for a rebuild)."""
        with self.database.write() as session:
            session.execute(update(DocumentRow).values(file_hash=None, status="indexing"))

    def unfinished(self) -> list[DocumentRecord]:
        """Documents a crash left half indexed or half deleted."""
        query = select(DocumentRow).where(DocumentRow.status != "indexed")
        with self.database.read() as session:
            return [DocumentRecord.of(row) for row in session.scalars(query).all()]
