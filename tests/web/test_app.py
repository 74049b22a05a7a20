"""The app as served: health, the chat page, the offline API docs."""

from __future__ import annotations

import re

import httpx


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
