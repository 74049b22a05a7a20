"""Fixtures for browser tests: headless Debian Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: run `make test`, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def chat_server(live_server: str) -> str:
    """The server whose chat `page` opens: the shared one, unless a module serves its own."""
    return live_server


@pytest.fixture
def page(browser: Browser, chat_server: str) -> Iterator[Page]:
    """The chat page of `chat_server`, ready for a question."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(chat_server)
    expect(page.locator("#docent-question textarea")).to_be_visible(timeout=30_000)
    yield page
    context.close()
