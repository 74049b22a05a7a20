"""Rate-limit windows in the shared database, so a limit holds across processes and nodes:
one row per counted event, events older than a minute deleted as time goes on."""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, Float, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from index.database import Base, Database

__all__ = ["RateEventRow", "RateWindows"]

WINDOW = 60.0  # seconds


class RateEventRow(Base):
    """One request (or failed sign-in) of one key, for the last minute's rate limit."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[float] = mapped_column(Float)


class RateWindows:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._last_cleanup = 0.0

    def take(self, key: str, per_minute: int) -> int:
        """Count one event for `key` if its last minute holds fewer than `per_minute`: 0 when
        counted, else the seconds until the window has room again."""
        now = time.time()
        key = key[:320]
        recent = (RateEventRow.key == key) & (RateEventRow.at > now - WINDOW)
        with self.database.write() as session:
            if not self.database.is_sqlite:  # SQLite's write lock already serializes this
                session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
            count, oldest = session.execute(
                select(func.count(), func.min(RateEventRow.at)).where(recent)
            ).one()
            if count < per_minute:
                session.add(RateEventRow(key=key, at=now))
            if now - self._last_cleanup > WINDOW:
                self._last_cleanup = now
                session.execute(delete(RateEventRow).where(RateEventRow.at <= now - WINDOW))
        if count < per_minute:
            return 0
        return max(1, int(oldest + WINDOW - now) + 1)
