"""The library and the ways back to a source, as a person uses them in headless Chromium: drop
mixed files (a scan, slides, a workbook, a broken file) into a collection, ask across them,
follow a citation to its page, keep and manage conversations, read the coverage gaps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import ask, make_settings, screenshot_path, serving
from tests.made_files import scanned_pdf, slides, workbook

pytestmark = pytest.mark.browser

_SLOW = 120_000  # ms: OCR and indexing on two cores

HANDBOOK = """# Visitor handbook

## Badges

Visitors get a **paper badge** at reception and return it when they leave.

![tracking pixel](http://example.invalid/pixel.png) <img src=x onerror=alert(1)>
[the visitor form](http://example.invalid/form)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder) -> Iterator[str]:
    """The app over the samples, its own data dir (these tests change documents)."""
    runtime = build_runtime(
        make_settings(tmp_path_factory.mktemp("library-data")), embeddings=embeddings
    )
    runtime.ensure_samples()
    with serving(create_app(runtime)) as url:
        yield url


@pytest.fixture
def chat_server(server: str) -> str:
    return server


def tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def pick(page: Page, dropdown: str, option: str) -> None:
    """Choose `option` in a Gradio dropdown."""
    page.locator(f"{dropdown} input").click()
    page.locator(f"{dropdown} input").fill(option)
    page.get_by_role("option", name=option).first.click()


def test_drop_mixed_files_ask_across_them_and_see_the_cited_page(
    page: Page, tmp_path: Path
) -> None:
    files = [
        scanned_pdf(tmp_path / "safety-notice.pdf"),
        slides(tmp_path / "review.pptx"),
        workbook(tmp_path / "budgets.xlsx"),
        tmp_path / "broken.pptx",
    ]
    files[-1].write_bytes(b"not a zip")
    tab(page, "Library")
    page.locator("#docent-upload-collection textarea").fill("warehouse")
    page.locator("#docent-upload input[type=file]").set_input_files([str(f) for f in files])
    status = page.locator("#docent-library-status")
    expect(status).to_contain_text("Indexed: 3 added", timeout=_SLOW)
    expect(status).to_contain_text("broken.pptx: not a valid .pptx file")
    table = page.locator("#docent-library")
    for name in ("safety-notice.pdf", "review.pptx", "budgets.xlsx"):
        expect(table).to_contain_text(name)
    expect(table).to_contain_text("warehouse")
    page.screenshot(
        path=str(screenshot_path("library.png", tmp_path)), full_page=True, animations="disabled"
    )

    tab(page, "Chat")
    ask(page, "What licence must forklift drivers hold?")
    chat = page.locator("#docent-chat")
    expect(chat).to_contain_text("FL-2291", timeout=60_000)
    chat.locator("a.docent-cite").first.click()
    card = page.locator("#docent-sources .docent-card").first
    expect(card).to_be_in_viewport()
    expect(card).to_contain_text("safety-notice.pdf, page 1")
    card.locator("details.docent-page summary").click()
    picture = card.locator("details.docent-page img")
    expect(picture).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 500", arg=picture.element_handle()
    )
    page.screenshot(
        path=str(screenshot_path("citation-page.png", tmp_path)),
        full_page=True,
        animations="disabled",
    )

    ask(page, "What is the budget of project Vega?")
    expect(chat).to_contain_text("88000", timeout=60_000)
    expect(page.locator("#docent-sources")).to_contain_text("budgets.xlsx, sheet 1")

    pick(page, "#docent-collections", "default")  # the warehouse files are not searched now
    ask(page, "What licence must forklift drivers hold?")
    expect(page.locator("#docent-sources")).not_to_contain_text("safety-notice", timeout=60_000)


def test_reindex_and_delete_documents_in_the_library(page: Page) -> None:
    tab(page, "Library")
    table = page.locator("#docent-library")
    expect(table).to_contain_text("release-notes.html", timeout=30_000)
    pick(page, "#docent-library-pick", "onboarding.txt (default)")
    page.locator("#docent-library-reindex").click()
    expect(page.locator("#docent-library-status")).to_contain_text(
        "Indexed: 0 added, 0 unchanged, 1 replaced", timeout=_SLOW
    )
    pick(page, "#docent-library-pick", "release-notes.html (default)")
    page.locator("#docent-library-delete").click()
    expect(page.locator("#docent-library-status")).to_contain_text(
        "Deleted release-notes.html", timeout=30_000
    )
    expect(table).not_to_contain_text("release-notes.html")


def test_conversations_are_kept_reopened_renamed_and_deleted(page: Page, tmp_path: Path) -> None:
    ask(page, "How long is the probation period for new hires?")
    chat = page.locator("#docent-chat")
    expect(chat).to_contain_text("6 months", timeout=60_000)
    page.locator("#docent-new-chat").click()
    expect(chat).not_to_contain_text("6 months", timeout=10_000)
    ask(page, "How many vacation days does a full-time employee get each year?")
    expect(chat).to_contain_text("26 days", timeout=60_000)
    past = page.locator("#docent-conversations label")
    expect(past.filter(has_text="probation period")).to_have_count(1, timeout=10_000)

    page.locator("#docent-feedback-up").click()
    feedback = page.locator("#docent-feedback-status")
    expect(feedback).to_contain_text("feedback saved", timeout=10_000)

    past.filter(has_text="probation period").click()
    expect(chat).to_contain_text("6 months", timeout=10_000)
    expect(chat).not_to_contain_text("26 days")
    expect(feedback).not_to_contain_text("feedback saved")  # it was about the other answer
    # the reopened answer keeps its sources: its [n] leads to the card of the cited passage
    sources = page.locator("#docent-sources")
    expect(sources.locator(".docent-card").first).to_contain_text("onboarding.txt")
    expect(sources.locator(".docent-card mark").first).to_contain_text("6 months")
    chat.locator("a.docent-cite").last.click()
    expect(sources.locator(".docent-card").first).to_be_in_viewport()
    page.locator("#docent-conversation-title textarea").fill("Probation")
    page.locator("#docent-conversation-rename").click()
    expect(past.filter(has_text="Probation ·")).to_have_count(1, timeout=10_000)
    page.screenshot(
        path=str(screenshot_path("conversations.png", tmp_path)),
        full_page=True,
        animations="disabled",
    )

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("#docent-conversation-delete").click()
    expect(chat).to_contain_text("6 months")  # cancelled: nothing is deleted
    assert asked == ["Delete this conversation? This cannot be undone."]
    expect(past.filter(has_text="Probation ·")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#docent-conversation-delete").click()
    expect(past.filter(has_text="Probation ·")).to_have_count(0, timeout=10_000)
    expect(chat).not_to_contain_text("6 months")

    page.reload()  # kept server-side: still listed on a new page
    expect(past.filter(has_text="vacation days")).to_have_count(1, timeout=30_000)


def test_markdown_passages_render_safely(page: Page, tmp_path: Path) -> None:
    remote: list[str] = []
    page.on("request", lambda request: remote.append(request.url))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    handbook = tmp_path / "visitor-handbook.md"
    handbook.write_text(HANDBOOK)
    tab(page, "Library")
    page.locator("#docent-upload input[type=file]").set_input_files(str(handbook))
    expect(page.locator("#docent-library-status")).to_contain_text("1 added", timeout=_SLOW)
    tab(page, "Chat")
    ask(page, "What do visitors get at reception?")
    card = page.locator("#docent-sources .docent-card").first
    expect(card).to_contain_text("paper badge", timeout=60_000)
    expect(card.locator("strong")).to_contain_text("paper badge")
    expect(card).not_to_contain_text("**")
    expect(card).to_contain_text("<img src=x onerror=alert(1)>")  # shown as text
    assert card.locator("img, a[href]").count() == 0
    assert dialogs == [] and not [url for url in remote if "example.invalid" in url]


def test_coverage_gaps_show_refused_questions_grouped(page: Page, tmp_path: Path) -> None:
    chat = page.locator("#docent-chat")
    for question in ("Who won the 1998 football World Cup?", "Which team won the 1998 World Cup?"):
        ask(page, question)
        expect(chat).to_contain_text("do not contain an answer", timeout=60_000)
        page.locator("#docent-new-chat").click()
        expect(chat).not_to_contain_text("do not contain an answer", timeout=10_000)
    essay = "Who won the 2002 football World Cup final " + "and why " * 230 + "?"
    ask(page, essay)  # a pasted wall of text, refused: one readable row of the gaps table
    expect(chat).to_contain_text("do not contain an answer", timeout=60_000)
    page.reload()  # the gaps are grouped as the page loads (and on Refresh)
    tab(page, "Coverage gaps")
    table = page.locator("#docent-gaps")
    expect(table).to_contain_text("1998", timeout=30_000)
    rows = table.get_by_role("row")  # Gradio also renders hidden rows to size the grid
    row = rows.filter(has_text="1998").first
    expect(row).to_contain_text("2")
    long_row = rows.filter(has_text="2002 football").first
    expect(long_row).to_be_visible()
    assert "and why " * 30 not in long_row.inner_text(), "the long question is cut"
    width = page.viewport_size["width"] if page.viewport_size else 1280
    box = table.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width, "the table fits the page"
    assert long_row.bounding_box()["height"] < 200  # type: ignore[index]
    page.screenshot(
        path=str(screenshot_path("coverage-gaps.png", tmp_path)),
        full_page=True,
        animations="disabled",
    )
    with page.expect_download() as download:
        page.locator("#docent-gaps-export").click()
    exported = Path(download.value.path()).read_text()
    assert exported.startswith("question,times asked,refused,marked wrong,last asked,also")
    assert "1998" in exported
