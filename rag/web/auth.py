"""Who may do what, on every surface: the HTTP API, the OpenAI-compatible endpoint, the widget
and the Gradio chat UI (which includes everything under /gradio_api).

- API keys (`Authorization: Bearer dk_…`): random keys created by `app.py apikey create NAME`;
  only their sha256 is stored. A key reads every collection and may manage documents.
- Portal tokens (`Authorization: Bearer <jwt>`): the portal's backend signs a short-lived JWT
  (RS256/ES256 against its JWKS at `DOCENT_JWT_JWKS_URL`, or HS256 with the shared
  `DOCENT_JWT_SECRET`: `rag/web/portal_tokens.py`): `sub`, `aud`, `iat`, `exp` (at most
  `DOCENT_JWT_MAX_AGE` after `iat`), optionally `iss`, and the `collections` the user may read.
  A token asks within those collections and manages nothing.
- Chat UI sessions (cookie `docent_session`): `POST /auth/session` with either credential
  signs the same principal into an HttpOnly, SameSite=Strict cookie, valid at most
  `DOCENT_SESSION_HOURS` (and never past a token's expiry), with a key every node shares. A
  key's session names the key's id: it ends when that key is deleted or replaced, even by a
  new key of the same name. A browser attaches the cookie by itself, so writes it
  authenticates are accepted only from Docent's own pages (`rag/web/protect.py`).
- Open mode: with neither keys nor a secret, everyone is an anonymous principal who may do
  everything; `serve` allows it only on a loopback address. Keys created later close it at
  once; removing them never opens it.

Every principal gets `DOCENT_RATE_LIMIT_PER_MINUTE` requests per minute, counted in the shared
database so that the limit holds across processes and nodes (old counts are deleted). A client
address gets `DOCENT_FAILED_AUTH_PER_MINUTE` failed authentications in any 60 seconds, beyond
which its failures are answered 429 (a valid credential still passes: keys and portal secrets
are 256 bits, so a lock-out would only let one client of a shared address lock out the
others). Failures are counted in each process's memory, never in the database: a flood of bad
credentials takes no write lock from the writers (each process, each node, allows its own
limit).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, Request
from pydantic import BaseModel

from index.database import Database
from rag.settings import Settings
from rag.stores.credentials import ApiKeys, has_credentials
from rag.stores.rate_limits import RateWindows
from rag.stores.shared_secrets import shared_secret
from rag.web.errors import AccessError, RateLimitError
from rag.web.portal_tokens import PortalTokens, looks_like_jwt

__all__ = [
    "SESSION_COOKIE",
    "ApiKeys",
    "Authenticator",
    "Caller",
    "Manager",
    "MemoryRateLimiter",
    "Principal",
    "RateLimiter",
    "authenticated_by_cookie",
    "bearer_credential",
    "has_credentials",
    "readable_collections",
    "require_manager",
]

log = logging.getLogger(__name__)

SESSION_COOKIE = "docent_session"
_SESSION_AUDIENCE = "docent-session"
_MAX_CALLERS = 10_000  # rate-limit windows kept; the least recently seen go first


class Principal(BaseModel):
    name: str
    kind: Literal["anonymous", "key", "token"]
    collections: list[str] | None = None  # None: every collection
    key_id: str | None = None  # which API key: a new key of the same name is another one

    @property
    def caller(self) -> str:
        """A stable key for what belongs to this principal (conversations, rate limit)."""
        return f"{self.kind}:{self.name}"

    def may_read(self, collection: str) -> bool:
        """Whether this principal may read (search, see) documents of `collection`."""
        return self.collections is None or collection in self.collections

    @property
    def may_manage(self) -> bool:
        """Upload, delete and re-index documents: API keys, and everyone in open mode."""
        return self.kind != "token"


def readable_collections(principal: Principal, wanted: Sequence[str] | None) -> list[str] | None:
    """The collections a question may search: what was asked, within what is allowed."""
    if principal.collections is None:
        return list(wanted) if wanted is not None else None
    if wanted is None:
        return list(principal.collections)
    return [c for c in wanted if c in principal.collections]


def bearer_credential(authorization: str | None) -> str | None:
    """The credential of an `Authorization: Bearer …` header, if there is one."""
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    return None


def authenticated_by_cookie(authorization: str | None, session: str | None) -> bool:
    """Whether the session cookie is what authenticates a request (a bearer credential comes
    first): the one credential a browser attaches by itself, even to another site's request."""
    return bearer_credential(authorization) is None and bool(session)


class MemoryRateLimiter:
    """At most `per_minute` events per key in any 60 seconds, counted in this process's
    memory (for failures, which must not cost a database write); keeps the windows of the
    `max_keys` most recently seen keys."""

    def __init__(self, per_minute: int, max_keys: int = _MAX_CALLERS) -> None:
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str, what: str = "requests") -> None:
        """Count one event for `key`; raises `RateLimitError` when the window is full."""
        if not self.per_minute:
            return
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            self._seen.move_to_end(key)
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
            while seen and seen[0] <= now - 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                wait = max(1, int(seen[0] + 60 - now) + 1)
                raise RateLimitError(
                    f"rate limit of {self.per_minute} {what} per minute reached; retry in {wait} s",
                    retry_after=wait,
                )
            seen.append(now)


class RateLimiter:
    """At most `per_minute` events per key in any 60 seconds, counted in the shared database
    so that the limit holds across processes and nodes. Events older than a minute are
    deleted as time goes on."""

    def __init__(self, database: Database, per_minute: int, prefix: str) -> None:
        self.database = database
        self.per_minute = per_minute
        self.prefix = prefix
        self.windows = RateWindows(database)

    def check(self, key: str, what: str = "requests") -> None:
        """Count one event for `key`; raises `RateLimitError` when the window is full."""
        if not self.per_minute:
            return
        wait = self.windows.take(f"{self.prefix}:{key}", self.per_minute)
        if wait:
            raise RateLimitError(
                f"rate limit of {self.per_minute} {what} per minute reached; retry in {wait} s",
                retry_after=wait,
            )


class Authenticator:
    """Turns credentials into a `Principal` (or `AccessError`), for every surface."""

    def __init__(self, settings: Settings, database: Database, keys: ApiKeys | None = None) -> None:
        self.settings = settings
        self.keys = keys or ApiKeys(database)  # the runtime's, in the app
        self.tokens = PortalTokens(settings)
        self.limiter = RateLimiter(database, settings.rate_limit_per_minute, "requests")
        self.failures = MemoryRateLimiter(settings.failed_auth_per_minute)
        self._session_key = (
            settings.session_secret.get_secret_value()
            if settings.session_secret
            else shared_secret(database, "session")
        )
        self._closed = self.tokens.enabled or bool(self.keys)

    @property
    def open(self) -> bool:
        """No credentials exist: anyone may do anything. Keys created later close it."""
        if not self._closed and self.keys.count():  # uncached: a new key closes it at once
            self._closed = True
            log.warning("an API key now exists: Docent requires credentials from now on")
        return not self._closed

    def authenticate(
        self, authorization: str | None, session: str | None, client: str
    ) -> Principal:
        """The principal behind a request, counted against its rate limit."""
        principal = self.identify(authorization, session, client)
        self.limiter.check(principal.caller)
        return principal

    def identify(self, authorization: str | None, session: str | None, client: str) -> Principal:
        """The principal behind a bearer credential or a UI session cookie. Failed attempts
        are counted per client address, and refused once too many."""
        if self.open:
            return Principal(name=client, kind="anonymous")
        credential = bearer_credential(authorization)
        try:
            if credential is not None:
                return self.verify(credential)
            if session and authenticated_by_cookie(authorization, session):
                return self._from_session(session)
        except AccessError:
            self.failures.check(client, "failed sign-ins")
            raise
        raise AccessError("send 'Authorization: Bearer <API key or portal token>'")

    def verify(self, credential: str) -> Principal:
        """The principal an API key or a portal token stands for."""
        if self.tokens.enabled and looks_like_jwt(credential):
            claims = self.tokens.verify(credential)
            return Principal(
                name=str(claims["sub"]), kind="token", collections=claims["collections"]
            )
        found = self.keys.find(credential)
        if found is None:
            raise AccessError("invalid API key")
        name, key_id = found
        return Principal(name=name, kind="key", key_id=key_id)

    def session_for(self, principal: Principal, expires: int | None = None) -> tuple[str, int]:
        """A signed session cookie value for `principal` and its lifetime in seconds."""
        now = int(time.time())
        end = now + self.settings.session_hours * 3600
        if expires is not None:
            end = min(end, expires)
        claims: dict[str, Any] = {
            **principal.model_dump(),
            "aud": _SESSION_AUDIENCE,
            "iat": now,
            "exp": end,
        }
        return jwt.encode(claims, self._session_key, algorithm="HS256"), max(end - now, 0)

    def _from_session(self, session: str) -> Principal:
        try:
            claims = jwt.decode(
                session, self._session_key, algorithms=["HS256"], audience=_SESSION_AUDIENCE
            )
            principal = Principal.model_validate(
                {k: claims.get(k) for k in ("name", "kind", "collections", "key_id")}
            )
        except (jwt.InvalidTokenError, ValueError) as exc:
            raise AccessError("the session has expired or is invalid: sign in again") from exc
        if principal.kind == "key" and not (
            principal.key_id and self.keys.holds(principal.name, principal.key_id)
        ):
            raise AccessError("the API key of this session was removed or replaced: sign in again")
        if principal.kind == "anonymous":
            raise AccessError("the session has expired or is invalid: sign in again")
        return principal

    def token_expiry(self, credential: str) -> int | None:
        """The `exp` of a portal token (already verified), for the session built from it."""
        if not looks_like_jwt(credential):
            return None
        claims = jwt.decode(credential, options={"verify_signature": False})
        return int(claims["exp"])

    def from_headers(
        self, headers: Mapping[str, str], cookies: Mapping[str, str], client: str
    ) -> Principal:
        """`authenticate` for a request's headers and cookies (all surfaces go through here)."""
        session = cookies.get(SESSION_COOKIE)
        return self.authenticate(headers.get("authorization"), session, client)

    def principal_of(self, request: Request) -> Principal:
        """`identify` for a request, without counting it against the rate limit (for guards
        and Gradio's own gate, which run before the route that counts it)."""
        return self.identify(
            request.headers.get("authorization"),
            request.cookies.get(SESSION_COOKIE),
            client_address(request),
        )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, by the app's `state.authenticator`."""
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator.from_headers(request.headers, request.cookies, client_address(request))


Caller = Annotated[Principal, Depends(current_principal)]


def require_manager(principal: Principal) -> Principal:
    """Managing documents needs an API key (or an open install); portal tokens only ask."""
    if not principal.may_manage:
        raise AccessError(
            "portal tokens may ask questions but not manage documents", forbidden=True
        )
    return principal


def document_manager(principal: Caller) -> Principal:
    """FastAPI dependency: the caller, who must be allowed to manage documents."""
    return require_manager(principal)


Manager = Annotated[Principal, Depends(document_manager)]
