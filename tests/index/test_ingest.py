from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from index.embeddings import Encoder
from index.errors import IndexMismatchError
from index.ingest import source_key
from index.loaders import load_document
from index.types import document_id
from rag.runtime import Runtime, build_runtime
from tests.helpers import SAMPLES, make_settings
from tests.made_files import text_pdf


def test_chunks_carry_exact_offsets_pages_and_metadata(fresh_runtime: Runtime) -> None:
    pdf = SAMPLES / "office-locations.pdf"
    fresh_runtime.ingestor.ingest([pdf])
    text = load_document(pdf).text
    chunks = list(fresh_runtime.store.iter_chunks())
    assert chunks
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.source == source_key(pdf)
        assert chunk.title and chunk.ingested_at
        assert chunk.page in (1, 2)
        assert len(chunk.text) <= fresh_runtime.settings.chunk_size
    assert {c.page for c in chunks} == {1, 2}


def test_a_passage_across_pages_knows_the_page_of_each_sentence(
    fresh_runtime: Runtime, tmp_path: Path
) -> None:
    pdf = text_pdf(
        tmp_path / "depot.pdf",
        ["The depot gate opens at 07:00.", "Forklift batteries are charged in bay 9."],
    )
    fresh_runtime.ingestor.ingest([pdf])
    (chunk,) = fresh_runtime.store.iter_chunks()  # read back from Chroma
    second = chunk.text.index("Forklift")
    assert chunk.page == 1 and chunk.page_breaks == (second,)
    assert chunk.page_at(0) == 1 and chunk.page_at(second) == 2
    answer = fresh_runtime.assistant.answer("Where are forklift batteries charged?")
    (citation,) = answer.citations
    assert citation.page == 2 and citation.location == "page 2"


def test_ingest_summary_and_bad_files_do_not_stop_the_batch(
    fresh_runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(SAMPLES / "onboarding.txt", folder)
    (folder / "empty.md").write_text("")
    (folder / "binary.txt").write_bytes(b"\x00\x00\xff")
    (folder / "fake.pdf").write_bytes(b"no pdf here")
    report = fresh_runtime.ingestor.ingest([folder, tmp_path / "nope.docx"])
    assert report.added == ["onboarding.txt"], "reports name documents, never server paths"
    reasons = dict(report.failed)
    assert set(reasons) == {"empty.md", "binary.txt", "fake.pdf", "nope.docx"}
    assert "binary" in reasons["binary.txt"]
    assert "1 added" in report.summary() and "4 failed" in report.summary()
    assert report.chunks_written == fresh_runtime.store.count() > 0


def test_reingest_unchanged_changed_and_deleted(
    fresh_runtime: Runtime, copy_samples: Callable[..., Path]
) -> None:
    folder = copy_samples("leave-policy.md", "onboarding.txt")
    ingestor, store = fresh_runtime.ingestor, fresh_runtime.store
    first = ingestor.ingest([folder])
    assert len(first.added) == 2
    count = store.count()
    leave = folder / "leave-policy.md"
    before = store.ids_of(document_id(source_key(leave)))

    again = ingestor.ingest([folder])
    assert len(again.unchanged) == 2 and again.chunks_written == 0 and not again.changed
    assert store.count() == count

    original = leave.read_text()
    leave.write_text(
        original.replace("26 days of paid annual leave", "28 days of paid annual leave")
    )
    changed = ingestor.ingest([folder])
    assert changed.replaced == ["leave-policy.md"]
    after = store.ids_of(document_id(source_key(leave)))
    assert 1 <= changed.chunks_written < len(after)  # only passages with new text re-embedded
    assert before - after and before & after
    assert store.count() == count
    texts = " ".join(c.text for c in list(store.iter_chunks()))
    assert {c.name for c in list(store.iter_chunks())} == {"leave-policy.md", "onboarding.txt"}
    assert "28 days of paid" in texts and "26 days of paid" not in texts

    (folder / "onboarding.txt").unlink()
    kept = ingestor.ingest([folder])
    assert store.ids_of(
        document_id(source_key(folder / "onboarding.txt"))
    )  # without --prune nothing is lost
    assert not kept.removed
    pruned = ingestor.ingest([folder], prune=True)
    assert pruned.removed == ["onboarding.txt"]
    assert [d.name for d in fresh_runtime.manifest.documents()] == ["leave-policy.md"]
    assert len(fresh_runtime.lexical) == store.count()


def test_lexical_index_follows_ingestion(
    fresh_runtime: Runtime, copy_samples: Callable[..., Path]
) -> None:
    folder = copy_samples("expenses.md")
    fresh_runtime.ingestor.ingest([folder])
    hits = fresh_runtime.lexical.search("Ledgerly mileage kilometre", 5)
    assert hits and len(fresh_runtime.lexical) == fresh_runtime.store.count()
    fresh_runtime.ingestor.remove_document(document_id(source_key(folder / "expenses.md")))
    assert fresh_runtime.lexical.search("Ledgerly mileage kilometre", 5) == []


def test_opening_with_other_model_or_chunker_is_refused(
    tmp_path: Path, embeddings: Encoder, copy_samples: Callable[..., Path]
) -> None:
    data = tmp_path / "data"
    runtime = build_runtime(make_settings(data), embeddings=embeddings)
    runtime.ingestor.ingest([copy_samples("onboarding.txt")])
    model_dir = tmp_path / "other-model"  # the recorded model name is what must match
    model_dir.mkdir()
    with pytest.raises(IndexMismatchError, match="ingest --rebuild"):
        build_runtime(make_settings(data, embedding_model=str(model_dir)), embeddings=embeddings)
    with pytest.raises(IndexMismatchError, match="chunker"):
        build_runtime(make_settings(data, chunk_size=400), embeddings=embeddings)


def test_documents_are_named_relative_to_the_folder_they_came_from(
    fresh_runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "share"
    (folder / "hr" / "2026").mkdir(parents=True)
    shutil.copy(SAMPLES / "leave-policy.md", folder / "hr" / "2026" / "leave.md")
    shutil.copy(SAMPLES / "expenses.md", tmp_path / "expenses.md")
    fresh_runtime.ingestor.ingest([folder, tmp_path / "expenses.md"])
    names = {d.name: d for d in fresh_runtime.manifest.documents()}
    assert set(names) == {"hr/2026/leave.md", "expenses.md"}
    assert names["expenses.md"].id == document_id(source_key(tmp_path / "expenses.md"))
    chunk = next(fresh_runtime.store.iter_chunks())
    assert "source" not in chunk.model_dump() and str(tmp_path) not in chunk.model_dump_json()
