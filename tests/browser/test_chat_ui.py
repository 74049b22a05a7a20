"""The chat as a person uses it: headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from rag.answer.types import SentenceSupport
from rag.settings import Settings
from rag.stores.feedback import FeedbackStore
from rag.stores.schema import open_database
from rag.web.chat_ui import FEEDBACK_NO_ANSWER, FEEDBACK_SAVED, ChatUI, answer_html
from tests.helpers import answer_with, ask, screenshot_path, serving

pytestmark = pytest.mark.browser


def test_ask_and_see_answer_with_source_card(page: Page, tmp_path: Path) -> None:
    ask(page, "How many vacation days does a full-time employee get each year?")
    chat = page.locator("#docent-chat")
    expect(chat).to_contain_text("26 days", timeout=60_000)
    expect(chat).to_contain_text("[1]")
    expect(chat.locator("strong.docent-short")).to_have_text("26")  # the short answer, bold
    card = page.locator("#docent-sources .docent-card").first
    expect(card).to_contain_text("Leave Policy")
    expect(card).to_contain_text("leave-policy.md")
    expect(card.locator("mark")).to_contain_text("26 days of paid annual leave")
    expect(page.locator("#docent-searched")).to_contain_text("Searched for:")

    ask(page, "And how many of them can I carry over?")
    expect(page.locator("#docent-searched")).to_contain_text("vacation days", timeout=60_000)
    expect(chat).to_contain_text("carry", timeout=60_000)
    page.screenshot(path=str(screenshot_path("screenshot.png", tmp_path)), full_page=True)

    page.locator("#docent-new-chat").click()
    expect(chat).not_to_contain_text("26 days", timeout=10_000)


def test_an_empty_or_too_long_question_is_refused_without_a_bubble(page: Page) -> None:
    chat = page.locator("#docent-chat")
    box = page.locator("#docent-question textarea")
    box.fill("   ")
    box.press("Enter")
    expect(page.get_by_text("Type a question first.")).to_be_visible(timeout=10_000)
    assert chat.locator(".message, [data-testid='user'], [data-testid='bot']").count() == 0

    pasted = "Why is the sky blue? " * 2400  # about 50 KB, as from a pasted document
    box.fill(pasted)
    box.dispatch_event("input")
    counter = page.locator("#docent-question-count")
    expect(counter).to_contain_text("50,400 / 2,000 characters: too long")
    box.press("Enter")
    expect(page.get_by_text("Docent reads at most 2,000").first).to_be_visible(timeout=10_000)
    assert box.input_value() == pasted, "nothing is cut behind the person's back"
    assert chat.locator("[data-testid='user'], [data-testid='bot']").count() == 0


def test_document_markup_is_shown_not_run(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ask(page, "Which example strings are used in the Docent security regression tests?")
    sources = page.locator("#docent-sources")
    # as written, but for the zero-width space after each "<" that keeps HTML from being HTML
    expect(sources).to_contain_text('<\u200bscript>alert("xss")<\u200b/script>', timeout=60_000)
    expect(sources).to_contain_text("<\u200bimg src=x onerror=alert(1)>")
    assert dialogs == []
    assert (
        page.locator("#docent-sources img, #docent-chat img[src='x'], script:text('xss')").count()
        == 0
    )


def test_unanswerable_question_abstains_and_shows_closest(page: Page) -> None:
    ask(page, "Is there a dress code for the office?")
    expect(page.locator("#docent-chat")).to_contain_text("do not contain an answer", timeout=60_000)
    expect(page.locator("#docent-sources")).to_contain_text("Closest passages")


def feedback_lines(settings: Settings) -> list[dict[str, Any]]:
    """The live server's stored feedback."""
    return [f.model_dump() for f in FeedbackStore(open_database(settings)).all()]


def test_rate_the_last_answer(page: Page, live_server_settings: Settings) -> None:
    before = len(feedback_lines(live_server_settings))
    status = page.locator("#docent-feedback-status")
    page.locator("#docent-feedback-up").click()
    expect(status).to_contain_text(FEEDBACK_NO_ANSWER, timeout=10_000)

    question = "How long is the probation period for new hires?"
    ask(page, question)
    expect(page.locator("#docent-chat")).to_contain_text("6 months", timeout=60_000)
    expect(status).to_be_empty()
    page.locator("#docent-feedback-up").click()
    expect(status).to_contain_text(FEEDBACK_SAVED, timeout=10_000)

    correction = page.locator("#docent-feedback-correction textarea")
    correction.fill("onboarding.txt")
    page.locator("#docent-feedback-wrong").click()
    expect(correction).to_have_value("", timeout=10_000)
    expect(status).to_contain_text(FEEDBACK_SAVED)

    stored = feedback_lines(live_server_settings)[before:]
    assert [(s["rating"], s["correction"]) for s in stored] == [
        ("up", None),
        ("wrong_source", "onboarding.txt"),
    ], stored
    assert all(s["question"] == question for s in stored)
    assert (
        stored[0]["cited_chunk_ids"]
        and stored[0]["cited_chunk_ids"] == stored[1]["cited_chunk_ids"]
    )
    assert stored[0]["cited_documents"] == ["onboarding.txt"]

    page.locator("#docent-new-chat").click()
    expect(status).to_be_empty(timeout=10_000)
    page.locator("#docent-feedback-down").click()
    expect(status).to_contain_text(FEEDBACK_NO_ANSWER, timeout=10_000)


@pytest.fixture(scope="module")
def marked_chat() -> Iterator[str]:
    """A page with only the chat, showing an answer whose second sentence is weakly supported."""
    first, second = (
        "Leave is 26 days [1].",
        'Run <script>alert("x")</script> <img src=x onerror=alert(1)> [1].',
    )
    answer = answer_with(
        f"{first} {second}",
        [
            SentenceSupport(start=0, end=len(first), cites=[1], score=0.9, supported=True),
            SentenceSupport(
                start=len(first) + 1,
                end=len(first) + 1 + len(second),
                cites=[1],
                score=0.31,
                supported=False,
            ),
        ],
    )
    with gr.Blocks() as blocks:
        ChatUI.chatbot([{"role": "assistant", "content": answer_html(answer)}])
    app = gr.mount_gradio_app(FastAPI(), blocks, path="/", css=ChatUI.css())
    with serving(app) as url:
        yield url


def test_weakly_supported_sentence_is_marked(browser: Browser, marked_chat: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(marked_chat)
    marked = page.locator("#docent-chat .docent-unsupported")
    expect(marked).to_have_count(1, timeout=30_000)
    expect(marked).to_have_text('Run <script>alert("x")</script> <img src=x onerror=alert(1)> [1].')
    expect(marked).to_have_attribute(
        "title", "Weakly supported by the cited passage (support 0.31)"
    )
    assert marked.evaluate("e => getComputedStyle(e).textDecorationStyle") == "dotted"
    expect(page.locator("#docent-chat")).to_contain_text("Leave is 26 days [1].")
    assert dialogs == [] and page.locator("#docent-chat img").count() == 0
    context.close()
