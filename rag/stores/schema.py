"""`open_database`: the shared database with its schema up to date (Alembic, `migrations/`,
one process at a time) and what older versions kept in files imported. Every table registers
here, so this is the one module that imports the other stores (and the job queue's table).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from index.database import Base, Database
from rag.errors import ConfigError
from rag.jobs import queue as _jobs  # noqa: F401  (registers the job table)
from rag.settings import PROJECT_ROOT, Settings
from rag.stores import conversations, rate_limits, shared_secrets, unanswered  # noqa: F401
from rag.stores.credentials import ApiKeys
from rag.stores.feedback import Feedback, FeedbackStore

__all__ = ["MIGRATIONS", "SCHEMA_REVISION", "open_database", "row_count"]

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = PROJECT_ROOT / "migrations"
SCHEMA_REVISION = "0005"  # the newest file in migrations/versions (a test keeps them equal)
_MIGRATION_LOCK = 0x646F63656E74  # "docent": PostgreSQL advisory lock key for migrations


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
