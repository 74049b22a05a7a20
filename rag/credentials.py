"""Credentials at rest: API keys (only their sha256, in a JSON file written owner-only) and
whether an install has any credential at all (keys or a portal secret), which decides open
mode on the web surfaces and whether demo samples may be indexed."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from pathlib import Path

from rag.errors import ConfigError, InputError
from rag.settings import Settings

__all__ = ["ApiKeys", "has_credentials", "write_private"]

log = logging.getLogger(__name__)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def write_private(path: Path, text: str, *, replace: bool = True) -> None:
    """Write a file readable by its owner only, atomically (never briefly world-readable).
    Without `replace`, an existing file wins (FileExistsError): the first writer of several."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        if replace:
            temporary.replace(path)
        else:
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class ApiKeys:
    """Key names and the sha256 of each key, in a JSON file; keys themselves are never stored."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[int, dict[str, str]] | None = None  # (file mtime, contents)

    def _load(self) -> dict[str, str]:
        """The stored keys, read again only when the file changed (this runs per request)."""
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        cache = self._cache
        if cache is not None and cache[0] == stamp:
            return cache[1]
        self._cache = (stamp, self._read())
        return self._cache[1]

    def _read(self) -> dict[str, str]:
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            log.error("cannot read API keys from %s: %s", self.path, exc)
            raise ConfigError("the API key store cannot be read") from exc
        if not isinstance(stored, dict):
            log.error("%s is not a JSON object of name → sha256", self.path)
            raise ConfigError("the API key store cannot be read")
        return {str(name): str(digest) for name, digest in stored.items()}

    def __bool__(self) -> bool:
        return bool(self._load())

    def __contains__(self, name: object) -> bool:
        return name in self._load()

    def create(self, name: str) -> str:
        """A new random key for `name` (replacing an older one); returned once, stored hashed."""
        if not name.strip():
            raise InputError("an API key needs a name")
        key = "dk_" + secrets.token_urlsafe(32)
        stored = {**self._load(), name: _digest(key)}
        write_private(self.path, json.dumps(stored, indent=2))
        return key

    def name_of(self, key: str) -> str | None:
        digest = _digest(key)
        found = None
        for name, stored in self._load().items():
            if hmac.compare_digest(stored, digest):
                found = name
        return found


def has_credentials(settings: Settings) -> bool:
    """Whether the install is secured: a portal secret or at least one API key exists."""
    return bool(settings.jwt_secret) or bool(ApiKeys(settings.api_keys_path))
