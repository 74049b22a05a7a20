"""API keys, kept in the database as names and sha256 digests (a key itself is shown once and
never stored; a key's id is the start of its digest, so a new key of the same name has
another), and whether an install has any credential at all (a key or a portal secret),
which decides open mode on the web surfaces and whether demo samples may be indexed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime

from sqlalchemy import DateTime, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from index.database import Base, Database, utcnow
from rag.errors import InputError
from rag.settings import Settings

__all__ = ["ApiKeyRow", "ApiKeys", "has_credentials"]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


_CACHE_SECONDS = 1.0  # how long a read of the key table is reused (this runs per request)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _key_id(digest: str) -> str:
    """A key's id (for sessions to name it): 64 bits of its digest, which is unique per key."""
    return digest[:16]


class ApiKeys:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._cache: tuple[float, dict[str, str]] | None = None  # (when read, name → digest)

    def _all(self) -> dict[str, str]:
        cache = self._cache
        if cache is not None and time.monotonic() - cache[0] < _CACHE_SECONDS:
            return cache[1]
        with self.database.read() as session:
            rows = session.execute(select(ApiKeyRow.name, ApiKeyRow.digest)).all()
        keys = {name: digest for name, digest in rows}
        self._cache = (time.monotonic(), keys)
        return keys

    def __bool__(self) -> bool:
        return bool(self._all())

    def __contains__(self, name: object) -> bool:
        return name in self._all()

    def create(self, name: str) -> str:
        """A new random key for `name` (replacing an older one); returned once, stored hashed."""
        name = name.strip()
        if not name or len(name) > 200:
            raise InputError("an API key needs a name of 1 to 200 characters")
        key = "dk_" + secrets.token_urlsafe(32)
        with self.database.write() as session:
            session.execute(delete(ApiKeyRow).where(ApiKeyRow.name == name))
            session.add(ApiKeyRow(name=name, digest=_digest(key)))
        self._cache = None
        return key

    def import_digests(self, digests: dict[str, str]) -> None:
        """Keys of an older install (name → sha256), keeping any already in the database."""
        with self.database.write() as session:
            for name, digest in digests.items():
                if session.get(ApiKeyRow, name) is None:
                    session.add(ApiKeyRow(name=name, digest=digest))
        self._cache = None

    def count(self) -> int:
        with self.database.read() as session:
            return int(session.scalar(select(func.count()).select_from(ApiKeyRow)) or 0)

    def find(self, key: str) -> tuple[str, str] | None:
        """The name and id of the stored key `key`, or None."""
        digest = _digest(key)
        found = None
        for name, stored in self._all().items():
            if hmac.compare_digest(stored, digest):
                found = (name, _key_id(stored))
        return found

    def name_of(self, key: str) -> str | None:
        found = self.find(key)
        return found[0] if found else None

    def holds(self, name: str, key_id: str) -> bool:
        """Whether the key of `name` is still the one with id `key_id` (not deleted or
        replaced)."""
        stored = self._all().get(name)
        return stored is not None and hmac.compare_digest(_key_id(stored), key_id)


def has_credentials(settings: Settings, database: Database) -> bool:
    """Whether the install is secured: a portal secret or at least one API key exists."""
    portal = bool(settings.jwt_secret or settings.jwt_jwks_url)
    return portal or bool(ApiKeys(database))
