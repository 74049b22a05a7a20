from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from index.errors import LoadError
from index.loaders import MAX_COMPRESSION, MAX_PAGES, MAX_TITLE_CHARS, load_document
from index.loaders import pdf as pdf_reader
from rag.runtime import Runtime
from tests.helpers import SAMPLES, flate_bomb_pdf


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
        (lambda d: _write(d / "photo.bmp", b"BM\x00\x00"), "unsupported"),
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


def test_a_word_file_that_unpacks_to_too_much_is_refused(
    tmp_path: Path, fresh_runtime: Runtime
) -> None:
    """A 60 KB .docx holding 60 MB of zeros: one clear line, and the batch goes on."""
    folder = tmp_path / "batch"
    folder.mkdir()
    bomb = folder / "bomb.docx"
    shutil.copy(SAMPLES / "remote-work.docx", bomb)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/image1.png", b"\0" * 60_000_000)
    assert bomb.stat().st_size < 200_000
    shutil.copy(SAMPLES / "onboarding.txt", folder)
    report = fresh_runtime.ingestor.ingest([folder])
    assert report.added == ["onboarding.txt"]
    assert report.failed == [
        ("bomb.docx", f"a part is compressed more than {MAX_COMPRESSION} times")
    ]


def test_a_pdf_with_too_many_pages_is_refused(tmp_path: Path) -> None:
    writer = PdfWriter()
    for _ in range(MAX_PAGES + 1):
        writer.add_blank_page(width=72, height=72)
    path = tmp_path / "many.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(LoadError, match=f"more than {MAX_PAGES:,} pages"):
        load_document(path)


def test_a_pdf_decompression_bomb_is_refused(tmp_path: Path) -> None:
    """200 KB that would inflate to 200 MB: refused in one line by pypdf's stream limit."""
    path = tmp_path / "bomb.pdf"
    path.write_bytes(flate_bomb_pdf())
    with pytest.raises(LoadError, match="not a readable PDF \\(Limit reached"):
        load_document(path)


def test_reading_a_pdf_is_bounded_in_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages can share one costly stream; the reader stops at MAX_PDF_SECONDS (here 0)."""
    monkeypatch.setattr(pdf_reader, "MAX_PDF_SECONDS", 0)
    with pytest.raises(LoadError, match="reading its text took over 0 s"):
        load_document(SAMPLES / "travel-policy.pdf")


def test_titles_are_bounded(tmp_path: Path) -> None:
    """A title is copied into every chunk and embedded with it: a 1 MB heading is cut."""
    path = tmp_path / "long.md"
    path.write_text("# " + "word " * 200_000 + "\n\nThe body says something useful.\n")
    document = load_document(path)
    assert len(document.title) <= MAX_TITLE_CHARS and document.title.endswith("…")
    html = tmp_path / "long.html"
    html.write_text(f"<html><head><title>{'t' * 5000}</title></head><body>Body.</body></html>")
    assert len(load_document(html).title) <= MAX_TITLE_CHARS
