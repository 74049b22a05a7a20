"""The store as embedded Chroma (on local disk) and as a Chroma server (`chroma run`): the same
ingest, search, paging and delete behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embeddings import Encoder
from index.ingest import source_key
from index.types import Scope, document_id
from rag.runtime import Runtime, build_runtime
from tests.helpers import SAMPLES, chroma_server, make_settings


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.fixture(params=["embedded", "server"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path, embeddings: Encoder) -> Runtime:
    url = request.getfixturevalue("chroma_url") if request.param == "server" else None
    settings = make_settings(tmp_path / "data", chroma_url=url, collection=f"t{tmp_path.name[-8:]}")
    return build_runtime(settings, embeddings=embeddings)


def test_ingest_search_page_and_delete(runtime: Runtime) -> None:
    report = runtime.ingestor.ingest([SAMPLES])
    assert len(report.added) == 9 and runtime.store.count() == report.chunks_written == 60
    chunks = list(runtime.store.iter_chunks())
    assert len(chunks) == len({c.id for c in chunks}) == 60
    leave = document_id(source_key(SAMPLES / "leave-policy.md"))
    hits = runtime.assistant.retriever.retrieve(
        "How many vacation days do I get?", scope=Scope.of(documents=[leave])
    )
    assert hits and all(h.chunk.name == "leave-policy.md" for h in hits)
    in_leave = sum(1 for c in chunks if c.document_id == leave)
    assert in_leave and runtime.ingestor.remove_document(leave) == in_leave
    assert runtime.store.ids_of(leave) == set() and runtime.manifest.get(leave) is None
    assert runtime.store.count() == 60 - in_leave
    assert len(runtime.lexical) == runtime.store.count()
