"""The one access model on a live server: hashed API keys, portal JWTs limited to their
collections on every surface (API, OpenAI endpoint, Gradio UI), UI sessions, allowed origins,
and the rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.settings import Settings
from rag.stores.credentials import ApiKeyRow
from rag.stores.schema import open_database
from rag.web.app import create_app
from rag.web.auth import SESSION_COOKIE
from tests.helpers import SAMPLES, create_key, make_settings, portal_token, serving

SECRET = "portal-shared-secret-for-tests-0123456789"
PORTAL = "https://portal.example.com"
MILEAGE = "How much is the mileage allowance per kilometre?"


@pytest.fixture(scope="module")
def secured(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[tuple[str, str, Settings]]:
    data = tmp_path_factory.mktemp("secured")
    settings = make_settings(
        data, jwt_secret=SECRET, allowed_origins=[PORTAL], rate_limit_per_minute=1000
    )
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "leave-policy.md"], collection="hr")
    runtime.ingestor.ingest([SAMPLES / "expenses.md"], collection="finance")
    key = create_key(settings, "intranet")
    with serving(create_app(runtime)) as url:
        yield url, key, settings


def token(secret: str = SECRET, lifetime: int = 300, **claims: Any) -> str:
    return portal_token(secret, lifetime, **claims)


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def ask(
    url: str,
    credential: str | None,
    question: str = "How many vacation days does a full-time employee get?",
) -> httpx.Response:
    headers = bearer(credential) if credential else {}
    return httpx.post(f"{url}/api/v1/ask", json={"question": question}, headers=headers, timeout=60)


def test_api_keys_are_stored_hashed_and_checked(secured: tuple[str, str, Settings]) -> None:
    url, key, settings = secured
    with open_database(settings).read() as session:
        (row,) = session.query(ApiKeyRow).all()
    assert row.name == "intranet" and key not in row.digest and len(row.digest) == 64
    missing = ask(url, None)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["type"] == "unauthorized"
    assert ask(url, "dk_wrong").json() == {
        "error": {"type": "unauthorized", "message": "invalid API key"}
    }
    assert "26 days" in ask(url, key).json()["text"]


def test_portal_token_only_reads_its_collections(secured: tuple[str, str, Settings]) -> None:
    url, _, _ = secured
    hr_only = ask(url, token(), MILEAGE).json()
    assert hr_only["retrieved"], "something from hr is retrieved"
    assert all(h["chunk"]["name"] == "leave-policy.md" for h in hr_only["retrieved"])
    assert "0.36" not in hr_only["text"]
    finance = ask(url, token(collections=["finance"]), MILEAGE).json()
    assert "€0.36" in finance["text"]
    widened = httpx.post(
        f"{url}/api/v1/ask",
        json={"question": MILEAGE, "collections": ["finance"]},
        headers=bearer(token()),
        timeout=60,
    ).json()
    assert widened["retrieved"] == [], "asking for a collection outside the token finds nothing"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lifetime": -3600}, "the portal token has expired"),
        ({"secret": "forged-secret-forged-secret-forged!"}, "invalid portal token"),
        ({"aud": "another-app"}, "invalid portal token"),
        ({"iat": None}, "invalid portal token"),
        ({"lifetime": 10 * 24 * 3600}, "invalid portal token"),
        ({"collections": None}, "the portal token must list its 'collections'"),
    ],
    ids=["expired", "forged", "audience", "no-iat", "ten-days", "no-collections"],
)
def test_bad_portal_tokens_are_refused(
    secured: tuple[str, str, Settings], kwargs: dict[str, Any], message: str
) -> None:
    """Signed inside the test (an expiry counted from collection time would run out on a slow
    run); the reason a token is invalid stays in the log."""
    url, _, _ = secured
    response = ask(url, token(**kwargs))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == message


def test_portal_tokens_cannot_manage_documents(secured: tuple[str, str, Settings]) -> None:
    url, key, _ = secured
    refused = httpx.get(f"{url}/api/v1/documents", headers=bearer(token()), timeout=10)
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "forbidden"
    allowed = httpx.get(f"{url}/api/v1/documents", headers=bearer(key), timeout=10)
    assert {d["collection"] for d in allowed.json()} == {"hr", "finance"}


def test_only_allowed_origins_may_call_or_frame(secured: tuple[str, str, Settings]) -> None:
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
    for path in ("/api/health", "/login", "/embed"):
        headers = httpx.get(f"{url}{path}", timeout=10).headers
        assert f"frame-ancestors 'self' {PORTAL}" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"


def test_the_chat_ui_needs_a_sign_in(secured: tuple[str, str, Settings]) -> None:
    url, key, _ = secured
    with httpx.Client(base_url=url, timeout=10) as browser:
        assert browser.get("/").status_code == 303
        assert browser.get("/").headers["location"] == "/login"
        assert "Sign in" in browser.get("/login").text
        for path in ("/config", "/gradio_api/info"):
            assert browser.get(path).status_code == 401, path
        refused = browser.post("/auth/session", json={"credential": "dk_nope"})
        assert refused.status_code == 401 and SESSION_COOKIE not in browser.cookies
        signed_in = browser.post("/auth/session", json={"credential": key})
        assert signed_in.status_code == 204
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert browser.get("/config").json()["title"] == "Docent"
        assert browser.get("/").status_code == 200
        assert browser.post("/auth/logout").status_code == 204
        assert browser.get("/config").status_code == 401


def test_ui_answers_within_the_callers_collections(secured: tuple[str, str, Settings]) -> None:
    """The Gradio `/ask` endpoint, called as a portal user would be signed in: bearer header
    or session cookie, the token's collections apply exactly as on the API."""
    url, _, _ = secured
    by_header = Client(url, headers=bearer(token()), verbose=False)
    chat, *_ = by_header.predict(MILEAGE, api_name="/ask")
    assert "0.36" not in chat[-1]["content"][0]["text"]
    with httpx.Client(base_url=url, timeout=10) as browser:
        browser.post("/auth/session", json={"credential": token(collections=["finance"])})
        session = browser.cookies[SESSION_COOKIE]
    by_cookie = Client(url, headers={"Cookie": f"{SESSION_COOKIE}={session}"}, verbose=False)
    chat, *_ = by_cookie.predict(MILEAGE, api_name="/ask")
    assert "€0.36" in chat[-1]["content"][0]["text"]
    with pytest.raises(ValueError, match="credentials were not provided"):
        Client(url, verbose=False).predict(MILEAGE, api_name="/ask")


def test_a_portal_session_ends_with_its_token(secured: tuple[str, str, Settings]) -> None:
    url, _, _ = secured
    short = token(lifetime=120)
    with httpx.Client(base_url=url, timeout=10) as browser:
        signed_in = browser.post("/auth/session", json={"credential": short})
    max_age = int(signed_in.headers["set-cookie"].lower().split("max-age=")[1].split(";")[0])
    assert 0 < max_age <= 120


def test_rate_limit_answers_429(tmp_path: Path, embeddings: Encoder) -> None:
    runtime = build_runtime(
        make_settings(tmp_path / "data", rate_limit_per_minute=3), embeddings=embeddings
    )
    with serving(create_app(runtime)) as url:
        statuses = [httpx.get(f"{url}/v1/models", timeout=10) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    limited = statuses[-1]
    assert limited.json()["error"]["type"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 61


def test_failed_sign_ins_are_limited_per_address(tmp_path: Path, embeddings: Encoder) -> None:
    settings = make_settings(tmp_path / "data", failed_auth_per_minute=3)
    key = create_key(settings, "ops")
    runtime = build_runtime(settings, embeddings=embeddings)
    with serving(create_app(runtime)) as url:
        wrong = [ask(url, f"dk_guess{n}").status_code for n in range(3)]
        login = httpx.post(f"{url}/auth/session", json={"credential": "dk_guess"}, timeout=10)
        right = ask(url, key)
    assert wrong == [401, 401, 401]
    assert login.status_code == 429 and login.json()["error"]["type"] == "rate_limited"
    assert right.status_code == 200, "a valid key is not locked out by others' guesses"


def test_keys_created_later_close_an_open_install(tmp_path: Path, embeddings: Encoder) -> None:
    settings = make_settings(tmp_path / "data")
    runtime = build_runtime(settings, embeddings=embeddings)
    with serving(create_app(runtime)) as url:
        assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 200
        create_key(settings, "ops")
        assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 401
        with runtime.database.write() as session:
            session.query(ApiKeyRow).delete()
        assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 401, "never reopens"


def test_unsafe_access_settings_are_refused(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from rag.errors import ConfigError
    from rag.web.app import check_exposure
    from rag.web.auth import Authenticator

    with pytest.raises(ConfigError, match="at least 32 characters"):
        Authenticator(
            make_settings(tmp_path, jwt_secret="short"), open_database(make_settings(tmp_path))
        )
    with pytest.raises(ValidationError, match="is not an origin"):
        make_settings(tmp_path, allowed_origins=["https://portal.example/; script-src *"])
    database = open_database(make_settings(tmp_path))
    with pytest.raises(ConfigError, match="apikey create"):
        check_exposure(make_settings(tmp_path, host="0.0.0.0"), database)
    check_exposure(make_settings(tmp_path, host="0.0.0.0", allow_open=True), database)
    check_exposure(make_settings(tmp_path, host="127.0.0.1"), database)
    check_exposure(make_settings(tmp_path, host="0.0.0.0", jwt_secret="x" * 32), database)
    (tmp_path / "api_keys.json").write_text('["not", "an", "object"]')
    with pytest.raises(ConfigError, match=r"the old API key file api_keys\.json is not"):
        open_database(make_settings(tmp_path))


def test_an_unsigned_portal_token_is_refused(secured: tuple[str, str, Settings]) -> None:
    """Held from the second review: `alg: none` (no signature) is never a portal token."""
    import jwt

    url, _, _ = secured
    unsigned = jwt.encode(
        {"sub": "ana", "aud": "docent", "collections": ["hr", "finance"]}, None, "none"
    )
    response = ask(url, unsigned)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "invalid portal token"


@pytest.mark.parametrize(
    "path",
    ["//api/v1/documents", "/api/v1/%2e%2e/v1/documents", "/API/V1/DOCUMENTS", "/api/v1/Documents"],
)
def test_path_variants_reach_no_route(secured: tuple[str, str, Settings], path: str) -> None:
    """Held from the second review: a doubled slash, an encoded dot segment or another case
    is no way around the access check: nothing is listed."""
    url, _, _ = secured
    response = httpx.get(f"{url}{path}", timeout=30)
    assert response.status_code == 404, response.text
    assert "leave-policy.md" not in response.text
