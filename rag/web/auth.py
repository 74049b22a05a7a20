"""Who may call the HTTP API, and which collections they may read.

- API keys (`Authorization: Bearer <key>`): random keys created by `app.py apikey create NAME`;
  only their sha256 is stored (`<data_dir>/api_keys.json`). A key reads every collection and
  may manage documents.
- Portal tokens (`Authorization: Bearer <jwt>`): the portal's backend signs a short-lived HS256
  JWT with the shared `DOCENT_JWT_SECRET`, naming the user (`sub`), the audience (`aud`), the
  expiry (`exp`) and the `collections` the user may read. Retrieval is limited to those.
- With neither keys nor a secret configured, the API is open (a local, single-user install).
- Every caller gets at most `DOCENT_RATE_LIMIT_PER_MINUTE` requests per minute.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import jwt
from fastapi import Depends, Request
from pydantic import BaseModel

from rag.errors import ConfigError, InputError
from rag.settings import Settings
from rag.web.errors import AccessError, RateLimitError

__all__ = [
    "ApiKeys",
    "Authenticator",
    "Caller",
    "Manager",
    "Principal",
    "RateLimiter",
    "has_credentials",
    "readable_collections",
]


class Principal(BaseModel):
    name: str
    kind: Literal["anonymous", "key", "token"]
    collections: list[str] | None = None  # None: every collection


def readable_collections(principal: Principal, wanted: Sequence[str] | None) -> list[str] | None:
    """The collections a question may search: what was asked, within what is allowed."""
    if principal.collections is None:
        return list(wanted) if wanted is not None else None
    if wanted is None:
        return list(principal.collections)
    return [c for c in wanted if c in principal.collections]


log = logging.getLogger(__name__)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


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

    def create(self, name: str) -> str:
        """A new random key for `name` (replacing an older one); returned once, stored hashed."""
        if not name.strip():
            raise InputError("an API key needs a name")
        key = "dk_" + secrets.token_urlsafe(32)
        stored = self._load()
        stored[name] = _digest(key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(stored, indent=2), encoding="utf-8")
        self.path.chmod(0o600)
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


class RateLimiter:
    """At most `per_minute` requests per caller in any 60-second window."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, caller: str) -> None:
        if not self.per_minute:
            return
        now = time.monotonic()
        with self._lock:
            seen = self._seen[caller]
            while seen and seen[0] <= now - 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                wait = int(60 - (now - seen[0])) + 1
                raise RateLimitError(
                    f"rate limit of {self.per_minute} requests per minute reached; "
                    f"retry in {wait} s",
                    retry_after=wait,
                )
            seen.append(now)


class Authenticator:
    """Decides once, at start, whether the API is open: keys or a secret configured later
    (or removed later) never open it."""

    def __init__(self, settings: Settings) -> None:
        self.keys = ApiKeys(settings.api_keys_path)
        self.secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        if self.secret is not None and len(self.secret) < 32:
            raise ConfigError("DOCENT_JWT_SECRET must be at least 32 characters")
        self.audience = settings.jwt_audience
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.open = not has_credentials(settings)
        if not self.open and settings.ui_password is None:
            log.warning(
                "the API needs credentials but the chat UI does not: set DOCENT_UI_PASSWORD"
            )

    def authenticate(self, authorization: str | None, client: str) -> Principal:
        principal = self._identify(authorization, client)
        self.limiter.check(f"{principal.kind}:{principal.name}")
        return principal

    def _identify(self, authorization: str | None, client: str) -> Principal:
        if self.open:
            return Principal(name=client, kind="anonymous")
        scheme, _, credential = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise AccessError("send 'Authorization: Bearer <API key or portal token>'")
        credential = credential.strip()
        if self.secret and credential.count(".") == 2:
            return self._from_token(credential, self.secret)
        name = self.keys.name_of(credential)
        if name is None:
            raise AccessError("invalid API key")
        return Principal(name=name, kind="key")

    def _from_token(self, token: str, secret: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=self.audience,
                leeway=30,  # seconds of clock skew between portal and Docent
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AccessError("the portal token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise AccessError(f"invalid portal token: {exc}") from exc
        collections = claims.get("collections")
        if not isinstance(collections, list) or not all(isinstance(c, str) for c in collections):
            raise AccessError("the portal token must list its 'collections'")
        return Principal(name=str(claims["sub"]), kind="token", collections=collections)


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, by the app's `state.authenticator`."""
    authenticator: Authenticator = request.app.state.authenticator
    client = request.client.host if request.client else "unknown"
    return authenticator.authenticate(request.headers.get("authorization"), client)


Caller = Annotated[Principal, Depends(current_principal)]


def document_manager(principal: Caller) -> Principal:
    """Managing documents needs an API key (or an open install); portal tokens only ask."""
    if principal.kind == "token":
        raise AccessError(
            "portal tokens may ask questions but not manage documents", forbidden=True
        )
    return principal


Manager = Annotated[Principal, Depends(document_manager)]
