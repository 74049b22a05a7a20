"""OCR is bounded per document and per job, in pages and seconds, whatever the page count: a
scanned PDF or a multi-frame image that runs out keeps the pages read and says where it
stopped. Real scans made here, read by the real Tesseract; the budgets are small so that a
handful of pages is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from index.embeddings import Encoder
from index.errors import LoadError
from index.loaders import load_document
from index.ocr import OcrBudget, OcrLimits
from rag.runtime import build_runtime
from rag.settings import Settings
from tests.helpers import make_settings
from tests.made_files import scanned_image, scanned_pdf, text_pdf


def _records(count: int) -> list[list[str]]:
    return [[f"Inspection record {number}"] for number in range(1, count + 1)]


def test_a_scanned_pdf_stops_at_the_page_budget_and_says_where(tmp_path: Path) -> None:
    path = scanned_pdf(tmp_path / "audit.pdf", _records(10))
    pages: list[tuple[int, int]] = []
    document = load_document(
        path,
        lambda done, total: pages.append((done, total)),
        OcrBudget(OcrLimits(document_pages=3)),
    )
    assert len(document.page_starts) == 3
    assert "Inspection record 3" in document.text
    assert document.page_at(document.text.index("record 3")) == 3
    assert document.note == (
        "read 3 of 10 pages, stopped at page 4: the document's OCR budget (3 pages) is spent"
    )
    assert pages == [(1, 10), (2, 10), (3, 10)]


def test_a_document_read_whole_has_no_note(tmp_path: Path) -> None:
    document = load_document(scanned_pdf(tmp_path / "audit.pdf", _records(2)))
    assert len(document.page_starts) == 2 and document.note == ""


def test_the_frames_of_a_tiff_are_pages_of_the_budget(tmp_path: Path) -> None:
    path = scanned_image(tmp_path / "audit.tiff", _records(5))
    document = load_document(path, ocr_budget=OcrBudget(OcrLimits(document_pages=2)))
    assert len(document.page_starts) == 2 and "Inspection record 2" in document.text
    assert document.note == (
        "read 2 of 5 pages, stopped at page 3: the document's OCR budget (2 pages) is spent"
    )


def test_a_job_budget_shared_by_documents_runs_out_in_the_second(tmp_path: Path) -> None:
    """One budget for the job: a PDF of 3 scanned pages, then a TIFF of 3 frames, with 4
    pages for both; a third document has none left and is not read at all."""
    job = OcrBudget(OcrLimits(document_pages=10, job_pages=4))
    first = load_document(scanned_pdf(tmp_path / "first.pdf", _records(3)), ocr_budget=job)
    assert len(first.page_starts) == 3 and first.note == ""
    second = load_document(scanned_image(tmp_path / "second.tiff", _records(3)), ocr_budget=job)
    assert len(second.page_starts) == 1 and "Inspection record 1" in second.text
    assert second.note == (
        "read 1 of 3 pages, stopped at page 2: the job's OCR budget (4 pages) is spent"
    )
    assert job.pages_left == 0
    with pytest.raises(LoadError) as refused:
        load_document(scanned_pdf(tmp_path / "third.pdf", _records(2)), ocr_budget=job)
    assert refused.value.reason == (
        "read 0 of 2 pages, stopped at page 1: the job's OCR budget (4 pages) is spent"
    )


def test_pages_with_a_text_layer_cost_no_ocr(tmp_path: Path) -> None:
    """Typed page, scan, typed page, with no OCR allowed: the typed page before the scan is
    kept, and the reading stops at the scan."""
    writer = PdfWriter()
    for part in (
        text_pdf(tmp_path / "typed.pdf", ["The canteen serves lunch from 12:00 to 14:00."]),
        scanned_pdf(tmp_path / "scan.pdf", _records(1)),
        text_pdf(tmp_path / "more.pdf", ["The car park closes at midnight on weekdays."]),
    ):
        writer.append(PdfReader(part))
    writer.write(tmp_path / "mixed.pdf")
    document = load_document(
        tmp_path / "mixed.pdf", ocr_budget=OcrBudget(OcrLimits(document_pages=0))
    )
    assert document.text == "The canteen serves lunch from 12:00 to 14:00."
    assert document.note == (
        "read 1 of 3 pages, stopped at page 2: the document's OCR budget (0 pages) is spent"
    )


def test_tesseract_is_stopped_when_the_seconds_run_out(tmp_path: Path) -> None:
    """A thousandth of a second is less than Tesseract needs to start: it is stopped, and
    the time budget, not the page's own limit, is what the document reports."""
    path = scanned_image(tmp_path / "audit.tiff", _records(2))
    with pytest.raises(LoadError) as refused:
        load_document(path, ocr_budget=OcrBudget(OcrLimits(document_seconds=0.001)))
    assert refused.value.reason == (
        "read 0 of 2 pages, stopped at page 1: the document's OCR budget (0.001 s) is spent"
    )


def test_the_settings_default_to_the_limits_of_the_loaders() -> None:
    fields = Settings.model_fields
    assert OcrLimits() == OcrLimits(
        document_pages=fields["ocr_document_pages"].default,
        document_seconds=fields["ocr_document_seconds"].default,
        job_pages=fields["ocr_job_pages"].default,
        job_seconds=fields["ocr_job_seconds"].default,
    )


def test_an_ingest_job_reports_a_partly_read_document(tmp_path: Path, embeddings: Encoder) -> None:
    """The settings reach the write path: one job's budget over a folder of two scans, the
    second read in part and listed as such in the report (and its summary)."""
    folder = tmp_path / "scans"
    folder.mkdir()
    scanned_pdf(folder / "a.pdf", _records(2))
    scanned_pdf(folder / "b.pdf", _records(3))
    settings = make_settings(tmp_path / "data", ocr_job_pages=3)
    report = build_runtime(settings, embeddings=embeddings).ingestor.ingest([folder])
    assert sorted(report.added) == ["a.pdf", "b.pdf"] and not report.failed
    note = "read 1 of 3 pages, stopped at page 2: the job's OCR budget (3 pages) is spent"
    assert report.partial == [("b.pdf", note)]
    assert f"1 partly read (b.pdf: {note})" in report.summary()
