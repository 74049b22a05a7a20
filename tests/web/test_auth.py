"""Access rules on a live server: hashed API keys, portal JWTs limited to their collections,
allowed origins (CORS, frame-ancestors), the rate limit and the UI login."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from langchain_core.embeddings import Embeddings

from rag.runtime import build_runtime
from rag.web.app import create_app
from rag.web.auth import ApiKeys
from tests.helpers import SAMPLES, make_settings, serving

SECRET = "portal-shared-secret-for-tests-0123456789"
PORTAL = "https://portal.example.com"


@pytest.fixture(scope="module")
def secured(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings
) -> Iterator[tuple[str, str, Path]]:
    data = tmp_path_factory.mktemp("secured")
    settings = make_settings(
        data,
        jwt_secret=SECRET,
        allowed_origins=[PORTAL],
        rate_limit_per_minute=1000,
        ui_password="s3cret",
    )
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "leave-policy.md"], collection="hr")
    runtime.ingestor.ingest([SAMPLES / "expenses.md"], collection="finance")
    key = ApiKeys(settings.api_keys_path).create("intranet")
    with serving(create_app(runtime)) as url:
        yield url, key, settings.api_keys_path


def token(**claims: Any) -> str:
    payload = {"sub": "ana", "aud": "docent", "exp": int(time.time()) + 300, "collections": ["hr"]}
    payload.update(claims)
    return jwt.encode(
        {k: v for k, v in payload.items() if v is not None}, SECRET, algorithm="HS256"
    )


def ask(
    url: str, credential: str | None, question: str = "How many vacation days do I get?"
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    return httpx.post(f"{url}/api/v1/ask", json={"question": question}, headers=headers, timeout=60)


def test_api_keys_are_stored_hashed_and_checked(secured: tuple[str, str, Path]) -> None:
    url, key, keys_file = secured
    assert key not in keys_file.read_text() and "intranet" in keys_file.read_text()
    missing = ask(url, None)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["type"] == "unauthorized"
    assert ask(url, "dk_wrong").json() == {
        "error": {"type": "unauthorized", "message": "invalid API key"}
    }
    answer = ask(url, key).json()
    assert "26 days" in answer["text"]


def test_portal_token_only_reads_its_collections(secured: tuple[str, str, Path]) -> None:
    url, _, _ = secured
    mileage = "How much is the mileage allowance per kilometre?"
    hr_only = ask(url, token(), mileage).json()
    assert hr_only["retrieved"], "something from hr is retrieved"
    assert all(Path(h["chunk"]["source"]).name == "leave-policy.md" for h in hr_only["retrieved"])
    assert "0.36" not in hr_only["text"]
    finance = ask(url, token(collections=["finance"]), mileage).json()
    assert "€0.36" in finance["text"]
    widened = httpx.post(
        f"{url}/api/v1/ask",
        json={"question": mileage, "collections": ["finance"]},
        headers={"Authorization": f"Bearer {token()}"},
        timeout=60,
    ).json()
    assert widened["retrieved"] == [], "asking for a collection outside the token finds nothing"


FORGED = "forged-secret-forged-secret-forged!"


@pytest.mark.parametrize(
    ("claims", "secret", "message"),
    [
        ({"exp": -3600}, SECRET, "the portal token has expired"),
        ({}, FORGED, "invalid portal token: Signature verification failed"),
        ({"aud": "another-app"}, SECRET, "invalid portal token: Audience doesn't match"),
        ({"collections": None}, SECRET, "the portal token must list its 'collections'"),
    ],
    ids=["expired", "forged", "audience", "no-collections"],
)
def test_bad_portal_tokens_are_refused(
    secured: tuple[str, str, Path], claims: dict[str, Any], secret: str, message: str
) -> None:
    """Tokens are signed inside the test: an expiry counted from collection time would run out
    on a slow run. `exp` in `claims` is relative to now."""
    url, _, _ = secured
    payload: dict[str, Any] = {"sub": "ana", "aud": "docent", "collections": ["hr"], **claims}
    payload["exp"] = int(time.time()) + claims.get("exp", 300)
    encoded = jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, "HS256")
    response = ask(url, encoded)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == message


def test_portal_tokens_cannot_manage_documents(secured: tuple[str, str, Path]) -> None:
    url, key, _ = secured
    headers = {"Authorization": f"Bearer {token()}"}
    refused = httpx.get(f"{url}/api/v1/documents", headers=headers, timeout=10)
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "forbidden"
    allowed = httpx.get(
        f"{url}/api/v1/documents", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert {d["collection"] for d in allowed.json()} == {"hr", "finance"}


def test_only_allowed_origins_may_call_or_frame(secured: tuple[str, str, Path]) -> None:
    url, _, _ = secured
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    ok = httpx.options(f"{url}/api/v1/ask", headers={"Origin": PORTAL, **preflight}, timeout=10)
    assert ok.headers["access-control-allow-origin"] == PORTAL
    other = httpx.options(
        f"{url}/api/v1/ask", headers={"Origin": "https://evil.example", **preflight}, timeout=10
    )
    assert "access-control-allow-origin" not in other.headers
    for path in ("/api/health", "/"):
        policy = httpx.get(f"{url}{path}", timeout=10).headers["content-security-policy"]
        assert policy == f"frame-ancestors 'self' {PORTAL}"


def test_ui_asks_for_a_login(secured: tuple[str, str, Path]) -> None:
    url, _, _ = secured
    with httpx.Client(base_url=url, timeout=10) as browser:
        assert browser.get("/config").status_code == 401
        refused = browser.post("/login", data={"username": "docent", "password": "nope"})
        assert refused.status_code == 400
        logged_in = browser.post("/login", data={"username": "docent", "password": "s3cret"})
        assert logged_in.status_code == 200
        assert browser.get("/config").json()["title"] == "Docent"


def test_rate_limit_answers_429(tmp_path: Path, embeddings: Embeddings) -> None:
    runtime = build_runtime(
        make_settings(tmp_path / "data", rate_limit_per_minute=3), embeddings=embeddings
    )
    with serving(create_app(runtime)) as url:
        statuses = [httpx.get(f"{url}/v1/models", timeout=10) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    limited = statuses[-1]
    assert limited.json()["error"]["type"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 61


def test_unsafe_access_settings_are_refused(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from rag.errors import ConfigError
    from rag.web.auth import Authenticator

    with pytest.raises(ConfigError, match="at least 32 characters"):
        Authenticator(make_settings(tmp_path, jwt_secret="short"))
    with pytest.raises(ValidationError, match="is not an origin"):
        make_settings(tmp_path, allowed_origins=["https://portal.example/; script-src *"])
    (tmp_path / "api_keys.json").write_text('["not", "an", "object"]')
    with pytest.raises(ConfigError, match=r"^the API key store cannot be read$"):
        Authenticator(make_settings(tmp_path))
