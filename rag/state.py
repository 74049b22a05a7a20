"""Shared state in the database, so that every process and every node sees the same: jobs,
conversations, feedback, refused questions, API keys, rate-limit windows and shared secrets
(the write path's manifest is in `index/manifest.py`). `open_database` brings the schema up
to date with Alembic (`migrations/`), one process at a time, and imports what older versions
kept in files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock
from pydantic import ValidationError
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from index.database import Base, Database, utcnow
from rag.errors import ConfigError
from rag.settings import PROJECT_ROOT, Settings

__all__ = [
    "ApiKeyRow",
    "ConversationRow",
    "FeedbackRow",
    "JobRow",
    "MessageRow",
    "RateEventRow",
    "SecretRow",
    "claim_once",
    "open_database",
    "shared_secret",
]

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = PROJECT_ROOT / "migrations"
SCHEMA_REVISION = "0004"  # the newest file in migrations/versions (a test keeps them equal)
_MIGRATION_LOCK = 0x646F63656E74  # "docent": PostgreSQL advisory lock key for migrations


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    items: Mapped[list[str]] = mapped_column(JSON)
    owner: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    current: Mapped[str] = mapped_column(String(1024), default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)


class MessageRow(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    sources: Mapped[str | None] = mapped_column(Text, nullable=True)  # an answer's citations


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[str] = mapped_column(String(32))
    rating: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    standalone_query: Mapped[str] = mapped_column(Text)
    answer_text: Mapped[str] = mapped_column(Text)
    cited_chunk_ids: Mapped[list[str]] = mapped_column(JSON)
    cited_documents: Mapped[list[str]] = mapped_column(JSON)
    abstained: Mapped[bool] = mapped_column(Boolean, default=False)
    correction: Mapped[str | None] = mapped_column(Text, nullable=True)
    generator: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[str] = mapped_column(String(64))


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


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RateEventRow(Base):
    """One request (or failed sign-in) of one key, for the last minute's rate limit."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[float] = mapped_column(Float)


class SecretRow(Base):
    """Secrets every node must share (the key that signs chat UI sessions)."""

    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


def shared_secret(database: Database, name: str) -> str:
    """The secret called `name`, made once by whichever process asks first."""
    with database.read() as session:
        found = session.get(SecretRow, name)
        if found is not None:
            return found.value
    with contextlib.suppress(IntegrityError), database.write() as session:
        session.add(SecretRow(name=name, value=secrets.token_urlsafe(48)))
    with database.read() as session:
        return session.get_one(SecretRow, name).value


def claim_once(database: Database, name: str) -> bool:
    """True for exactly one caller ever, of all processes sharing the database."""
    try:
        with database.write() as session:
            session.add(SecretRow(name=f"claim:{name}", value=secrets.token_hex(8)))
    except IntegrityError:
        return False
    return True


def _current_revision(database: Database) -> str | None:
    """The schema revision the database records, None if it has none yet."""
    try:
        with database.engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def _alembic(database: Database) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def _upgrade(database: Database) -> None:
    """Alembic to the newest revision, one process at a time (several may start at once). A
    database already at `SCHEMA_REVISION` is not touched (nor is Alembic imported)."""
    if _current_revision(database) == SCHEMA_REVISION:
        return
    from alembic import command

    config = _alembic(database)
    if database.is_sqlite:
        path = Path(database.engine.url.database or "docent.db")
        with FileLock(f"{path}.migrate.lock"), database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return
    with database.engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _import_legacy(database: Database, settings: Settings) -> None:
    """Feedback and API keys that older versions kept in files move into the database once;
    the files are renamed `*.imported`, nothing is lost."""
    from rag.credentials import ApiKeys
    from rag.feedback import Feedback, FeedbackStore

    keys_file = settings.api_keys_path
    if keys_file.is_file():
        try:
            stored = json.loads(keys_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"the old API key file {keys_file.name} cannot be read") from exc
        if not isinstance(stored, dict):
            raise ConfigError(f"the old API key file {keys_file.name} is not name → sha256")
        ApiKeys(database).import_digests({str(k): str(v) for k, v in stored.items()})
        keys_file.rename(keys_file.with_name(keys_file.name + ".imported"))
        log.warning("moved %d API keys from %s into the database", len(stored), keys_file.name)
    feedback_file = settings.data_dir / "feedback.jsonl"
    if feedback_file.is_file():
        items = []
        lines = feedback_file.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, start=1):
            try:
                items.append(Feedback.model_validate_json(line))
            except ValidationError:
                if line.strip():
                    log.warning("%s line %d is not valid feedback, skipped", feedback_file, number)
        FeedbackStore(database).add_all(items)
        feedback_file.rename(feedback_file.with_name(feedback_file.name + ".imported"))
        log.warning("moved %d ratings from %s into the database", len(items), feedback_file.name)


def open_database(settings: Settings) -> Database:
    """The database of these settings, its schema current and old files imported."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new one is private
    database = Database(settings.database_address)
    _upgrade(database)
    lock = FileLock(str(settings.data_dir / "import.lock"))
    with lock:
        _import_legacy(database, settings)
    return database


def row_count(database: Database, table: type[Base]) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)
