"""Answers never load remote content: a document whose Markdown image, link and raw HTML point
at a tracker is quoted in the chat UI and the widget as plain text (the image as its alt text,
the link as its text, the HTML left out: `rag/answer/untrusted.py`), and the tracker never hears from
the browser."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest
from playwright.sync_api import Browser, Page, expect

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import make_settings, serving

pytestmark = pytest.mark.browser

QUESTION = "What does the mileage chart show?"


class Tracker(http.server.BaseHTTPRequestHandler):
    """Counts every request; a real tracker would learn who read the answer, and when."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Tracker.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test output."""


@pytest.fixture(scope="module")
def tracker() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tracker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def docent(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder, tracker: str
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("poisoned")
    document = folder / "mileage.md"
    document.write_text(
        "# Mileage\n\n"
        f"The mileage chart ![rate]({tracker}/pixel.png?doc=travel) shows the allowance "
        f"per kilometre, see [the chart]({tracker}/phish) <img src={tracker}/raw.png>.\n"
    )
    runtime = build_runtime(make_settings(folder / "data"), embeddings=embeddings)
    runtime.ingestor.ingest([document])
    with serving(create_app(runtime)) as url:
        yield url


def requested_from(page: Page, origin: str) -> list[str]:
    """Every resource the page has asked for from `origin` (the browser's own record)."""
    names: list[str] = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [name for name in names if name.startswith(origin)]


def test_the_chat_shows_a_markdown_image_as_text(
    browser: Browser, docent: str, tracker: str
) -> None:
    page = browser.new_page()
    page.goto(docent)
    box = page.locator("#docent-question textarea")
    expect(box).to_be_visible(timeout=30_000)
    box.fill(QUESTION)
    box.press("Enter")
    chat = page.locator("#docent-chat")
    expect(chat).to_contain_text("The mileage chart rate shows the allowance", timeout=60_000)
    sources = page.locator("#docent-sources")
    expect(sources).to_contain_text("The mileage chart rate shows the allowance")
    expect(sources).to_contain_text(f"see the chart <\u200bimg src={tracker}/raw.png>.")
    for shown in (chat, sources):  # not even as text: the image's and the link's addresses
        expect(shown).not_to_contain_text(f"{tracker}/pixel.png")
        expect(shown).not_to_contain_text(f"{tracker}/phish")
        expect(shown).not_to_contain_text("![rate]")
    assert chat.locator("img").count() == 0 and chat.locator("a[href^='http']").count() == 0
    assert sources.locator("img").count() == 0 and sources.locator("a[href]").count() == 0
    assert requested_from(page, tracker) == [] and Tracker.hits == []
    page.close()


def test_the_widget_shows_a_markdown_image_as_text(
    browser: Browser, docent: str, tracker: str
) -> None:
    page = browser.new_page()
    page.goto(f"{docent}/embed")
    page.locator("#docent-input").fill(QUESTION)
    page.locator("#docent-input").press("Enter")
    answer = page.locator(".answer").last
    expect(answer).to_contain_text("The mileage chart rate shows", timeout=60_000)
    expect(page.locator(".answer.pending")).to_have_count(0)  # cards are drawn
    for gone in (f"{tracker}/pixel.png", f"{tracker}/phish", "![rate]"):
        expect(page.locator("body")).not_to_contain_text(gone)
    assert page.locator("img").count() == 0 and page.locator("a").count() == 0
    assert requested_from(page, tracker) == [] and Tracker.hits == []
    page.close()


def test_the_page_policy_blocks_images_from_elsewhere(
    browser: Browser, docent: str, tracker: str
) -> None:
    """Even an image element that got in would not load: the CSP allows only Docent."""
    page = browser.new_page()
    page.goto(f"{docent}/embed")
    violations = page.evaluate(
        """url => new Promise(resolve => {
             document.addEventListener('securitypolicyviolation',
               e => resolve(e.violatedDirective), {once: true});
             const img = document.createElement('img');
             img.src = url;
             document.body.append(img);
           })""",
        f"{tracker}/injected.png",
    )
    assert violations.startswith("img-src")
    assert Tracker.hits == []
    page.close()
