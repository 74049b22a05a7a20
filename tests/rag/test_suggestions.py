"""Questions an empty chat offers: drawn from the samples' headings, each one Docent answers,
only from the collections asked for, and never recorded as a coverage gap."""

from __future__ import annotations

from pathlib import Path

from index.embeddings import Encoder
from rag.answer.suggestions import Suggestions, heading_question
from rag.runtime import build_runtime
from tests.helpers import SAMPLES, make_settings


def test_a_heading_becomes_a_question_about_its_document() -> None:
    title = "Northwind Labs Leave Policy"
    assert heading_question(title, "## 2. Carrying over unused leave") == (
        "What does the Northwind Labs Leave Policy say about carrying over unused leave?"
    )
    assert heading_question(title, "# Northwind Labs Leave Policy") is None  # the title
    assert heading_question(title, "## Questions") is None  # one word is no topic
    assert heading_question(title, "Why do we have a policy?") is None


def test_suggestions_are_answered_from_the_collections_asked(
    tmp_path: Path, embeddings: Encoder
) -> None:
    runtime = build_runtime(make_settings(tmp_path / "data"), embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "leave-policy.md"], collection="hr")
    runtime.ingestor.ingest([SAMPLES / "it-security.html"], collection="it")
    gaps = runtime.stores.unanswered
    suggestions = Suggestions(runtime.manifest, runtime.store, runtime.assistant)
    offered = suggestions.for_collections(["hr"])
    assert len(offered) == 3
    for question in offered:
        assert question.startswith("What does the Northwind Labs Leave Policy say about ")
        answer = runtime.assistant.answer(question)
        assert not answer.abstained and answer.citations[0].name == "leave-policy.md"
    assert suggestions.for_collections(["hr"]) is offered  # kept, not chosen again
    assert suggestions.for_collections(["nothing-here"]) == []
    assert gaps.recent(100) == [], "trying questions leaves no coverage gap"
