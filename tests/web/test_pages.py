"""GET /api/v1/citations/{chunk}/page.png over a live server: the cited page with its sentences
highlighted, for those who may read its collection only, from uploads and from files on disk,
with bounded input and no server path in any reply."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from index.embeddings import Encoder
from rag.runtime import Runtime, build_runtime
from rag.web.app import create_app
from rag.web.pages import page_url
from tests.helpers import SAMPLES, create_key, make_settings, portal_token, serving
from tests.made_files import scanned_pdf

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
