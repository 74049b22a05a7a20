from __future__ import annotations

import pytest

from index.types import Scope
from rag.answer.retrieval import HybridRetriever, reciprocal_rank_fusion
from rag.runtime import Runtime
from tests.helpers import ANSWERABLE

COMPARISON = "Which is stricter about approvals, the travel policy or the leave policy?"


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


def _without_names(runtime: Runtime) -> HybridRetriever:
    """The same retriever over the same index, blind to the documents a question names."""
    r = runtime.assistant.retriever
    return HybridRetriever(r.store, r.lexical, r.embeddings, r.top_k, r.candidates, r.rrf_k)


def test_a_comparison_gets_a_passage_of_each_document_it_names(sample_runtime: Runtime) -> None:
    plain = _without_names(sample_runtime).retrieve(COMPARISON)
    assert {h.chunk.name for h in plain} == {"travel-policy.pdf"}, "one document crowds out"
    hits = sample_runtime.assistant.retriever.retrieve(COMPARISON)
    assert [h.chunk.name for h in hits] == ["travel-policy.pdf"] * 4 + ["leave-policy.md"]
    assert [h.chunk.id for h in hits[:4]] == [h.chunk.id for h in plain[:4]], "the best stay"
    assert [h.fused for h in hits] == sorted((h.fused for h in hits), reverse=True)
    assert all(-1.0 <= h.score <= 1.0 for h in hits)


def test_a_named_document_outside_the_scope_is_not_added(sample_runtime: Runtime) -> None:
    retrieve = sample_runtime.assistant.retriever.retrieve
    (travel,) = [d.id for d in sample_runtime.manifest.documents() if d.name == "travel-policy.pdf"]
    hits = retrieve(COMPARISON, scope=Scope.of(documents=[travel]))
    assert hits and {h.chunk.document_id for h in hits} == {travel}
    assert retrieve(COMPARISON, scope=Scope.of(documents=[])) == []


def test_each_named_document_keeps_its_only_passage(sample_runtime: Runtime) -> None:
    """With room for fewer passages than named documents, the first named ones fill it."""
    question = "Compare the travel policy, the leave policy and the expenses policy on approvals"
    hits = sample_runtime.assistant.retriever.retrieve(question, k=2)
    assert sorted(h.chunk.name for h in hits) == ["leave-policy.md", "travel-policy.pdf"]
    three = sample_runtime.assistant.retriever.retrieve(question, k=3)
    assert {h.chunk.name for h in three} == {"travel-policy.pdf", "leave-policy.md", "expenses.md"}


@pytest.mark.parametrize(
    "question",
    ["What is the travel policy on hotels?", "How many vacation days does an employee get?"],
)
def test_a_question_naming_at_most_one_document_is_ranked_as_before(
    sample_runtime: Runtime, question: str
) -> None:
    plain = _without_names(sample_runtime).retrieve(question)
    assert sample_runtime.assistant.retriever.retrieve(question) == plain
