"""Reading speed of the formats added for the documents people have, on this machine.

    python bench/formats.py

Makes the files the tests make, larger (a 10-page scan, a 10-page PDF with a text layer, a page
with a 20-row ruled table, a 50-slide deck, a 5,000-row workbook and CSV), reads each with
`load_document` (best of three), and renders a cited page with its highlight as the chat shows
it (a text layer; a scan, first and again: its OCR is cached). Prints one table.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pptx  # noqa: E402

from index.loaders import load_document  # noqa: E402
from rag.web.page_images import cited_page_png  # noqa: E402
from tests.made_files import (  # noqa: E402
    SCANNED_PAGES,
    csv_file,
    scanned_pdf,
    slides,
    table_pdf,
    text_pdf,
    workbook,
)

ROWS = [["Project", "Budget (EUR)", "Owner", "Deadline"]] + [
    [f"Project {i}", 1000 + i, f"Owner {i % 97}", f"2027-{1 + i % 12:02d}-15"] for i in range(5000)
]
PARAGRAPH = (
    "Forklifts may only be driven by staff holding a valid licence. The loading dock closes at "
    "18:30 on weekdays and at 13:00 on Saturdays. Hard hats are required in zone C. "
) * 12


def _best(run: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="docent-formats-"))
    deck = slides(folder / "deck.pptx")
    presentation = pptx.Presentation(str(deck))
    for number in range(48):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = f"Topic {number}"
        slide.placeholders[1].text = PARAGRAPH[:400]
        slide.notes_slide.notes_text_frame.text = f"Speaker notes for topic {number}."
    presentation.save(str(deck))
    inputs: list[tuple[str, Path, int, str]] = [
        ("scanned PDF (OCR)", scanned_pdf(folder / "scan.pdf", SCANNED_PAGES * 5), 10, "page"),
        ("PDF with a text layer", text_pdf(folder / "typed.pdf", [PARAGRAPH] * 10), 10, "page"),
        ("PDF, a ruled table", table_pdf(folder / "table.pdf", ROWS[:21]), 1, "page"),
        (".pptx", deck, 50, "slide"),
        (".xlsx", workbook(folder / "rows.xlsx", ROWS), 5000, "row"),
        (".csv", csv_file(folder / "rows.csv", ROWS), 5000, "row"),
    ]
    print(f"{'input':<24}{'size':>12}{'seconds':>10}{'per unit':>16}")
    for label, path, units, unit in inputs:
        seconds = _best(lambda path=path: load_document(path))
        each = seconds / units
        per = f"{each * 1000:.1f} ms/{unit}" if each >= 1e-4 else f"{each * 1e6:.0f} µs/{unit}"
        size = f"{units} {unit}" + ("s" if units > 1 else "")
        print(f"{label:<24}{size:>12}{seconds:>10.2f}{per:>16}")
    sentence = "Hard hats are required in zone C."
    typed, scan = (folder / "typed.pdf").read_bytes(), (folder / "scan.pdf").read_bytes()
    rows = [  # the first view of a scanned page runs OCR; its words are cached for the next
        ("page image, text layer", lambda: cited_page_png(typed, "typed.pdf", 2, [sentence]), 3),
        ("page image, scan, first", lambda: cited_page_png(scan, "scan.pdf", 2, [sentence]), 1),
        ("page image, scan, again", lambda: cited_page_png(scan, "scan.pdf", 2, [sentence]), 3),
    ]
    for label, render, rounds in rows:
        seconds = _best(render, rounds)
        print(f"{label:<24}{'1 page':>12}{seconds:>10.2f}{seconds * 1000:>13.0f} ms")


if __name__ == "__main__":
    main()
