"""Which Chroma collection, embedded by which encoder, answers: the live index, recorded in the
shared database so that every node of an install follows one model switch.

Before the first switch the table is empty and the live index is the install's own collection
(`DOCENT_COLLECTION`, embedded by `DOCENT_EMBEDDING_MODEL`). A switch (`rag.operations.
model_switch`) builds a second collection beside it (`building`), then one transaction makes
it `live` and the old one `kept` (for a rollback, until it is dropped).

The fence: every write of the manifest that logs a change (a document indexed or removed)
first checks, under a lock the switch takes exclusively, that the collection its writer wrote
to is still the live one (`fence`). So a writer that has not yet seen a switch fails its
commit instead of losing a change, and the switch's last catch-up is exact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import BigInteger, DateTime, Integer, String, delete, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from index.database import Base, Database, utcnow
from index.errors import IndexSwitchedError

__all__ = [
    "BUILDING",
    "KEPT",
    "LIVE",
    "IndexCollectionRow",
    "IndexCollections",
    "IndexEntry",
    "collection_name",
    "fence",
]

LIVE, KEPT, BUILDING = "live", "kept", "building"
_SWITCH_LOCK = 0x646F63656E75  # PostgreSQL advisory lock: writers share it, a switch owns it


class IndexCollectionRow(Base):
    """A Chroma collection of this install that a switch made or left: live, kept, building."""

    __tablename__ = "index_collections"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    embedding_model: Mapped[str] = mapped_column(String(1024))
    dimension: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    # How far the collection has caught up with the manifest's change log.
    change_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    switched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class IndexEntry:
    """One collection and the encoder that embeds it."""

    name: str
    embedding_model: str
    dimension: int
    state: str = LIVE
    change_seq: int = 0

    @classmethod
    def of(cls, row: IndexCollectionRow) -> IndexEntry:
        return cls(row.name, row.embedding_model, row.dimension, row.state, row.change_seq)


def collection_name(base: str, model: str) -> str:
    """The collection a switch to `model` builds: `<base>--<hash of the model's identity>`
    (a folder by its model file's content, so a moved folder is the same model)."""
    onnx = Path(model).expanduser() / "model.onnx"
    identity = hashlib.sha256(onnx.read_bytes()).hexdigest() if onnx.is_file() else model
    return f"{base}--{hashlib.sha256(identity.encode()).hexdigest()[:10]}"


def _lock(session: Session, exclusive: bool) -> None:
    """SQLite: a write transaction already holds the database's one write lock."""
    if session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {function}(:key)"), {"key": _SWITCH_LOCK})


def _live(session: Session) -> IndexCollectionRow | None:
    query = select(IndexCollectionRow).where(IndexCollectionRow.state == LIVE).limit(1)
    return session.scalars(query).first()


def fence(session: Session, writes_to: str) -> None:
    """Inside a writer's transaction: raise `IndexSwitchedError` if the live collection is no
    longer `writes_to` (none recorded: the install's own collection, which it is)."""
    _lock(session, exclusive=False)
    live = _live(session)
    if live is not None and live.name != writes_to:
        raise IndexSwitchedError(
            f"the index switched to collection {live.name!r} while this process wrote to "
            f"{writes_to!r}: the work is done again on the live index"
        )


class IndexCollections:
    """The table's store: which collection is live, which are kept or being built."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def live(self) -> IndexEntry | None:
        """The live collection, None before the first switch."""
        with self.database.read() as session:
            row = _live(session)
            return IndexEntry.of(row) if row else None

    def get(self, name: str) -> IndexEntry | None:
        with self.database.read() as session:
            row = session.get(IndexCollectionRow, name)
            return IndexEntry.of(row) if row else None

    def entries(self) -> list[IndexEntry]:
        """Every recorded collection, the live one first, then the newest."""
        query = select(IndexCollectionRow).order_by(IndexCollectionRow.created_at.desc())
        with self.database.read() as session:
            rows = [IndexEntry.of(row) for row in session.scalars(query)]
        return sorted(rows, key=lambda entry: entry.state != LIVE)

    def record(self, entry: IndexEntry) -> None:
        """Record a collection (the install's own, first time a switch leaves it) unless known."""
        with self.database.write() as session:
            if session.get(IndexCollectionRow, entry.name) is None:
                session.add(
                    IndexCollectionRow(
                        name=entry.name,
                        embedding_model=entry.embedding_model,
                        dimension=entry.dimension,
                        state=entry.state,
                        change_seq=entry.change_seq,
                        created_at=utcnow(),
                    )
                )

    def caught_up(self, name: str, change_seq: int) -> None:
        with self.database.write() as session:
            session.execute(
                update(IndexCollectionRow)
                .where(IndexCollectionRow.name == name)
                .values(change_seq=change_seq)
            )

    def switch(self, to: str, change_seq: int) -> bool:
        """Make `to` live and every other collection kept, in one transaction that no writer
        commits beside (`fence`); False, and nothing changed, if the change log moved past
        `change_seq` meanwhile: catch up again."""
        with self.database.write() as session:
            _lock(session, exclusive=True)
            latest = session.scalar(text("SELECT max(seq) FROM document_changes"))
            if int(latest or 0) != change_seq:
                return False
            now = utcnow()
            session.execute(
                update(IndexCollectionRow)
                .where(IndexCollectionRow.state == LIVE)
                .values(state=KEPT, switched_at=now, change_seq=change_seq)
            )
            session.execute(
                update(IndexCollectionRow)
                .where(IndexCollectionRow.name == to)
                .values(state=LIVE, switched_at=now, change_seq=change_seq)
            )
            return True

    def forget(self, name: str) -> None:
        """The collection is gone (dropped); never the live one."""
        with self.database.write() as session:
            session.execute(
                delete(IndexCollectionRow).where(
                    IndexCollectionRow.name == name, IndexCollectionRow.state != LIVE
                )
            )
