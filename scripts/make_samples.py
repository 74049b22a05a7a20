"""Build the binary sample documents from their Markdown sources.

Converts ``scripts/sample_sources/*.md`` into ``samples/*.pdf`` (fpdf2, core Helvetica
font, so sources for PDFs must be latin-1) and ``samples/*.docx``
(python-docx). The source dialect is deliberately tiny: ``#`` headings,
``- `` bullets, blank-line separated paragraphs, ``**bold**`` and a
``<!-- pagebreak -->`` line that forces a new PDF page.

Usage: ``python scripts/make_samples.py [SAMPLES_DIR]``
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from fpdf import FPDF

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"
# Source stem -> output format.
TARGETS: dict[str, str] = {
    "office-locations": "pdf",
    "travel-policy": "pdf",
    "remote-work": "docx",
    "code-of-conduct": "docx",
}
PAGEBREAK = "<!-- pagebreak -->"
FIXED_DATE = datetime(2025, 3, 1, tzinfo=UTC)  # keeps metadata reproducible
AUTHOR = "Northwind Labs"
LATIN1_MAX = 0xFF
BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass(frozen=True)
class Block:
    """One parsed source element: kind is 'h', 'p', 'li' or 'break'."""

    kind: str
    text: str = ""
    level: int = 0


def parse(source: str) -> list[Block]:
    """Parse the tiny Markdown dialect into blocks."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("p", " ".join(para)))
            para.clear()

    for raw in source.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line == PAGEBREAK:
            flush()
            blocks.append(Block("break"))
        elif m := re.match(r"(#{1,6})\s+(.*)", line):
            flush()
            blocks.append(Block("h", m.group(2), len(m.group(1))))
        elif line.startswith("- "):
            flush()
            blocks.append(Block("li", line[2:]))
        else:
            para.append(line)
    flush()
    return blocks


def title_of(blocks: list[Block]) -> str:
    """Return the first level-1 heading, which is the document title."""
    return next(b.text for b in blocks if b.kind == "h" and b.level == 1)


def plain(text: str) -> str:
    """Strip bold markers."""
    return BOLD.sub(r"\1", text)


def write_pdf(blocks: list[Block], out: Path) -> int:
    """Render blocks to a PDF and return its page count."""
    pdf = FPDF(format="A4")
    pdf.set_title(title_of(blocks))
    pdf.set_author(AUTHOR)
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    sizes = {1: 18, 2: 14, 3: 12}
    for block in blocks:
        text = plain(block.text)
        if any(ord(c) > LATIN1_MAX for c in text):
            raise ValueError(f"{out.name}: not latin-1 (core PDF font): {text!r}")
        if block.kind == "break":
            pdf.add_page()
        elif block.kind == "h":
            pdf.set_font("Helvetica", "B", sizes.get(block.level, 11))
            pdf.ln(3)
            pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif block.kind == "li":
            pdf.set_font("Helvetica", size=10.5)
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(0, 5.5, f"- {text}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        else:
            pdf.set_font("Helvetica", size=10.5)
            pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
    pdf.output(str(out))
    return pdf.pages_count


def write_docx(blocks: list[Block], out: Path) -> int:
    """Render blocks to a DOCX and return its paragraph count."""
    doc = Document()
    props = doc.core_properties
    props.title = title_of(blocks)
    props.author = AUTHOR
    props.created = props.modified = FIXED_DATE.replace(tzinfo=None)
    for block in blocks:
        if block.kind == "break":  # page breaks only matter in PDFs
            continue
        if block.kind == "h":
            doc.add_heading(plain(block.text), level=min(block.level, 9))
            continue
        para = doc.add_paragraph(style="List Bullet" if block.kind == "li" else None)
        # re.split with one group alternates plain / bold segments.
        for i, part in enumerate(BOLD.split(block.text)):
            if part:
                para.add_run(part).bold = i % 2 == 1
    buf = io.BytesIO()
    doc.save(buf)
    # Re-zip with a fixed timestamp so reruns are byte-identical.
    with (
        zipfile.ZipFile(buf) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_DATE.timetuple()[:6])
            dst.writestr(fixed, src.read(info), zipfile.ZIP_DEFLATED)
    return len(doc.paragraphs)


def main(argv: list[str]) -> int:
    """Build every target and print a one-line summary for each."""
    samples = Path(argv[0]) if argv else SAMPLES_DIR
    for stem, fmt in TARGETS.items():
        blocks = parse(
            (Path(__file__).parent / "sample_sources" / f"{stem}.md").read_text(encoding="utf-8")
        )
        out = samples / f"{stem}.{fmt}"
        if fmt == "pdf":
            print(f"{out}: {write_pdf(blocks, out)} pages")
        else:
            print(f"{out}: {write_docx(blocks, out)} paragraphs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
