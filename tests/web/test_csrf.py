"""M4 (CSRF with credentials configured), on a live server: a write authenticated by the UI
session cookie is refused unless the browser says it comes from Docent's own page, in every
mode; writes with a bearer credential (API key, portal token) are not the browser's doing and
pass. The refusals change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from index.embeddings import Encoder
from rag.jobs.queue import JobRow
from rag.runtime import build_runtime
from rag.settings import Settings
from rag.stores.schema import open_database
from rag.web.app import create_app
from rag.web.auth import SESSION_COOKIE
from tests.helpers import SAMPLES, create_key, make_settings, portal_token, serving, wait_for_job

SECRET = "portal-shared-secret-for-tests-0123456789"
UPLOAD = {"files": ("vpn.md", b"# VPN\n\nSign in at https://evil.example/sso.\n")}

# What a browser sends with a request that another page made (the sibling host of the same
# site gets the SameSite=Strict cookie: `same-site` is just as foreign).
FOREIGN = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "none"},
    {"Origin": "http://intranet.example.com"},
    {"Origin": "null"},  # a sandboxed frame, or a page that sends no referrer
    {"Referer": "http://intranet.example.com/page.html"},
]


@dataclass
class Install:
    url: str
    key: str
    settings: Settings

    @property
    def own(self) -> str:
        return self.url  # http://127.0.0.1:PORT, the origin of Docent's pages

    def session(self) -> str:
        """A fresh UI session cookie, signed in with the API key."""
        signed_in = httpx.post(f"{self.url}/auth/session", json={"credential": self.key})
        assert signed_in.status_code == 204
        return signed_in.cookies[SESSION_COOKIE]

    def documents(self) -> list[dict[str, Any]]:
        listed = httpx.get(f"{self.url}/api/v1/documents", headers=bearer(self.key), timeout=30)
        return list(listed.json())

    def jobs(self) -> int:
        with open_database(self.settings).read() as session:
            return int(session.scalar(select(func.count()).select_from(JobRow)) or 0)


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def cookie(session: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={session}"}


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder) -> Iterator[Install]:
    settings = make_settings(
        tmp_path_factory.mktemp("csrf"), jwt_secret=SECRET, rate_limit_per_minute=1000
    )
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "expenses.md", SAMPLES / "leave-policy.md"])
    key = create_key(settings, "intranet")
    with serving(create_app(runtime)) as url:
        yield Install(url, key, settings)


def writes(install: Install) -> list[tuple[str, str, dict[str, Any]]]:
    """Every kind of change a signed-in user can make: upload, re-index, delete, sign out,
    and Gradio's upload and queue."""
    doc_id = install.documents()[0]["id"]
    return [
        ("POST", "/api/v1/documents", {"files": UPLOAD}),
        ("POST", f"/api/v1/documents/{doc_id}/reindex", {}),
        ("DELETE", f"/api/v1/documents/{doc_id}", {}),
        ("POST", "/auth/logout", {}),
        ("POST", "/gradio_api/upload", {"files": UPLOAD}),
        ("POST", "/gradio_api/queue/join", {"json": {"data": [], "fn_index": 0}}),
        ("POST", "/api/v1/ask", {"json": {"question": "What is the mileage allowance?"}}),
    ]


def test_cookie_writes_from_other_pages_are_refused_and_change_nothing(install: Install) -> None:
    session = install.session()
    documents, jobs = install.documents(), install.jobs()
    for method, path, body in writes(install):
        for foreign in FOREIGN:
            response = httpx.request(
                method, f"{install.url}{path}", headers={**cookie(session), **foreign}, **body
            )
            assert response.status_code == 403, (method, path, foreign, response.text)
            error = response.json()["error"]
            assert error["type"] == "forbidden", (path, foreign)
            assert "Docent's own pages" in error["message"]
            assert "set-cookie" not in response.headers, "a refused sign-out ends nothing"
    assert install.documents() == documents
    assert install.jobs() == jobs
    still = httpx.get(f"{install.url}/api/v1/documents", headers=cookie(session), timeout=30)
    assert still.status_code == 200, "the session was not signed out"


def test_the_origin_the_browser_names_decides(install: Install) -> None:
    """What Docent's pages send passes: `Sec-Fetch-Site: same-origin`, or where the browser
    sends no Sec-Fetch-Site (plain http to a named host) Docent's own Origin or Referer; so
    does a client that is no browser (it names no origin at all). Any other origin, another
    port or scheme included, is refused."""
    port = int(install.url.rsplit(":", 1)[1])
    cases: list[tuple[dict[str, str], int]] = [
        ({"Sec-Fetch-Site": "same-origin", "Origin": "http://intranet.example.com"}, 202),
        ({"Origin": install.own}, 202),
        ({"Origin": f"http://LocalHost:{port}", "Host": f"localhost:{port}"}, 202),
        ({"Referer": f"{install.own}/?__theme=dark"}, 202),
        ({}, 202),
        ({"Origin": f"http://127.0.0.1:{port + 1}"}, 403),
        ({"Origin": f"https://127.0.0.1:{port}"}, 403),
        ({"Origin": f"http://localhost:{port}"}, 403),  # not the host the request names
        ({"Origin": install.own, "Sec-Fetch-Site": "same-site"}, 403),
        ({"Referer": f"http://127.0.0.1:{port + 1}/"}, 403),
    ]
    for headers, expected in cases:
        session = install.session()
        uploaded = httpx.post(
            f"{install.url}/api/v1/documents",
            files={"files": ("parking.md", b"# Parking\n\nThe car park opens at 06:30.\n")},
            data={"replace": "true"},
            headers={**cookie(session), **headers},
            timeout=30,
        )
        assert uploaded.status_code == expected, (headers, uploaded.text)
        signed_out = httpx.post(
            f"{install.url}/auth/logout", headers={**cookie(session), **headers}, timeout=10
        )
        assert signed_out.status_code == (204 if expected == 202 else 403), headers
        if expected == 202:
            job = uploaded.json()["job"]
            assert wait_for_job(install.url, job["id"], bearer(install.key))["status"] == "done"


def test_bearer_writes_are_not_the_browser_s_and_pass(install: Install) -> None:
    """An API key or portal token is sent only by code that holds it: where the cookie alone
    is refused, the same request with a bearer credential passes (a cookie beside it or not)."""
    session = install.session()
    foreign = {"Sec-Fetch-Site": "cross-site", "Origin": "http://intranet.example.com"}
    by_cookie = httpx.post(
        f"{install.url}/api/v1/documents", files=UPLOAD, headers={**cookie(session), **foreign}
    )
    assert by_cookie.status_code == 403
    by_key = {**bearer(install.key), **cookie(session), **foreign}
    uploaded = httpx.post(
        f"{install.url}/api/v1/documents", files=UPLOAD, headers=by_key, timeout=30
    )
    assert uploaded.status_code == 202, uploaded.text
    job = uploaded.json()["job"]
    assert wait_for_job(install.url, job["id"], bearer(install.key))["status"] == "done"
    (vpn,) = [d for d in install.documents() if d["name"] == "vpn.md"]
    reindexed = httpx.post(
        f"{install.url}/api/v1/documents/{vpn['id']}/reindex", headers=by_key, timeout=30
    )
    assert reindexed.status_code == 202, reindexed.text
    assert (
        wait_for_job(install.url, reindexed.json()["id"], bearer(install.key))["status"] == "done"
    )
    deleted = httpx.delete(f"{install.url}/api/v1/documents/{vpn['id']}", headers=by_key)
    assert deleted.status_code == 200, deleted.text
    assert "vpn.md" not in {d["name"] for d in install.documents()}
    by_token = {**bearer(portal_token(SECRET, collections=["default"])), **foreign}
    asked = httpx.post(
        f"{install.url}/api/v1/ask",
        json={"question": "What is the mileage allowance?"},
        headers=by_token,
        timeout=60,
    )
    assert asked.status_code == 200, asked.text
