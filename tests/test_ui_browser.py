"""The chat as a person uses it: headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "screenshot.png"
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
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server)
    expect(page.locator("#docent-question textarea")).to_be_visible(timeout=30_000)
    yield page
    context.close()


def ask(page: Page, question: str) -> None:
    box = page.locator("#docent-question textarea")
    box.fill(question)
    box.press("Enter")


def test_ask_and_see_answer_with_source_card(page: Page) -> None:
    ask(page, "How many vacation days does a full-time employee get each year?")
    chat = page.locator("#docent-chat")
    expect(chat).to_contain_text("26 days", timeout=60_000)
    expect(chat).to_contain_text("[1]")
    card = page.locator("#docent-sources .docent-card").first
    expect(card).to_contain_text("Leave Policy")
    expect(card).to_contain_text("leave-policy.md")
    expect(card.locator("mark")).to_contain_text("26 days of paid annual leave")
    expect(page.locator("#docent-searched")).to_contain_text("Searched for:")

    ask(page, "And how many of them can I carry over?")
    expect(page.locator("#docent-searched")).to_contain_text("vacation days", timeout=60_000)
    expect(chat).to_contain_text("carry", timeout=60_000)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.locator("#docent-new-chat").click()
    expect(chat).not_to_contain_text("26 days", timeout=10_000)


def test_document_markup_is_shown_not_run(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ask(page, "Which example strings are used in the Docent security regression tests?")
    sources = page.locator("#docent-sources")
    expect(sources).to_contain_text('<script>alert("xss")</script>', timeout=60_000)
    expect(sources).to_contain_text("<img src=x onerror=alert(1)>")
    page.wait_for_timeout(500)
    assert dialogs == []
    assert (
        page.locator("#docent-sources img, #docent-chat img[src='x'], script:text('xss')").count()
        == 0
    )


def test_unanswerable_question_abstains_and_shows_closest(page: Page) -> None:
    ask(page, "Is there a dress code for the office?")
    expect(page.locator("#docent-chat")).to_contain_text("do not contain an answer", timeout=60_000)
    expect(page.locator("#docent-sources")).to_contain_text("Closest passages")
