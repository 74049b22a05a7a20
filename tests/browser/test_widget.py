"""The widget as a portal uses it: a plain page on another origin embeds Docent with one script
tag; headless Debian Chromium (Playwright) clicks the launcher and asks."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import SAMPLES, make_settings, portal_token, screenshot_path, serving

pytestmark = pytest.mark.browser

SECRET = "widget-test-shared-secret-0123456789abcdef"


def widget_token(collections: list[str], expires_in: int = 3000) -> str:
    """What the portal's backend signs for the signed-in user (pages are written once per
    module, so the token lives close to the accepted maximum of an hour)."""
    return portal_token(SECRET, expires_in, collections=collections)


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Northwind intranet</title></head>
<body style="font-family: system-ui; margin: 40px; background: #f3f4f6">
<h1>Northwind Labs intranet</h1><p>Welcome back. Policies, people and places.</p>
<script src="{docent}/widget.js" data-title="{title}" data-token="{token}"></script>
</body></html>"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test output."""


@pytest.fixture(scope="module")
def portal_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A plain static site on its own port, as an intranet portal would be: (origin, folder)."""
    folder = tmp_path_factory.mktemp("portal")
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()


@pytest.fixture(scope="module")
def docent(
    tmp_path_factory: pytest.TempPathFactory,
    embeddings: Encoder,
    portal_site: tuple[str, Path],
) -> Iterator[str]:
    origin, _ = portal_site
    settings = make_settings(
        tmp_path_factory.mktemp("widget"), allowed_origins=[origin], jwt_secret=SECRET
    )
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES])
    with serving(create_app(runtime)) as url:
        yield url


@pytest.fixture(scope="module")
def portal(portal_site: tuple[str, Path], docent: str) -> str:
    """The portal's pages, each embedding Docent with the token its backend signed."""
    origin, folder = portal_site
    pages = {
        "index.html": ("Northwind help", widget_token(["default"])),
        "hostile.html": ("&lt;img src=x onerror=alert(2)&gt; help", widget_token(["default"])),
        "hr-only.html": ("HR help", widget_token(["hr"])),
        "expired.html": ("Northwind help", widget_token(["default"], expires_in=-60)),
    }
    for name, (title, token) in pages.items():
        (folder / name).write_text(PAGE.format(docent=docent, title=title, token=token))
    return origin


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    page.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"


def test_portal_page_asks_through_the_widget(page: Page, portal: str, tmp_path: Path) -> None:
    page.goto(f"{portal}/index.html")
    page.locator("#docent-launcher").click()
    chat = page.frame_locator("#docent-frame")
    expect(chat.locator("#docent-title")).to_have_text("Northwind help")
    chat.locator("#docent-input").fill("How many vacation days does a full-time employee get?")
    chat.locator("#docent-input").press("Enter")
    expect(chat.locator(".answer").last).to_contain_text("26 days", timeout=60_000)
    expect(chat.locator(".answer strong.short").last).to_have_text("26")  # the short answer
    card = chat.locator(".card").first
    expect(card).to_contain_text("leave-policy.md")
    expect(card.locator("mark").first).to_contain_text("26 days")
    page.screenshot(path=str(screenshot_path("widget.png", tmp_path)))


def test_post_message_api_opens_asks_and_closes(page: Page, portal: str) -> None:
    page.goto(f"{portal}/index.html")
    frame = page.locator("#docent-frame")
    expect(frame).to_be_hidden()
    page.evaluate(
        "window.postMessage({type: 'docent:ask', question: 'How long is the probation period?'}, '*')"
    )
    expect(frame).to_be_visible()
    chat = page.frame_locator("#docent-frame")
    expect(chat.locator(".answer").last).to_contain_text("6 months", timeout=60_000)
    page.evaluate("window.Docent.setCollection('nothing-here')")
    page.evaluate("window.Docent.ask('How long is the probation period?')")
    expect(chat.locator(".answer").last).to_contain_text("do not contain an answer", timeout=60_000)
    page.evaluate("window.postMessage({type: 'docent:close'}, '*')")
    expect(frame).to_be_hidden()


def test_document_markup_never_runs_in_the_widget(page: Page, portal: str) -> None:
    page.goto(f"{portal}/hostile.html")
    page.locator("#docent-launcher").click()
    chat = page.frame_locator("#docent-frame")
    expect(chat.locator("#docent-title")).to_have_text("<img src=x onerror=alert(2)> help")
    chat.locator("#docent-input").fill(
        "Which example strings are used in the Docent security regression tests?"
    )
    chat.locator("#docent-input").press("Enter")
    cards = chat.locator(".card")
    expect(cards.first).to_be_visible(timeout=60_000)
    expect(chat.locator("#messages")).to_contain_text('<script>alert("xss")</script>')
    expect(chat.locator("#messages")).to_contain_text("<img src=x onerror=alert(1)>")
    assert chat.locator("img").count() == 0 and chat.locator("#messages script").count() == 0


def test_other_origins_cannot_frame_docent(page: Page, portal: str) -> None:
    other = portal.replace("127.0.0.1", "localhost")  # same server, an origin not allowed
    page.goto(f"{other}/index.html")  # returns after the load event, which waits for the frame
    frame = page.locator("#docent-frame").element_handle().content_frame()
    assert frame is not None and "/embed/refused" in frame.url, frame and frame.url
    refused = page.frame_locator("#docent-frame")
    expect(refused.locator("body")).to_contain_text(other)  # says which origin, and the fix
    expect(refused.locator("body")).to_contain_text("DOCENT_ALLOWED_ORIGINS")
    assert refused.locator("#docent-input").count() == 0
    assert refused.locator("script").count() == 0
    page.goto(f"{portal}/index.html")  # the same check passes its positive counterpart
    assert page.frame_locator("#docent-frame").locator("#docent-input").count() == 1


@pytest.mark.parametrize(
    ("page_name", "expected"),
    [
        ("hr-only.html", "do not contain an answer"),
        ("expired.html", "Sorry, I could not answer: the portal token has expired"),
    ],
)
def test_the_portal_token_decides_what_the_widget_may_read(
    page: Page, portal: str, page_name: str, expected: str
) -> None:
    page.goto(f"{portal}/{page_name}")
    page.locator("#docent-launcher").click()
    chat = page.frame_locator("#docent-frame")
    chat.locator("#docent-input").fill("How many vacation days does a full-time employee get?")
    chat.locator("#docent-input").press("Enter")
    expect(chat.locator(".answer").last).to_contain_text(expected, timeout=60_000)
    expect(chat.locator(".answer.pending")).to_have_count(0)  # the whole answer is drawn
    assert chat.locator(".card").count() == 0
