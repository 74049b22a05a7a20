"""GET /api/v1/citations/{chunk}/page.png over a live server: the cited page with its sentences
highlighted, for those who may read its collection only, from uploads and from files on disk,
with bounded input and no server path in any reply; and what one page view may cost: a crafted
page is read up to the word cap, a page read before is drawn while PDFium's lock is held
elsewhere, and a caller's page views past the limit are refused."""

from __future__ import annotations

import io
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from index import ocr
from index.embeddings import Encoder
from rag.runtime import Runtime, build_runtime
from rag.web.app import create_app
from rag.web.errors import RateLimitError
from rag.web.pages import RenderSlots, page_url, render_slots
from tests.helpers import SAMPLES, create_key, make_settings, portal_token, serving
from tests.made_files import dense_pdf, scanned_pdf, text_pdf

SECRET = "p" * 40


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[tuple[str, Runtime, str]]:
    """office-locations.pdf in "hr", a scanned notice in "warehouse"; an admin key."""
    root = tmp_path_factory.mktemp("pages")
    runtime = build_runtime(make_settings(root / "data", jwt_secret=SECRET), embeddings=embeddings)
    (root / "hr").mkdir()
    shutil.copy(SAMPLES / "office-locations.pdf", root / "hr")
    runtime.ingestor.ingest([root / "hr"], collection="hr")
    (root / "warehouse").mkdir()
    scanned_pdf(root / "warehouse" / "notice.pdf")
    runtime.ingestor.ingest([root / "warehouse"], collection="warehouse")
    key = create_key(runtime.settings, "admin")
    with serving(create_app(runtime)) as url:
        yield url, runtime, key


def _cited(runtime: Runtime, question: str) -> tuple[str, list[tuple[int, int]]]:
    answer = runtime.assistant.answer(question)
    assert answer.citations, answer.text
    return answer.citations[0].chunk_id, answer.citations[0].highlights


def _png(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def _yellow(image: Image.Image) -> int:
    """Pixels of the highlight's colour."""
    rgb = image.convert("RGB")
    return sum(1 for r, g, b in rgb.getdata() if r > 235 and 200 < g < 240 and b < 180)


def test_the_cited_page_comes_with_its_sentences_highlighted(
    site: tuple[str, Runtime, str],
) -> None:
    url, runtime, key = site
    admin = {"Authorization": f"Bearer {key}"}
    chunk, spans = _cited(runtime, "What is the address of the Lisbon office?")
    marked = _png(httpx.get(url + page_url(chunk, spans), headers=admin))
    plain = _png(httpx.get(url + page_url(chunk, []), headers=admin))
    assert marked.width > 800 and marked.size == plain.size
    assert _yellow(marked) > 1000 and _yellow(plain) == 0

    scan, spans = _cited(runtime, "What licence must forklift drivers hold?")
    assert _yellow(_png(httpx.get(url + page_url(scan, spans), headers=admin))) > 1000


def test_pages_follow_the_access_model(site: tuple[str, Runtime, str]) -> None:
    url, runtime, _ = site
    chunk, spans = _cited(runtime, "What is the address of the Lisbon office?")
    path = page_url(chunk, spans)
    assert httpx.get(url + path).status_code == 401
    reader = {"Authorization": f"Bearer {portal_token(SECRET, collections=['hr'])}"}
    _png(httpx.get(url + path, headers=reader))
    stranger = {"Authorization": f"Bearer {portal_token(SECRET, collections=['warehouse'])}"}
    hidden = httpx.get(url + path, headers=stranger)
    missing = httpx.get(url + page_url("0" * 32, []), headers=stranger)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["message"] == f"no passage with id {chunk}"


@pytest.mark.parametrize(
    "query",
    ["spans=1-2-3", "spans=" + ",".join(["1-2"] * 11), "spans=99999999-1", "spans=a-b"],
)
def test_bad_spans_are_refused_before_any_work(site: tuple[str, Runtime, str], query: str) -> None:
    url, runtime, key = site
    chunk, _ = _cited(runtime, "What is the address of the Lisbon office?")
    reply = httpx.get(
        f"{url}/api/v1/citations/{chunk}/page.png?{query}",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert reply.status_code == 422


def test_a_passage_without_pages_or_file_says_so_without_a_path(
    site: tuple[str, Runtime, str], tmp_path: Path
) -> None:
    url, runtime, key = site
    admin = {"Authorization": f"Bearer {key}"}
    folder = tmp_path / "moved"
    folder.mkdir()
    shutil.copy(SAMPLES / "travel-policy.pdf", folder)
    shutil.copy(SAMPLES / "onboarding.txt", folder)
    runtime.ingestor.ingest([folder], collection="hr")
    text, _ = _cited(runtime, "How long is the probation period for new hires?")
    unpaged = httpx.get(url + page_url(text, []), headers=admin)
    assert unpaged.status_code == 404 and "has no page to show" in unpaged.text
    gone, _ = _cited(runtime, "Which travel agency books business trips?")
    _png(httpx.get(url + page_url(gone, []), headers=admin))
    with (folder / "travel-policy.pdf").open("ab") as changed:
        changed.write(b"\n% edited after indexing\n")
    stale = httpx.get(url + page_url(gone, []), headers=admin)
    assert stale.status_code == 404 and "changed since it was indexed" in stale.text
    (folder / "travel-policy.pdf").unlink()
    reply = httpx.get(url + page_url(gone, []), headers=admin)
    assert reply.status_code == 404
    assert "is no longer available" in reply.text and str(tmp_path) not in reply.text


LAST = "Depot keys are kept in the red cabinet by the north door."


@pytest.fixture(scope="module")
def costly(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[tuple[str, Runtime, str]]:
    """A crafted page of 6,000 words, all the same, then one sentence, in "depot" (read up to
    2,000 words a page); four one-page memos in "memos"; an admin key; no rate limit."""
    root = tmp_path_factory.mktemp("costly")
    settings = make_settings(
        root / "data", jwt_secret=SECRET, page_max_words=2_000, rate_limit_per_minute=0
    )
    runtime = build_runtime(settings, embeddings=embeddings)
    (root / "depot").mkdir()
    dense_pdf(root / "depot" / "dense.pdf", words=6_000, last=LAST)
    (root / "memos").mkdir()
    for n in range(1, 5):
        text_pdf(root / "memos" / f"memo-{n}.pdf", [f"Memo {n}: the depot opens at 0{n}:00."])
    for collection in ("depot", "memos"):
        assert not runtime.ingestor.ingest([root / collection], collection=collection).failed
    key = create_key(runtime.settings, "admin")
    with serving(create_app(runtime)) as url:
        yield url, runtime, key


def _chunk_with(runtime: Runtime, text: str) -> tuple[str, tuple[int, int]]:
    """The id of the passage holding `text`, and where `text` stands in it."""
    for chunk in runtime.store.iter_chunks():
        if text in chunk.text:
            start = chunk.text.index(text)
            return chunk.id, (start, start + len(text))
    raise AssertionError(f"no passage holds {text!r}")


def test_a_crafted_page_answers_marked_up_to_the_word_cap(
    costly: tuple[str, Runtime, str],
) -> None:
    url, runtime, key = costly
    admin = {"Authorization": f"Bearer {key}"}
    filler, (start, _) = _chunk_with(runtime, " ".join(["travel"] * 100))
    repeated = [(start, start + 700)] * 10  # ten times the same 100 words
    assert _yellow(_png(httpx.get(url + page_url(filler, repeated), headers=admin))) > 100
    last, span = _chunk_with(runtime, LAST)  # word 6,001 and after: past the 2,000 read
    assert _yellow(_png(httpx.get(url + page_url(last, [span]), headers=admin))) == 0


def _holding_pdfium() -> tuple[threading.Event, threading.Thread]:
    """PDFium's lock taken by another thread until the returned event is set."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with ocr.PDFIUM:
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(60)
    return release, holder


def test_a_page_read_before_is_drawn_while_the_pdf_lock_is_held_elsewhere(
    costly: tuple[str, Runtime, str],
) -> None:
    url, runtime, key = costly
    admin = {"Authorization": f"Bearer {key}"}
    filler, (start, _) = _chunk_with(runtime, " ".join(["travel"] * 100))
    _png(httpx.get(url + page_url(filler, []), headers=admin))
    release, holder = _holding_pdfium()
    try:  # matching and drawing need no PDFium: it answers (a timeout is a deadlock guard)
        marked = httpx.get(
            url + page_url(filler, [(start, start + 700)] * 10), headers=admin, timeout=60
        )
    finally:
        release.set()
        holder.join()
    assert _yellow(_png(marked)) > 100


def test_a_callers_page_views_past_the_limit_are_refused_not_queued(
    costly: tuple[str, Runtime, str],
) -> None:
    """Three page views of one key wait for PDFium (held here); its fourth is answered 429 at
    once, while another caller's view is let in; all are drawn once PDFium is free."""
    url, runtime, key = costly
    admin = {"Authorization": f"Bearer {key}"}
    reader = {"Authorization": f"Bearer {portal_token(SECRET, collections=['memos'])}"}
    memos = [_chunk_with(runtime, f"Memo {n}:")[0] for n in range(1, 5)]
    replies: list[httpx.Response] = []

    def view(chunk: str, headers: dict[str, str]) -> threading.Thread:
        def get() -> None:
            replies.append(httpx.get(url + page_url(chunk, []), headers=headers, timeout=120))

        thread = threading.Thread(target=get)
        thread.start()
        return thread

    release, holder = _holding_pdfium()
    try:
        waiting = [view(chunk, admin) for chunk in memos[:3]] + [view(memos[3], reader)]
        deadline = time.monotonic() + 60
        while render_slots.busy("key:admin") < 3 or render_slots.busy("token:ana") < 1:
            assert time.monotonic() < deadline, "the page views did not start"
            time.sleep(0.02)
        refused = httpx.get(url + page_url(memos[3], []), headers=admin)
    finally:
        release.set()
        holder.join()
    for thread in waiting:
        thread.join(120)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert refused.json()["error"] == {
        "type": "rate_limited",
        "message": "you have 3 page views being drawn, the most at once: ask for this "
        "one when they are shown",
    }
    assert [reply.status_code for reply in replies] == [200] * 4
    assert render_slots.busy("key:admin") == 0
    _png(httpx.get(url + page_url(memos[3], []), headers=admin))


def test_a_render_slot_is_given_back_when_drawing_fails() -> None:
    slots = RenderSlots()
    with pytest.raises(ValueError), slots.hold("key:ana", 1):
        raise ValueError("a page PDFium cannot draw")
    with slots.hold("key:ana", 1):
        assert slots.busy("key:ana") == 1
        with pytest.raises(RateLimitError), slots.hold("key:ana", 1):
            pass
    assert slots.busy("key:ana") == 0
