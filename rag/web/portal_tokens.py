"""Portal tokens: short-lived JWTs a company portal signs for its users, naming the
`collections` they may read.

Two ways to trust a portal, either or both:

- `DOCENT_JWT_JWKS_URL`: RS256/ES256 tokens, checked against the portal's public keys
  (its JWKS, fetched and cached; an unknown `kid` fetches it again, at most once per
  `DOCENT_JWT_JWKS_COOLDOWN_SECONDS`, so a rotated key is picked up and a flood of made-up
  ids costs the portal nothing). A token must name its key (`kid`).
- `DOCENT_JWT_SECRET`: HS256 with a secret shared with the portal, for small installs.

The algorithm a token claims only chooses between these two; the key for it never comes from
the token, so `alg: none` or an HS256 token signed with a public key is refused.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt

from rag.errors import ConfigError
from rag.settings import Settings
from rag.web.errors import AccessError

__all__ = ["ASYMMETRIC", "PortalTokens", "looks_like_jwt"]

log = logging.getLogger(__name__)

ASYMMETRIC = ("RS256", "ES256")
_LEEWAY = 30  # seconds of clock skew between portal and Docent


def looks_like_jwt(credential: str) -> bool:
    return credential.count(".") == 2


class PortalTokens:
    """Verifies portal tokens into their claims (`sub`, `collections`, `exp`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        if self.secret is not None and len(self.secret) < 32:
            raise ConfigError("DOCENT_JWT_SECRET must be at least 32 characters")
        self.keys = (
            jwt.PyJWKClient(
                settings.jwt_jwks_url,
                lifespan=settings.jwt_jwks_cache_seconds,
                cooldown_duration=settings.jwt_jwks_cooldown_seconds,
                timeout=10,
            )
            if settings.jwt_jwks_url
            else None
        )

    @property
    def enabled(self) -> bool:
        return self.secret is not None or self.keys is not None

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; `AccessError` (with a reason) for any other."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AccessError("invalid portal token") from exc
        algorithm = header.get("alg")
        if algorithm in ASYMMETRIC and self.keys is not None:
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                log.info("refused a portal token without 'kid'")
                raise AccessError("invalid portal token: it names no key ('kid')")
            key: Any
            key, algorithms = self._public_key(kid)
        elif algorithm == "HS256" and self.secret is not None:
            key, algorithms = self.secret, ["HS256"]
        else:
            log.info("refused a portal token signed with %r", algorithm)
            raise AccessError("invalid portal token")
        return self._claims(token, key, algorithms)

    def _public_key(self, kid: str) -> tuple[Any, list[str]]:
        """The key `kid` and the one algorithm it signs with (an RSA key never checks an ES256
        signature, nor the other way round)."""
        assert self.keys is not None
        try:
            jwk = self.keys.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("the portal's JWKS cannot be fetched: %s", exc)
            raise AccessError("the portal's keys cannot be fetched: try again") from exc
        except jwt.PyJWKClientError as exc:
            log.info("refused a portal token signed by an unknown key %r", kid)
            raise AccessError("invalid portal token: unknown signing key") from exc
        if jwk.algorithm_name not in ASYMMETRIC:
            log.warning("the portal's key %r is for %s, not RS256/ES256", kid, jwk.algorithm_name)
            raise AccessError("invalid portal token")
        return jwk.key, [jwk.algorithm_name]

    def _claims(self, token: str, key: Any, algorithms: list[str]) -> dict[str, Any]:
        settings = self.settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                leeway=_LEEWAY,
                options={"require": ["exp", "iat", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AccessError("the portal token has expired") from exc
        except jwt.InvalidTokenError as exc:
            log.info("refused a portal token: %s", exc)
            raise AccessError("invalid portal token") from exc
        if int(claims["exp"]) - int(claims["iat"]) > settings.jwt_max_age:
            log.info("refused a portal token living longer than %d s", settings.jwt_max_age)
            raise AccessError("invalid portal token")
        collections = claims.get("collections")
        if not isinstance(collections, list) or not all(isinstance(c, str) for c in collections):
            raise AccessError("the portal token must list its 'collections'")
        return claims
