"""Questions Docent refused ("not in the documents"), kept for the coverage gaps (`rag/gaps.py`):
the standalone question and when, the newest `KEPT` only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, Text, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from index.database import Base, Database, utcnow
from rag.answer.types import MAX_QUESTION_CHARS

__all__ = ["KEPT", "UnansweredLog", "UnansweredRow"]

KEPT = 20_000  # refused questions kept; older ones are dropped as new ones come


class UnansweredRow(Base):
    """A question Docent answered with "not in the documents" (for the coverage gaps)."""

    __tablename__ = "unanswered"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    question: Mapped[str] = mapped_column(Text)


class UnansweredLog:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record(self, question: str) -> None:
        with self.database.write() as session:
            session.add(UnansweredRow(question=question[:MAX_QUESTION_CHARS], created_at=utcnow()))
            session.flush()
            newest = session.scalar(select(func.max(UnansweredRow.id))) or 0
            session.execute(delete(UnansweredRow).where(UnansweredRow.id <= newest - KEPT))

    def recent(self, limit: int) -> list[tuple[str, str]]:
        """(question, when) of the most recent refusals."""
        with self.database.read() as session:
            rows = session.scalars(
                select(UnansweredRow).order_by(UnansweredRow.id.desc()).limit(limit)
            ).all()
            return [(r.question, r.created_at.isoformat(timespec="minutes")) for r in rows]
