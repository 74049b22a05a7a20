"""Which documents a question names: over the real manifest of an index, following its changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.named_documents import NamedDocuments
from rag.runtime import Runtime


def _names(runtime: Runtime, question: str) -> list[str]:
    """The display names of the documents `question` names, in the order it names them."""
    by_id = {d.id: d.name for d in runtime.manifest.documents()}
    return [by_id[i] for i in NamedDocuments(runtime.manifest).named(question)]


@pytest.mark.parametrize(
    ("question", "named"),
    [
        (
            "Which is stricter about approvals, the travel policy or the leave policy?",
            ["travel-policy.pdf", "leave-policy.md"],
        ),
        (
            "How do the remote work policy and the code of conduct differ?",
            ["remote-work.docx", "code-of-conduct.docx"],
        ),
        ("Compare the expenses policy with the IT security standard", None),
        ("What is the travel policy?", ["travel-policy.pdf"]),
        # Words shared by several titles name none of them.
        ("What do the Northwind Labs policies say about laptops?", []),
        # A single word names a document only in a comparison.
        ("What are the travel and leave rules?", []),
        ("How many travel and leave days do we get each year?", []),
        ("Compare the travel and leave rules", ["travel-policy.pdf", "leave-policy.md"]),
        ("How many vacation days does a full-time employee get each year?", []),
    ],
)
def test_documents_are_named_by_title_or_file_name(
    sample_runtime: Runtime, question: str, named: list[str] | None
) -> None:
    expected = named if named is not None else ["expenses.md", "it-security.html"]
    assert _names(sample_runtime, question) == expected


def _write(folder: Path, name: str, title: str) -> Path:
    path = folder / name
    path.write_text(f"# {title}\n\nThis page describes {title.lower()} at the office.\n")
    return path


def test_the_names_follow_the_manifest(fresh_runtime: Runtime, tmp_path: Path) -> None:
    names = NamedDocuments(fresh_runtime.manifest)
    question = "Compare the parking rules with the bicycle storage"
    assert names.named(question) == []
    fresh_runtime.ingestor.ingest([_write(tmp_path, "parking.md", "Parking Rules")])
    (parking,) = [d.id for d in fresh_runtime.manifest.documents()]
    assert names.named(question) == [parking]
    fresh_runtime.ingestor.ingest([_write(tmp_path, "bikes.md", "Bicycle Storage")])
    (bikes,) = [d.id for d in fresh_runtime.manifest.documents() if d.name == "bikes.md"]
    assert names.named(question) == [parking, bikes]
    fresh_runtime.ingestor.remove_document(parking)
    assert names.named(question) == [bikes]
    assert names.named("Where is the bicycle storage?") == [bikes]
    _write(tmp_path, "bikes.md", "Cycle Storage")  # a new title replaces the old one
    fresh_runtime.ingestor.ingest([tmp_path / "bikes.md"])
    assert names.named("Where is the bicycle storage?") == []
    assert names.named("Where is the cycle storage?") == [bikes]


def test_a_phrase_of_several_titles_names_them_all_only_when_asked_for_all(
    fresh_runtime: Runtime, tmp_path: Path
) -> None:
    fresh_runtime.ingestor.ingest(
        [
            _write(tmp_path, "notes-spring.md", "Spring Release Notes"),
            _write(tmp_path, "notes-autumn.md", "Autumn Release Notes"),
        ]
    )
    names = NamedDocuments(fresh_runtime.manifest)
    assert names.named("What do the release notes say about exports?") == []
    both = names.named("What do both release notes say about exports?")
    assert len(both) == 2
    spring, autumn = names.named("Compare the spring release notes and the autumn release notes")
    assert set(both) == {spring, autumn}
