"""`GET /api/v1/citations/{chunk_id}/page.png`: the page a cited passage stands on, as a picture
with the cited sentences highlighted (PDFs and scans; `rag/web/page_images.py`).

Anyone who may ask may see pages, of the collections they may read only: a passage of another
collection is "not found", exactly like one that does not exist. `spans` names the cited
sentences as character spans of the passage (at most 10); the document's bytes come from the
database (uploads) or the file it was indexed from, and no path is ever named.

A caller may have at most `page_renders_per_caller` pages being drawn at once (per process,
like the PDFium lock they share): one more is answered 429 at once rather than queued.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam

from index.loaders import MAX_FILE_BYTES
from rag.answer.untrusted import neutral_chunk
from rag.errors import InputError, NotFoundError
from rag.runtime import Runtime
from rag.web.auth import Caller
from rag.web.errors import RateLimitError
from rag.web.page_images import MAX_SENTENCES, PAGED_SUFFIXES, PageLimits, PageRenderer

__all__ = ["RenderSlots", "page_url", "pages_router", "render_slots"]

log = logging.getLogger(__name__)

_SPANS = r"^(\d{1,7}-\d{1,7}(,\d{1,7}-\d{1,7}){0,9})?$"


class RenderSlots:
    """How many page views each caller has being drawn; `hold` refuses one past the limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: dict[str, int] = {}  # callers with a page being drawn, and how many

    @contextmanager
    def hold(self, caller: str, limit: int) -> Iterator[None]:
        """A slot for one page view of `caller` while the block runs; `RateLimitError` when
        `caller` already has `limit` of them."""
        with self._lock:
            busy = self._busy.get(caller, 0)
            if busy >= limit:
                raise RateLimitError(
                    f"you have {limit} page views being drawn, the most at once: "
                    "ask for this one when they are shown",
                    retry_after=1,
                )
            self._busy[caller] = busy + 1
        try:
            yield
        finally:
            with self._lock:
                if (left := self._busy[caller] - 1) > 0:
                    self._busy[caller] = left
                else:
                    del self._busy[caller]

    def busy(self, caller: str) -> int:
        """Page views of `caller` being drawn now."""
        with self._lock:
            return self._busy.get(caller, 0)


render_slots = RenderSlots()  # one per process, as there is one PDFium lock


def page_url(chunk_id: str, spans: list[tuple[int, int]]) -> str:
    """Where the UI finds the page of a cited passage."""
    marked = ",".join(f"{start}-{end}" for start, end in spans[:MAX_SENTENCES])
    return f"/api/v1/citations/{chunk_id}/page.png?spans={marked}"


def _indexed_bytes(runtime: Runtime, source: str, name: str) -> tuple[bytes, str]:
    """The document as it was indexed: its uploaded bytes, or its file while unchanged; and
    their SHA-256."""
    stored = runtime.manifest.stored_file(source)
    if stored is not None:
        return stored.content, hashlib.sha256(stored.content).hexdigest()
    path = Path(source)
    if not source.startswith("/") or not path.is_file():
        raise NotFoundError(f"the file of {name} is no longer available")
    with path.open("rb") as file:  # a bounded read: the file may grow while it is read
        content = file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise NotFoundError(f"the file of {name} has grown too large to show")
    digest = hashlib.sha256(content).hexdigest()
    if digest != runtime.manifest.indexed_hash(source):
        raise NotFoundError(f"the file of {name} changed since it was indexed: re-index it")
    return content, digest


def pages_router(runtime: Runtime) -> APIRouter:
    settings = runtime.settings
    renderer = PageRenderer(
        PageLimits(
            max_words=settings.page_max_words,
            max_pixels=settings.page_max_pixels,
            cache_bytes=settings.page_cache_mb * 2**20,
        )
    )
    router = APIRouter(prefix="/api/v1", tags=["documents"])

    @router.get(
        "/citations/{chunk_id}/page.png",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    def cited_page(
        principal: Caller,
        chunk_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")],
        spans: Annotated[str, Query(max_length=200, pattern=_SPANS)] = "",
    ) -> Response:
        """The page of a cited passage as a PNG, its cited sentences highlighted."""
        found = runtime.store.get_with_vectors([chunk_id])
        # The spans are offsets into the passage as answers show it (neutralised).
        chunk = neutral_chunk(found[0][0]) if found else None
        if chunk is None or not principal.may_read(chunk.collection):
            raise NotFoundError(f"no passage with id {chunk_id}")
        record = runtime.manifest.get(chunk.document_id)
        suffix = Path(chunk.name).suffix.lower()
        if record is None or chunk.page is None or suffix not in PAGED_SUFFIXES:
            raise NotFoundError(f"{chunk.name} has no page to show")
        marked = [
            (int(a), int(b)) for a, b in (span.split("-") for span in spans.split(",") if span)
        ]
        sentences = [chunk.text[a:b] for a, b in marked]
        page = chunk.page_at(marked[0][0]) if marked else chunk.page  # the cited sentence's
        with render_slots.hold(principal.caller, settings.page_renders_per_caller):
            content, digest = _indexed_bytes(runtime, record.source, chunk.name)
            try:
                png = renderer.png(content, chunk.name, page or chunk.page, sentences, digest)
            except InputError:
                raise
            except Exception as exc:  # a file PDFium, Pillow or Tesseract cannot show
                log.warning("page %s of %s not shown: %r", page, chunk.name, exc)
                raise NotFoundError(f"the page of {chunk.name} cannot be shown") from exc
        headers = {"Cache-Control": "private, max-age=600"}
        return Response(png, media_type="image/png", headers=headers)

    return router
