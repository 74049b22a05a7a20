"""The relational database beside the vector store (SQLAlchemy 2): a SQLite file in the data dir
by default, PostgreSQL through a URL. The write path keeps its document manifest here
(`index/manifest.py`); the read path and the surfaces keep theirs (`rag/stores/`). The schema
is created and upgraded by Alembic (`migrations/`, run by `rag.stores.schema.open_database`).

A SQLite file and its `-wal`/`-shm` companions are private to the server's user (0600): the
database holds the session-signing key and API-key hashes.

Transactions: `write()` is one transaction that takes the write lock at once on SQLite
(`BEGIN IMMEDIATE`, so two writers queue instead of failing), `read()` one that only reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session

__all__ = ["Base", "Database", "utcnow"]


class Base(DeclarativeBase):
    """Every table of Docent."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _make_private(url: str) -> None:
    """Create the SQLite file of `url` readable by its owner only, and make an existing one
    (and its WAL companions, which SQLite creates with the file's mode) so."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            file.chmod(0o600)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(connection: Any, _: Any) -> None:
        connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("docent_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """An engine for `url` and the two kinds of transaction Docent uses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {"pool_pre_ping": True}
        if self.is_sqlite:
            _make_private(url)
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            options |= {"pool_size": 10, "max_overflow": 20}
        self.engine = create_engine(url, **options)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self._writer = self.engine.execution_options(docent_write=True)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that may write; committed at the end, rolled back on error."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
