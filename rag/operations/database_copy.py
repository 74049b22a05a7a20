"""The database's part of a backup: a consistent snapshot and what it holds, and its restore.

SQLite: the online backup API copies the whole file in one step while writers go on (WAL), so
the copy is the database as of one instant. PostgreSQL: `pg_dump` in the custom format with a
snapshot exported from a REPEATABLE READ transaction, and what the snapshot holds is read in
that same transaction, so the dump and the backup's manifest agree; restored with
`pg_restore`. The PostgreSQL client programs come from PATH or Debian's
/usr/lib/postgresql/*/bin (the newest).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import make_url

from rag.errors import ConfigError

__all__ = ["DatabaseSnapshot", "load_snapshot", "sqlite_path", "take_snapshot"]

SQLITE_FILE = "database.sqlite"
POSTGRES_FILE = "database.pgdump"
_COUNTED = ("documents", "document_contents", "conversations", "feedback", "api_keys")


class _Cursor(Protocol):
    def execute(self, query: str, /) -> Any: ...


@dataclass
class DocumentState:
    status: str
    file_hash: str | None
    chunks: int
    source: str
    name: str
    collection: str


@dataclass
class DatabaseSnapshot:
    """A database copied into a backup folder, and what it holds."""

    kind: Literal["sqlite", "postgresql"]
    file: str
    revision: str
    documents: dict[str, DocumentState] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, None for another database."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    return Path(parsed.database or "")


def _read_state(cursor: _Cursor, snapshot: DatabaseSnapshot) -> None:
    snapshot.revision = str(cursor.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    found = cursor.execute(
        "SELECT id, status, file_hash, chunks, source, name, collection FROM documents"
    )
    for doc_id, status, file_hash, chunks, source, name, collection in found.fetchall():
        snapshot.documents[str(doc_id)] = DocumentState(
            str(status), file_hash, int(chunks or 0), str(source), str(name), str(collection)
        )
    jobs = cursor.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall()
    snapshot.jobs = {str(status): int(count) for status, count in jobs}
    for table in _COUNTED:
        snapshot.rows[table] = int(cursor.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _postgres_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    debian = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: p.parts[-3])
    if not debian:
        raise ConfigError(f"{name} is missing: install PostgreSQL's client programs")
    return str(debian[-1])


def _libpq(url: str) -> tuple[list[str], dict[str, str], str]:
    """Connection options for the client programs, the environment carrying the password
    (never on a command line), and a libpq conninfo for psycopg."""
    parsed = make_url(url)
    options = ["--host", parsed.host or "127.0.0.1", "--port", str(parsed.port or 5432)]
    if parsed.username:
        options += ["--username", parsed.username]
    options += ["--dbname", parsed.database or "postgres"]
    environment = {**os.environ}
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return options, environment, conninfo


def _run(command: list[str], environment: dict[str, str]) -> None:
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ConfigError(f"{Path(command[0]).name} failed: {last}")


def take_snapshot(url: str, folder: Path) -> DatabaseSnapshot:
    """Copy the database at `url` into `folder` as of one instant; what that copy holds."""
    path = sqlite_path(url)
    if path is not None:
        target = folder / SQLITE_FILE
        with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(target)) as copy:
            source.backup(copy)  # one step: the database as of one read transaction
            snapshot = DatabaseSnapshot("sqlite", SQLITE_FILE, "")
            _read_state(copy.cursor(), snapshot)
        return snapshot
    import psycopg

    options, environment, conninfo = _libpq(url)
    with psycopg.connect(conninfo) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with connection.transaction():
            exported = connection.execute("SELECT pg_export_snapshot()").fetchone()
            assert exported is not None
            command = [_postgres_tool("pg_dump"), "--format=custom", "--no-owner"]
            command += ["--no-privileges", f"--snapshot={exported[0]}"]
            command += ["--file", str(folder / POSTGRES_FILE), *options]
            _run(command, environment)
            snapshot = DatabaseSnapshot("postgresql", POSTGRES_FILE, "")
            _read_state(connection.cursor(), snapshot)
    return snapshot


def is_empty(url: str) -> bool:
    """Whether the database at `url` holds no Docent schema yet."""
    path = sqlite_path(url)
    if path is not None:
        return not path.exists() or path.stat().st_size == 0
    import psycopg

    _, _, conninfo = _libpq(url)
    with psycopg.connect(conninfo) as connection:
        found = connection.execute("SELECT to_regclass('public.alembic_version')").fetchone()
        return found is None or found[0] is None


def load_snapshot(snapshot_file: Path, kind: str, url: str) -> None:
    """Put a snapshot in place of the database at `url` (of the same kind)."""
    path = sqlite_path(url)
    if (path is not None) != (kind == "sqlite"):
        wanted = "a SQLite file" if kind == "sqlite" else "PostgreSQL (DOCENT_DATABASE_URL)"
        raise ConfigError(f"this backup's database restores into {wanted}")
    if path is not None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for companion in ("", "-wal", "-shm"):
            Path(f"{path}{companion}").unlink(missing_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
        with (
            closing(sqlite3.connect(snapshot_file)) as source,
            closing(sqlite3.connect(path)) as target,
        ):
            source.backup(target)
        return
    options, environment, _ = _libpq(url)
    command = [_postgres_tool("pg_restore"), "--no-owner", "--no-privileges", "--clean"]
    command += ["--if-exists", "--single-transaction", *options, str(snapshot_file)]
    _run(command, environment)
