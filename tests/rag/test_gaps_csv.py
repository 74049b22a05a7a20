"""Held from the second review: the coverage-gaps export keeps every question a spreadsheet
cell of text, whatever was asked (no formula runs when a manager opens it)."""

from __future__ import annotations

import csv
import io

from rag.gaps import GapGroup, gaps_csv


def test_a_question_that_looks_like_a_formula_stays_text() -> None:
    group = GapGroup(
        question='=HYPERLINK("http://evil.example","open")',
        count=2,
        refused=2,
        marked_wrong=0,
        last_asked="2026-12-03",
        examples=("+1+1", "@SUM(A1:A9)"),
    )
    plain = GapGroup("How long is probation?", 1, 1, 0, "2026-12-03", ())
    rows = list(csv.reader(io.StringIO(gaps_csv([group, plain]))))
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example","open")'
    assert rows[1][5] == "'+1+1 | @SUM(A1:A9)"
    assert rows[2][0] == "How long is probation?"
    assert not any(cell[:1] in "=+-@" for row in rows[1:] for cell in row if cell)
