"""UI sessions and failed sign-ins on a live server: a session ends with the API key it was made
with, even when a new key takes the same name (L2); bad credentials are counted in memory and
never write to the database, so they neither wait for nor take its write lock (L5)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.settings import Settings
from rag.stores.credentials import ApiKeyRow, ApiKeys
from rag.stores.schema import open_database
from rag.web.app import create_app
from rag.web.auth import SESSION_COOKIE
from tests.helpers import create_key, make_settings, portal_token, serving

SECRET = "portal-shared-secret-for-tests-0123456789"
FAILURES = 4  # failed authentications a client address gets per minute


@dataclass
class Install:
    url: str
    key: str
    settings: Settings

    @property
    def database_file(self) -> Path:
        return Path(self.settings.database_address.removeprefix("sqlite:///"))


@pytest.fixture
def install(tmp_path: Path, embeddings: Encoder) -> Iterator[Install]:
    settings = make_settings(
        tmp_path / "data",
        jwt_secret=SECRET,
        failed_auth_per_minute=FAILURES,
        run_jobs=False,  # no worker polling the database in the background
    )
    key = create_key(settings, "ops")
    runtime = build_runtime(settings, embeddings=embeddings)
    with serving(create_app(runtime)) as url:
        yield Install(url, key, settings)


def sign_in(url: str, credential: str) -> str:
    signed_in = httpx.post(f"{url}/auth/session", json={"credential": credential}, timeout=10)
    assert signed_in.status_code == 204, signed_in.text
    return signed_in.cookies[SESSION_COOKIE]


def with_session(url: str, session: str) -> int:
    """The status of a read made with the UI session `session`."""
    headers = {"Cookie": f"{SESSION_COOKIE}={session}"}
    return httpx.get(f"{url}/api/v1/documents", headers=headers, timeout=10).status_code


def within(seconds: float, condition: Callable[[], bool]) -> bool:
    """Whether `condition` holds within `seconds` (each server process reads the key table
    at most once a second)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_session_ends_with_its_key_even_when_a_new_key_takes_the_name(
    install: Install,
) -> None:
    old_session = sign_in(install.url, install.key)
    assert with_session(install.url, old_session) == 200
    database = open_database(install.settings)  # another process's, as `app.py apikey` is
    with database.write() as session:
        session.execute(delete(ApiKeyRow).where(ApiKeyRow.name == "ops"))
    keys = ApiKeys(database)
    new_key = keys.create("ops")
    assert within(10, lambda: with_session(install.url, old_session) == 401)
    new_session = sign_in(install.url, new_key)
    assert with_session(install.url, new_session) == 200
    assert with_session(install.url, old_session) == 401, "the old key's session stays ended"
    refused = httpx.get(
        f"{install.url}/api/v1/documents",
        headers={"Cookie": f"{SESSION_COOKIE}={old_session}"},
        timeout=10,
    )
    assert "sign in again" in refused.json()["error"]["message"]
    replaced = keys.create("ops")  # a new key of the same name replaces the last one
    assert within(10, lambda: with_session(install.url, new_session) == 401)
    assert with_session(install.url, sign_in(install.url, replaced)) == 200


def bad_credentials(install: Install) -> list[dict[str, str]]:
    """Requests a stranger guesses with: unknown keys, a forged portal token, a forged
    session cookie."""
    forged = portal_token("another-portal-secret-0123456789abcdef", collections=["hr"])
    return [
        {"Authorization": "Bearer dk_guess1"},
        {"Authorization": f"Bearer {forged}"},
        {"Cookie": f"{SESSION_COOKIE}=forged.session.cookie"},
        {"Authorization": "Bearer dk_guess2"},
    ]


def rows(database: Path) -> dict[str, int]:
    """Row counts of every table of the SQLite database."""
    with closing(sqlite3.connect(database)) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_bad_credentials_write_nothing_to_the_database(install: Install) -> None:
    before = rows(install.database_file)
    with closing(sqlite3.connect(install.database_file)) as watcher:
        changes = watcher.execute("PRAGMA data_version").fetchone()[0]
        statuses = []
        for headers in bad_credentials(install) * 3:
            statuses.append(
                httpx.get(f"{install.url}/api/v1/documents", headers=headers, timeout=10)
            )
        # data_version moves when another connection commits a change to the file
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == changes
    assert [r.status_code for r in statuses] == [401] * FAILURES + [429] * (
        len(statuses) - FAILURES
    )
    assert rows(install.database_file) == before


def test_bad_credentials_are_answered_while_a_writer_holds_the_database(
    install: Install,
) -> None:
    """Another writer holds SQLite's write lock: guesses are still answered 401 and then 429,
    none waits for the lock (a wait would end in an error after the 30 s busy timeout)."""
    with closing(sqlite3.connect(install.database_file, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")  # the write lock, as an ingestion holds it
        try:
            statuses = [
                httpx.get(
                    f"{install.url}/api/v1/documents", headers=headers, timeout=60
                ).status_code
                for headers in [*bad_credentials(install), {"Authorization": "Bearer dk_x"}]
            ]
        finally:
            writer.execute("ROLLBACK")
    assert statuses == [401] * FAILURES + [429]
