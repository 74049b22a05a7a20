from __future__ import annotations

import pytest

from index.types import Scope
from rag.retrieval import reciprocal_rank_fusion
from rag.runtime import Runtime
from tests.helpers import ANSWERABLE


@pytest.mark.parametrize(
    ("question", "source", "fact"), ANSWERABLE, ids=[row[0][:40] for row in ANSWERABLE]
)
def test_right_document_ranks_first(
    sample_runtime: Runtime, question: str, source: str, fact: str
) -> None:
    hits = sample_runtime.assistant.retriever.retrieve(question)
    assert hits[0].chunk.name == source
    assert any(fact in hit.chunk.text for hit in hits), "the passage with the fact is retrieved"


def test_hits_are_fused_and_scored(sample_runtime: Runtime) -> None:
    hits = sample_runtime.assistant.retriever.retrieve("Meridian Travel booking agency", k=8)
    assert len(hits) == 8
    fused = [h.fused for h in hits]
    assert fused == sorted(fused, reverse=True)
    assert all(-1.0 <= h.score <= 1.0 for h in hits)
    assert any(h.dense_rank and h.lexical_rank for h in hits)


def test_scope_limits_documents_and_collections(sample_runtime: Runtime) -> None:
    (expenses,) = [d.id for d in sample_runtime.manifest.documents() if d.name == "expenses.md"]
    retrieve = sample_runtime.assistant.retriever.retrieve
    hits = retrieve("Meridian Travel booking agency", scope=Scope.of(documents=[expenses]))
    assert hits and {h.chunk.document_id for h in hits} == {expenses}
    assert retrieve("Meridian Travel booking agency", scope=Scope.of(documents=[])) == []
    assert retrieve("Meridian Travel", scope=Scope.of(collections=["nothing"])) == []


def test_reciprocal_rank_fusion() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert max(fused, key=fused.__getitem__) == "a"
