"""Tables as text a question can find: every row carries its header, one row a line
("Project: Apollo; Budget: 120,000; Owner: Ana Silva"), so a row retrieved alone still says
what each value is. A row ends with a full stop and rows are separated by a blank line: each
is a sentence of its own to the answerer and a paragraph to the chunker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

__all__ = ["ROW_SEPARATOR", "cell_text", "rows_with_header"]

ROW_SEPARATOR = "\n\n"


def cell_text(value: object) -> str:
    """A cell as it reads: whole numbers without '.0', dates without a midnight time."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())


def _sentence(row: str) -> str:
    return row if row.endswith((".", "!", "?")) else f"{row}."


def rows_with_header(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """One line per row after the first non-empty row, which is the header; an empty header
    cell is named by its column ('Column 3'), empty values are left out, and a table without
    data rows yields its header alone."""
    header: list[str] | None = None
    data_rows = 0
    for row in rows:
        cells = [cell_text(value) for value in row]
        if not any(cells):
            continue
        if header is None:
            header = cells
            continue
        names = header + [""] * (len(cells) - len(header))
        yield _sentence(
            "; ".join(
                f"{name or f'Column {i}'}: {value}"
                for i, (name, value) in enumerate(zip(names, cells, strict=False), start=1)
                if value
            )
        )
        data_rows += 1
    if header is not None and not data_rows:
        yield _sentence("; ".join(name for name in header if name))
