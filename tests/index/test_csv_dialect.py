"""A CSV file's delimiter is told by one linear pass over its first rows, not by
`csv.Sniffer`, whose regular expressions take seconds on a few hundred crafted bytes (and
minutes on a few more) and are misled by a quoted phrase inside a cell."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from index.loaders import load_document
from index.loaders.csv import csv_delimiter
from tests.made_files import csv_file

HERMES = "Project: Hermes; Budget (EUR): 45500; Owner: Joao Reis; Deadline: 2026-12-15."


@pytest.mark.parametrize(
    "delimiter", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"]
)
def test_the_delimiter_of_an_ordinary_file(tmp_path: Path, delimiter: str) -> None:
    path = csv_file(tmp_path / "budgets.csv", delimiter=delimiter)
    assert csv_delimiter(path.read_text()) == delimiter
    assert HERMES in load_document(path).text


def test_quoted_cells_holding_other_delimiters(tmp_path: Path) -> None:
    """Cells quoted as spreadsheets write them, holding commas, semicolons and line breaks."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(
        [["Project", "Owners", "Note"], ["Apollo", "Silva, Ana; Reis, Joao", "late;\nsee plan"]]
    )
    path = tmp_path / "owners.csv"
    path.write_text(buffer.getvalue())
    assert csv_delimiter(buffer.getvalue()) == ";"
    assert load_document(path).text == (
        "Project: Apollo; Owners: Silva, Ana; Reis, Joao; Note: late; see plan."
    )


def test_a_quoted_phrase_in_a_cell_does_not_change_the_delimiter(tmp_path: Path) -> None:
    """`csv.Sniffer` took `, "fine",` for quoting between commas and read the whole
    semicolon file as comma-separated."""
    path = tmp_path / "notes.csv"
    path.write_text(
        "Project;Owner;Note\nApollo;Ana Silva;on time\n"
        'Hermes;Joao Reis;the client said, "fine", twice\n'
    )
    assert load_document(path).text == (
        "Project: Apollo; Owner: Ana Silva; Note: on time.\n\n"
        'Project: Hermes; Owner: Joao Reis; Note: the client said, "fine", twice.'
    )


def test_a_crafted_file_is_read_with_its_delimiter(tmp_path: Path) -> None:
    """A row that starts with a run of quotes: `csv.Sniffer` backtracks over it for seconds
    (a run of 200: ~7 s; of 400: ~2 min; bench/costly_requests.py), then calls the file
    comma-separated. Here a 20 KB run is one linear pass."""
    for run in (200, 20_000):
        path = tmp_path / f"crafted-{run}.csv"
        path.write_text('Project|Note\nApollo|,"a",\n' + '"' * run + "a|x\n")
        assert csv_delimiter(path.read_text()) == "|"
        first, second = load_document(path).text.split("\n\n")
        assert first == 'Project: Apollo; Note: ,"a",.'
        kept_quotes = '"' * ((run - 1) // 2)  # the run opens a quoted field: pairs are quotes
        assert second == f"Project: {kept_quotes}a; Note: x."


def test_a_single_column_is_one_field_a_row(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("Name\nAna Silva\nJoao Reis\n")
    assert load_document(path).text == "Name: Ana Silva.\n\nName: Joao Reis."
