from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from index.errors import LoadError
from index.loaders import load_document
from tests.helpers import SAMPLES


@pytest.mark.parametrize(
    ("name", "title_part", "fact"),
    [
        ("leave-policy.md", "Leave Policy", "26 days"),
        ("expenses.md", "Expenses", "€0.36"),
        ("it-security.html", "Security", "14 characters"),
        ("onboarding.txt", "Onboarding", "6 months"),
        ("office-locations.pdf", "Office", "Avenida da Liberdade 245"),
        ("remote-work.docx", "Remote", "€600"),
        ("travel-policy.pdf", "Travel", "Meridian Travel"),
        ("code-of-conduct.docx", "Conduct", "€75"),
    ],
)
def test_every_format_loads_text_and_title(name: str, title_part: str, fact: str) -> None:
    document = load_document(SAMPLES / name)
    assert title_part.lower() in document.title.lower()
    assert fact in document.text


def test_pdf_pages_are_tracked() -> None:
    document = load_document(SAMPLES / "office-locations.pdf")
    assert len(document.page_starts) == 2
    assert document.page_at(document.text.index("Avenida da Liberdade 245")) == 1
    assert document.page_at(document.text.index("+353 1 555 0142")) == 2


def test_html_drops_style_and_keeps_markup_as_text() -> None:
    security = load_document(SAMPLES / "it-security.html")
    assert "{" not in security.text  # no CSS leaked
    notes = load_document(SAMPLES / "release-notes.html")
    assert '<script>alert("xss")</script>' in notes.text
    assert "<img src=x onerror=alert(1)>" in notes.text


def _encrypted_pdf(path: Path) -> Path:
    writer = PdfWriter(clone_from=PdfReader(SAMPLES / "travel-policy.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner")
    writer.write(path)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: _encrypted_pdf(d / "locked.pdf"), "encrypted"),
        (lambda d: _write(d / "empty.txt", b""), "no text"),
        (lambda d: _write(d / "blank.md", b"  \n\n "), "no text"),
        (lambda d: _write(d / "data.txt", b"\x00\x01\x02binary\x00"), "binary"),
        (lambda d: _write(d / "photo.png", b"\x89PNG\r\n"), "unsupported"),
        (lambda d: _write(d / "broken.pdf", b"%PDF-1.7 garbage"), "PDF"),
        (lambda d: _write(d / "broken.docx", b"not a zip"), "docx"),
        (lambda d: d / "missing.txt", "cannot be read"),
    ],
    ids=[
        "encrypted-pdf",
        "empty",
        "whitespace",
        "binary",
        "unsupported",
        "corrupt-pdf",
        "corrupt-docx",
        "missing",
    ],
)
def test_bad_files_raise_a_clear_reason(
    tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(LoadError) as caught:
        load_document(path)
    assert reason.lower() in caught.value.reason.lower()
    assert path.name in str(caught.value)


def test_docx_tables_are_read(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Cafeteria hours")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Monday"
    table.rows[0].cells[1].text = "08:00 to 15:00"
    document.save(str(tmp_path / "table.docx"))
    assert "Monday | 08:00 to 15:00" in load_document(tmp_path / "table.docx").text
