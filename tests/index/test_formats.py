"""The documents people really have: scans (OCR), slides, spreadsheets, CSV and tables, each
made by the test itself and read with the real parsers and the real Tesseract."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from index import loaders, ocr, pdf_tables
from index.errors import LoadError
from index.loaders import load_document
from rag.runtime import Runtime
from tests.made_files import (
    SCANNED_PAGES,
    csv_file,
    scanned_image,
    scanned_pdf,
    slides,
    table_pdf,
    text_pdf,
    workbook,
)


def test_a_scanned_pdf_is_read_by_ocr_page_by_page(tmp_path: Path) -> None:
    pages: list[tuple[int, int]] = []
    document = load_document(
        scanned_pdf(tmp_path / "scan.pdf"), lambda done, total: pages.append((done, total))
    )
    assert "licence number FL-2291" in document.text
    assert document.page_at(document.text.index("18:30")) == 1
    assert document.page_at(document.text.index("zone C")) == 2
    assert pages == [(1, 2), (2, 2)]


def test_a_pdf_with_a_text_layer_is_not_ocred(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Page 1 has a text layer, page 2 is a scan: only page 2 goes to Tesseract."""
    writer = PdfWriter()
    for part in (
        text_pdf(tmp_path / "typed.pdf", ["The canteen serves lunch from 12:00 to 14:00."]),
        scanned_pdf(tmp_path / "scan.pdf", SCANNED_PAGES[1:]),
    ):
        writer.append(PdfReader(part))
    writer.write(tmp_path / "mixed.pdf")
    read_by_ocr: list[str] = []
    recognise = ocr.recognise

    def counted(image: Image.Image, path: Path, seconds: float = ocr.OCR_PAGE_SECONDS) -> str:
        read_by_ocr.append(text := recognise(image, path, seconds))
        return text

    monkeypatch.setattr(ocr, "recognise", counted)
    document = load_document(tmp_path / "mixed.pdf")
    assert len(read_by_ocr) == 1 and "zone C" in read_by_ocr[0]
    assert document.page_at(document.text.index("12:00 to 14:00")) == 1
    assert document.page_at(document.text.index("zone C")) == 2


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tiff"])
def test_images_are_read_by_ocr(tmp_path: Path, suffix: str) -> None:
    document = load_document(scanned_image(tmp_path / f"notice{suffix}"))
    assert "FL-2291" in document.text
    assert document.title == "Warehouse Safety Notice"


def test_each_page_of_a_tiff_is_a_page(tmp_path: Path) -> None:
    pages: list[tuple[int, int]] = []
    path = scanned_image(tmp_path / "scan.tiff", SCANNED_PAGES)
    document = load_document(path, lambda done, total: pages.append((done, total)))
    assert document.page_at(document.text.index("zone C")) == 2
    assert pages == [(1, 2), (2, 2)]


def test_slides_are_locations_and_keep_speaker_notes(tmp_path: Path) -> None:
    document = load_document(slides(tmp_path / "review.pptx"))
    assert document.title == "Quarterly review"
    assert document.text.count("Quarterly review") == 1  # the title placeholder once
    assert document.page_at(document.text.index("Speaker notes: Mention that the Porto")) == 1
    assert document.page_at(document.text.index("Team: Research; People: 9.")) == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda d: workbook(d / "budgets.xlsx"),
        lambda d: csv_file(d / "budgets.csv"),
        lambda d: csv_file(d / "budgets.csv", delimiter=";"),
    ],
    ids=["xlsx", "csv", "csv-semicolon"],
)
def test_every_row_carries_its_header(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    text = load_document(make(tmp_path)).text
    assert "Project: Hermes; Budget (EUR): 45500; Owner: Joao Reis; Deadline: 2026-12-15.\n" in text
    assert "Project,Budget" not in text and "Project;Budget" not in text


def test_sheets_are_locations(tmp_path: Path) -> None:
    document = load_document(workbook(tmp_path / "budgets.xlsx"))
    assert document.text.startswith("Sheet: Budgets\n\nProject: Apollo; ")
    assert len(document.page_starts) == 2  # the empty "Notes" sheet is a location too
    assert document.page_at(document.text.index("Apollo")) == 1


def test_word_tables_are_rows_with_their_header_in_reading_order(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Cafeteria hours")
    table = document.add_table(rows=3, cols=2)
    for row, (day, hours) in zip(
        table.rows, [("Day", "Hours"), ("Monday", "08:00 to 15:00"), ("Friday", "")], strict=True
    ):
        row.cells[0].text, row.cells[1].text = day, hours
    document.add_paragraph("Closed on public holidays.")
    document.save(str(tmp_path / "hours.docx"))
    assert load_document(tmp_path / "hours.docx").text == (
        "Cafeteria hours\n\nDay: Monday; Hours: 08:00 to 15:00.\n\nDay: Friday.\n\n"
        "Closed on public holidays."
    )


def test_pdf_tables_are_rows_with_their_header_in_reading_order(tmp_path: Path) -> None:
    text = load_document(table_pdf(tmp_path / "budgets.pdf")).text
    assert text == (
        "Project budgets for 2027 are listed below.\n\n"
        "Project: Apollo; Budget (EUR): 120000; Owner: Ana Silva; Deadline: 2027-03-31.\n\n"
        "Project: Hermes; Budget (EUR): 45500; Owner: Joao Reis; Deadline: 2026-12-15.\n\n"
        "Project: Vega; Budget (EUR): 88000; Owner: Marta Costa; Deadline: 2027-06-30.\n\n"
        "Budgets above 100000 need board approval."
    )


def test_pages_without_rules_keep_the_fast_text_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_at: list[int] = []
    find = pdf_tables.text_with_tables
    monkeypatch.setattr(
        pdf_tables,
        "text_with_tables",
        lambda page: looked_at.append(page.page_number - 1) or find(page),
    )
    load_document(text_pdf(tmp_path / "plain.pdf", ["No table here.", "Nor here."]))
    assert looked_at == []
    load_document(table_pdf(tmp_path / "budgets.pdf"))
    assert looked_at == [0]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _huge_image(path: Path) -> Path:
    Image.new("1", (8000, 8000), 1).save(path)  # 64 million pixels in a few KB
    return path


def _tiff_with_a_huge_second_frame(path: Path) -> Path:
    small, huge = Image.new("1", (10, 10), 1), Image.new("1", (9000, 9000), 1)
    small.save(path, save_all=True, append_images=[huge], compression="group4")
    return path


def _bomb(path: Path) -> Path:
    """An Office file holding 60 MB of zeros in a few KB."""
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("docProps/padding.bin", b"\0" * 60_000_000)
    return path


def _padded_workbook(path: Path) -> Path:
    """A sheet that declares the whole grid (A1:XFD1048576) and holds a cell on its last row:
    read by the range it declares, it would take hours."""
    workbook(path, [["Item", "Count"], ["Pens", 3]])
    padded = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(padded, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = re.sub(
                    r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', data.decode()
                )
                last = (
                    '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>Ink</t></is></c></row>'
                )
                data = xml.replace("</sheetData>", f"{last}</sheetData>").encode()
            target.writestr(item, data)
    padded.replace(path)
    return path


def test_a_workbook_is_read_by_the_rows_it_holds(tmp_path: Path) -> None:
    text = load_document(_padded_workbook(tmp_path / "padded.xlsx")).text
    assert text == "Sheet: Budgets\n\nItem: Pens; Count: 3.\n\nItem: Ink."


def _zip_of(path: Path, member: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, "<not xml")
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: _write(d / "slides.pptx", b"not a zip"), "not a valid .pptx"),
        (lambda d: _zip_of(d / "slides.pptx", "ppt/presentation.xml"), "pptx"),
        (lambda d: _write(d / "book.xlsx", b"not a zip"), "not a valid .xlsx"),
        (lambda d: _write(d / "photo.png", b"\x89PNG\r\n"), "not a readable image"),
        (lambda d: _write(d / "photo.jpg", b"\xff\xd8\xff garbage"), "not a readable image"),
        (lambda d: _huge_image(d / "huge.png"), "more than 60 million pixels"),
        (lambda d: scanned_image(d / "blank.png", [[]]), "no text found"),
        (lambda d: _tiff_with_a_huge_second_frame(d / "two.tiff"), "more than 60 million"),
        (lambda d: _bomb(slides(d / "bomb.pptx")), "compressed more than"),
        (lambda d: _bomb(workbook(d / "bomb.xlsx")), "compressed more than"),
        (lambda d: _write(d / "rows.csv", b"\x00\x01binary\x00"), "binary"),
    ],
    ids=[
        "pptx",
        "pptx-parts",
        "xlsx",
        "png",
        "jpg",
        "pixels",
        "blank-scan",
        "tiff-frame-pixels",
        "pptx-bomb",
        "xlsx-bomb",
        "csv-binary",
    ],
)
def test_bad_files_of_the_new_formats_raise_a_clear_reason(
    tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(LoadError) as caught:
        load_document(path)
    assert reason.lower() in caught.value.reason.lower()
    assert "\n" not in caught.value.reason


def test_ocr_progress_is_reported_page_by_page(tmp_path: Path, fresh_runtime: Runtime) -> None:
    """What the CLI's bar and a job's `current` (the Library's progress) show of a scan."""
    folder = tmp_path / "scans"
    folder.mkdir()
    scanned_pdf(folder / "notice.pdf")
    shown: list[str] = []
    fresh_runtime.ingestor.ingest([folder], progress=lambda status: shown.append(status.describe()))
    assert "notice.pdf · reading page 1/2" in shown
    assert "notice.pdf · reading page 2/2" in shown


def test_a_mixed_folder_is_indexed_and_answers_cite_the_page(
    tmp_path: Path, fresh_runtime: Runtime
) -> None:
    """Scans, slides, a workbook and a broken file in one batch: one clear line for the broken
    one, the rest indexed; questions find a spreadsheet row and a scanned page."""
    folder = tmp_path / "drop"
    folder.mkdir()
    scanned_pdf(folder / "safety-notice.pdf")
    slides(folder / "review.pptx")
    workbook(folder / "budgets.xlsx")
    _write(folder / "broken.pptx", b"not a zip")
    report = fresh_runtime.ingestor.ingest([folder])
    assert sorted(report.added) == ["budgets.xlsx", "review.pptx", "safety-notice.pdf"]
    assert report.failed == [("broken.pptx", "not a valid .pptx file")]

    budget = fresh_runtime.assistant.answer("What is the budget of project Vega?")
    assert "88000" in budget.text
    assert [c.name for c in budget.citations] == ["budgets.xlsx"]

    scan = fresh_runtime.assistant.answer("What licence must forklift drivers hold?")
    cited = {(c.name, c.page) for c in scan.citations}
    assert ("safety-notice.pdf", 1) in cited and "FL-2291" in scan.text


def test_the_supported_formats() -> None:
    assert {".pptx", ".xlsx", ".csv", ".png", ".jpg", ".jpeg", ".tif", ".tiff"} <= set(
        loaders.SUPPORTED_SUFFIXES
    )
