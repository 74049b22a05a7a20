"""The app as served: health, the chat page, the offline API docs."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx

from index.embeddings import Encoder
from rag.operations.database_copy import sqlite_path
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import make_settings, serving


def test_health(live_server: str) -> None:
    health = httpx.get(f"{live_server}/api/health", timeout=10).json()
    assert health["status"] == "ok" and health["generator"] == "extractive"
    assert health["documents"] == 9 and health["chunks"] > 20


def test_api_docs_load_nothing_from_outside(live_server: str) -> None:
    page = httpx.get(f"{live_server}/docs", timeout=10)
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert httpx.get(f"{live_server}{source}", timeout=10).status_code == 200, source


def test_chat_page_is_served(live_server: str) -> None:
    page = httpx.get(f"{live_server}/", timeout=10)
    assert page.status_code == 200 and "gradio" in page.text
    config = httpx.get(f"{live_server}/config", timeout=10).json()
    assert config["title"] == "Docent"


def test_liveness_and_readiness(live_server: str) -> None:
    assert httpx.get(f"{live_server}/api/health/live", timeout=10).json() == {"status": "ok"}
    ready = httpx.get(f"{live_server}/api/health/ready", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "lexical_lag": 0}


def test_a_node_whose_database_breaks_is_not_ready(tmp_path: Path, embeddings: Encoder) -> None:
    settings = make_settings(tmp_path / "data", samples_dir=None)
    runtime = build_runtime(settings, embeddings=embeddings)
    with serving(create_app(runtime)) as url:
        assert httpx.get(f"{url}/api/health/ready", timeout=10).status_code == 200
        database = sqlite_path(settings.database_address)
        assert database is not None
        with closing(sqlite3.connect(database)) as connection:
            connection.execute("DROP TABLE document_changes")  # the change log is gone
            connection.commit()
        broken = httpx.get(f"{url}/api/health/ready", timeout=10)
        assert broken.status_code == 503
        assert broken.json() == {"status": "unavailable", "reason": "database"}
        assert httpx.get(f"{url}/api/health/live", timeout=10).status_code == 200
