"""CSV (.csv), read by the standard library's csv module: each row with its header, in double
quotes as every spreadsheet writes CSV, split at the delimiter `csv_delimiter` tells from the
start of the file (the encoding guessed as for text, `common.read_text_file`)."""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from pathlib import Path

from index.document import LoadedDocument, PageProgress, make_title
from index.errors import LoadError
from index.loaders.common import read_text_file, table_lines
from index.ocr import DocumentOcr

__all__ = ["csv_delimiter", "read"]

CSV_DELIMITERS = ",;\t|"
CSV_SAMPLE_CHARS = 64 * 1024  # the start of a CSV file its delimiter is told from ...
CSV_SAMPLE_ROWS = 200  # ... at most this many rows of it


def csv_delimiter(text: str) -> str:
    """The delimiter of CSV `text`, of CSV_DELIMITERS: the one that splits the first rows of
    its first CSV_SAMPLE_CHARS (whole lines) into the same number of fields most often (ties:
    into more fields); a comma when none splits them. Linear in the sample, unlike
    `csv.Sniffer`, whose regular expressions take seconds on a few hundred crafted bytes."""
    sample = text[:CSV_SAMPLE_CHARS]
    if len(text) > CSV_SAMPLE_CHARS:
        sample = sample[: sample.rfind("\n") + 1] or sample  # the last line is cut: left out
    best, best_score = ",", (0.0, 1)
    for delimiter in CSV_DELIMITERS:
        rows = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
        try:
            widths = [len(row) for row in itertools.islice(rows, CSV_SAMPLE_ROWS) if row]
        except csv.Error:  # a field too large for the csv module: not this delimiter
            continue
        if not widths:
            continue
        width, rows_of_width = Counter(widths).most_common(1)[0]
        score = (rows_of_width / len(widths), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def read(path: Path, on_page: PageProgress | None, ocr: DocumentOcr) -> LoadedDocument:
    text = read_text_file(path)
    rows = csv.reader(
        io.StringIO(text, newline=""), delimiter=csv_delimiter(text), skipinitialspace=True
    )
    try:
        table = table_lines(list(rows))
    except csv.Error as exc:
        raise LoadError(path, f"not a readable CSV file ({exc})") from exc
    return LoadedDocument(path, make_title(path.stem, path), table)
