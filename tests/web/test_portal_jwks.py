"""Portal tokens verified by the portal's public keys: RS256 and ES256 tokens checked against
a JWKS published by a real HTTP server on loopback, a rotated key picked up, and every forged
or misdirected token refused with its reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import SAMPLES, make_settings, serving

ISSUER = "https://portal.example.com"
QUESTION = "How many days of annual leave do I get?"


class PublishedKeys:
    """A portal's JWKS endpoint: the public halves of the keys it signs with now."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}  # kid → private key
        self.fetches = 0
        keys = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                keys.fetches += 1
                body = json.dumps({"keys": keys.jwks()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"

    def jwks(self) -> list[dict[str, Any]]:
        published = []
        for kid, key in self.keys.items():
            algorithm = jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else None
            if algorithm is not None:
                jwk = json.loads(algorithm.to_jwk(key.public_key()))
            else:
                jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
            published.append({**jwk, "kid": kid, "use": "sig"})
        return published

    def add(self, kid: str, kind: str = "rsa") -> None:
        self.keys[kid] = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if kind == "rsa"
            else ec.generate_private_key(ec.SECP256R1())
        )

    def sign(self, kid: str | None, lifetime: int = 300, signer: str = "", **claims: Any) -> str:
        """A token as the portal signs it (with the key `signer`, default `kid`'s)."""
        key = self.keys[signer or kid or ""]
        algorithm = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
        now = int(time.time())
        payload = {"sub": "ana", "aud": "docent", "iss": ISSUER, "iat": now, "exp": now + lifetime}
        payload |= {"collections": ["hr"], **claims}
        headers = {"kid": kid} if kid else {}
        return jwt.encode(payload, key, algorithm, headers=headers)

    def __enter__(self) -> PublishedKeys:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def portal(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[tuple[str, PublishedKeys]]:
    with PublishedKeys() as keys:
        keys.add("rsa-1")
        keys.add("ec-1", "ec")
        settings = make_settings(
            tmp_path_factory.mktemp("jwks"),
            jwt_jwks_url=keys.url,
            jwt_issuer=ISSUER,
            jwt_jwks_cooldown_seconds=0,  # a rotation is picked up at the next unknown kid
            rate_limit_per_minute=1000,
            failed_auth_per_minute=1000,
        )
        runtime = build_runtime(settings, embeddings=embeddings)
        runtime.ingestor.ingest([SAMPLES / "leave-policy.md"], collection="hr")
        runtime.ingestor.ingest([SAMPLES / "expenses.md"], collection="finance")
        with serving(create_app(runtime)) as url:
            yield url, keys


def ask(url: str, token: str, collections: list[str] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"question": QUESTION}
    if collections:
        body["collections"] = collections
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{url}/api/v1/ask", json=body, headers=headers, timeout=60)


def refusal(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    return str(response.json()["error"]["message"])


def test_rs256_and_es256_tokens_read_their_collections(
    portal: tuple[str, PublishedKeys],
) -> None:
    url, keys = portal
    for kid in ("rsa-1", "ec-1"):
        answered = ask(url, keys.sign(kid))
        assert answered.status_code == 200, answered.text
        assert "26 days" in answered.json()["text"]
        retrieved = {hit["chunk"]["name"] for hit in answered.json()["retrieved"]}
        assert retrieved == {"leave-policy.md"}  # hr only, never finance
    outside = ask(url, keys.sign("rsa-1"), collections=["finance"])
    assert outside.status_code == 200
    assert outside.json()["retrieved"] == []  # finance is not the token's to read


def test_a_rotated_key_is_picked_up_and_the_old_one_refused(
    portal: tuple[str, PublishedKeys],
) -> None:
    url, keys = portal
    before_rotation = keys.sign("rsa-1")
    assert ask(url, before_rotation).status_code == 200
    fetched = keys.fetches
    keys.add("rsa-2")
    retired = keys.keys.pop("rsa-1")  # the portal rotates: only the new key is published
    assert ask(url, keys.sign("rsa-2")).status_code == 200
    assert keys.fetches == fetched + 1  # one fetch, for the kid it did not know
    # A token signed with the retired key, even a fresh one, is refused from now on.
    keys.keys["rsa-1"] = retired
    after_rotation = keys.sign("rsa-1")
    del keys.keys["rsa-1"]
    assert refusal(ask(url, after_rotation)) == "invalid portal token: unknown signing key"
    keys.keys["rsa-1"] = retired  # publish it again for the other tests
    assert ask(url, keys.sign("rsa-1")).status_code == 200


def _forged_hs256(public_pem: bytes, payload: dict[str, Any], kid: str) -> str:
    """The classic confusion attack: an HS256 token whose HMAC key is the RSA public key."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{part(payload)}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_forged_and_misdirected_tokens_are_refused(portal: tuple[str, PublishedKeys]) -> None:
    url, keys = portal
    now = int(time.time())
    claims = {"sub": "ana", "aud": "docent", "iss": ISSUER, "iat": now, "exp": now + 300}
    claims["collections"] = ["hr", "finance"]
    public_pem = (
        keys.keys["ec-1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    cases = {
        "wrong aud": (keys.sign("rsa-1", aud="another-app"), "invalid portal token"),
        "wrong iss": (keys.sign("rsa-1", iss="https://evil.example"), "invalid portal token"),
        "expired": (keys.sign("rsa-1", lifetime=-120), "the portal token has expired"),
        "no kid": (
            keys.sign(None, signer="rsa-1"),
            "invalid portal token: it names no key ('kid')",
        ),
        "signed by another key": (
            keys.sign("ec-1", signer="rsa-1"),  # an RS256 token naming the EC key
            "invalid portal token",
        ),
        "alg none": (jwt.encode(claims, None, "none"), "invalid portal token"),
        "HS256 with the public key": (
            _forged_hs256(public_pem, claims, "ec-1"),
            "invalid portal token",
        ),
    }
    for case, (token, message) in cases.items():
        assert refusal(ask(url, token)) == message, case
