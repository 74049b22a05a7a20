"""The UI's handlers over a real runtime (the browser test covers the page itself)."""

from __future__ import annotations

from pathlib import Path

from rag.runtime import Runtime
from rag.ui import ChatUI, safe_filename, sources_html


def test_upload_indexes_files_and_reports_failures(fresh_runtime: Runtime, tmp_path: Path) -> None:
    upload = tmp_path / "Team notes (final).md"
    upload.write_text("# Team notes\n\nThe quarterly offsite is in Porto on 12 June.\n")
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    (tmp_path / "empty.txt").write_text("")
    status = ChatUI(fresh_runtime).upload(
        [str(upload), str(tmp_path / "tool.exe"), str(tmp_path / "empty.txt")]
    )
    assert "1 added" in status and "1 failed" in status
    assert "tool.exe: unsupported file type" in status and "empty.txt: no text" in status
    stored = fresh_runtime.settings.uploads_dir / "Team_notes_final_.md"
    assert stored.exists()
    answer = fresh_runtime.assistant.answer("Where is the quarterly offsite?")
    assert "Porto" in answer.text and answer.citations[0].source == str(stored.resolve())


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("Q3 report <draft>.pdf") == "Q3_report_draft_.pdf"
    assert safe_filename("...") == "upload"


def test_source_cards_escape_document_text(sample_runtime: Runtime) -> None:
    answer = sample_runtime.assistant.answer(
        "Which example strings are used in the Docent security regression tests?"
    )
    cards = sources_html(answer)
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in cards
    assert "<script>" not in cards and "<img" not in cards
