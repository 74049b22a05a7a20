from __future__ import annotations

import httpx


def test_health(live_server: str) -> None:
    health = httpx.get(f"{live_server}/api/health", timeout=10).json()
    assert health["status"] == "ok" and health["generator"] == "extractive"
    assert health["documents"] == 9 and health["chunks"] > 20


def test_chat_page_is_served(live_server: str) -> None:
    page = httpx.get(f"{live_server}/", timeout=10)
    assert page.status_code == 200 and "gradio" in page.text
    config = httpx.get(f"{live_server}/config", timeout=10).json()
    assert config["title"] == "Docent"
