"""What the review's crafted files cost to ingest, before (bffd1ab) and now, on this machine.

    python bench/costly_ingest.py [--old-cap 60] [--only csv|ocr]

Each row runs in a fresh process: its time is the reading of the file alone (`load_document`,
or for the old CSV code the `csv.Sniffer` call it made), and its peak memory the larger of that
process's and of any Tesseract it started (RSS). Old CSV runs are stopped after --old-cap
seconds. The old OCR code is not run on 2,000 pages (it would read them all): its time is the
new run's seconds a page times the pages, beside the budget it allowed (120 s + 30 s a page
for a PDF, none for a TIFF). Prints one Markdown table.

Rows: crafted CSV files (a row starting with a run of quotes, which `csv.Sniffer`'s regular
expressions backtrack over) and an ordinary 5,000-row CSV; a 2,000-page PDF of blank scans
and a 2,000-frame blank TIFF (M3), read under the default OCR budget (`index.ocr.OcrLimits`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OLD_PDF_ALLOWANCE = (120, 30)  # bffd1ab: MAX_PDF_SECONDS + OCR_ALLOWANCE a scanned page
PAGES = 2000


def crafted_csv(run: int) -> str:
    """A pipe table whose second row starts with `run` quotes (the review's L6)."""
    return 'Project|Note\nApollo|,"a",\n' + '"' * run + "a|x\n"


def ordinary_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Project", "Budget (EUR)", "Owner", "Deadline"])
    for i in range(5000):
        writer.writerow([f"Project {i}", 1000 + i, f"Owner {i % 97}", f"2027-{1 + i % 12:02d}-15"])
    return buffer.getvalue()


def blank_pdf(path: Path) -> Path:
    """PAGES pages, each with a tiny picture and no text: every one goes to OCR."""
    from fpdf import FPDF
    from PIL import Image

    picture = io.BytesIO()
    Image.new("L", (8, 8), 250).save(picture, "PNG")
    pdf = FPDF()
    for _ in range(PAGES):
        pdf.add_page()
        pdf.image(picture, x=100, y=140, w=2)
    pdf.output(str(path))
    return path


def blank_tiff(path: Path) -> Path:
    """PAGES blank 200-dpi letter frames, Group 4 compressed."""
    from PIL import Image

    frame = Image.new("1", (1700, 2200), 1)
    frame.save(path, save_all=True, append_images=[frame] * (PAGES - 1), compression="group4")
    return path


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tesseract = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, tesseract) / 1024


def _measure(kind: str, path: Path) -> dict[str, object]:
    """Run in the child: read `path` the `kind` way; seconds, peak MB and what came of it."""
    from index.errors import LoadError
    from index.loaders import load_document
    from index.tables import ROW_SEPARATOR, rows_with_header

    text = path.read_text() if path.suffix == ".csv" else ""
    started = time.perf_counter()
    outcome = ""
    if kind == "old":  # bffd1ab's load_csv
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:20_000], ",;\t|")
            outcome = f"delimiter {dialect.delimiter!r}"
        except csv.Error:
            dialect, outcome = csv.excel, "no dialect: read as commas"
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
        ROW_SEPARATOR.join(rows_with_header(rows))
    else:
        try:
            document = load_document(path)
            pages = len(document.page_starts)
            outcome = document.note or (f"{pages:,} pages" if pages else "read whole")
            if path.suffix == ".csv":
                from index.loaders.csv import csv_delimiter

                outcome = f"delimiter {csv_delimiter(text)!r}, read whole"
        except LoadError as exc:
            outcome = f"refused: {exc.reason}"
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": _peak_mb(), "outcome": outcome}


class Result(NamedTuple):
    seconds: float | None  # None: stopped at the cap
    peak_mb: float
    outcome: str

    def time(self) -> str:
        return "stopped" if self.seconds is None else f"{self.seconds:,.3f}"


def _run(kind: str, path: Path, cap: float | None = None) -> Result:
    command = [sys.executable, __file__, "--child", kind, str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=cap, check=True)
    except subprocess.TimeoutExpired:
        return Result(None, float("nan"), f"> {cap:.0f} s: stopped")
    return Result(**json.loads(done.stdout.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old-cap", type=float, default=60.0, help="old CSV runs stop here (s)")
    parser.add_argument("--only", choices=["csv", "ocr"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        kind, path = arguments.child
        print(json.dumps(_measure(kind, Path(path))))
        return

    from index.ocr import OcrLimits

    limits = OcrLimits()
    folder = Path(tempfile.mkdtemp(prefix="docent-costly-"))
    rows = []
    if arguments.only in (None, "csv"):
        cases = [
            (f"crafted CSV, a {run:,}-quote run", crafted_csv(run)) for run in (200, 400, 10_000)
        ]
        cases += [("ordinary CSV, 5,000 rows", ordinary_csv())]
        for number, (name, text) in enumerate(cases):
            path = folder / f"table-{number}.csv"
            path.write_text(text)
            old = _run("old", path, arguments.old_cap)
            new = _run("new", path)
            rows.append(
                (
                    name,
                    f"{path.stat().st_size:,} B",
                    old.outcome if old.seconds is None else f"{old.time()} ({old.outcome})",
                    new.time(),
                    f"{new.peak_mb:.0f}",
                    new.outcome,
                )
            )
    if arguments.only in (None, "ocr"):
        for name, path in (
            (f"crafted PDF, {PAGES:,} blank scanned pages", blank_pdf(folder / "blank.pdf")),
            (f"crafted TIFF, {PAGES:,} blank frames", blank_tiff(folder / "blank.tiff")),
        ):
            new = _run("new", path)
            read = min(limits.document_pages, PAGES)
            per_page = (new.seconds or 0.0) / max(read, 1)
            allowed = (
                f"allowed {OLD_PDF_ALLOWANCE[0] + OLD_PDF_ALLOWANCE[1] * PAGES:,} s"
                if path.suffix == ".pdf"
                else "no limit"
            )
            rows.append(
                (
                    name,
                    f"{path.stat().st_size // 1024:,} KB",
                    f"~{per_page * PAGES:,.0f} est. (all {PAGES:,} pages; {allowed})",
                    new.time(),
                    f"{new.peak_mb:.0f}",
                    new.outcome,
                )
            )
    print(
        f"OCR budget: {limits.document_pages:,} pages / {limits.document_seconds:,g} s a "
        f"document, {limits.job_pages:,} pages / {limits.job_seconds:,g} s a job\n"
    )
    print("| input | size | old (bffd1ab): time s | now: time s | now: peak MB | now: outcome |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
