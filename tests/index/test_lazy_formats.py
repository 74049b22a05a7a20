"""The read path never loads the write path's parsers (issue 23): importing `index.ingest`, or
`rag.runtime` that imports it, loads no document-format library; each loads with the first
document of its format. Checked in fresh interpreters that note which module first imported
each library, on real files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import SAMPLES, run_python
from tests.made_files import csv_file, scanned_image, slides, workbook

# The top-level modules of the document-format libraries and of the parsers they bring.
FORMAT_LIBRARIES = frozenset(
    {
        "bs4",
        "charset_normalizer",
        "docx",
        "lxml",
        "openpyxl",
        "PIL",
        "pdfminer",
        "pdfplumber",
        "pptx",
        "pypdf",
        "pypdfium2",
        "pytesseract",
    }
)
# Loaded at import by the read path's own dependencies, never by `index`: requests imports
# charset_normalizer (LangChain imports requests), and so does NumPy's f2py (through bm25s).
LOADED_BY_OTHERS = frozenset({"charset_normalizer"})

# The script's `loaded()`: {library: the module that first imported it} for those loaded.
_PROBE = """
import importlib.abc, json, sys
from pathlib import Path

WATCHED = {watched!r}
importers = {{}}


class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in WATCHED and name not in importers:
            frame = sys._getframe(1)
            while frame is not None and (
                frame.f_code.co_filename.startswith("<frozen")
                or frame.f_globals.get("__name__") == "importlib"
            ):
                frame = frame.f_back
            importers[name] = frame.f_globals.get("__name__", "?") if frame else "?"
        return None


sys.meta_path.insert(0, Watch())


def loaded():
    return {{name: importers.get(name, "?") for name in WATCHED if name in sys.modules}}


import {module}

steps = {{"imported": loaded()}}
if {path!r}:
    from index.loaders import load_document

    document = load_document(Path({path!r}))
    assert document.text.strip(), "no text read"
    steps["read"] = loaded()
print(json.dumps(steps))
"""


def _probe(tmp_path: Path, module: str, path: Path | None = None) -> dict[str, dict[str, str]]:
    """What a fresh interpreter has loaded of FORMAT_LIBRARIES, and who imported each, once
    it has imported `module` ("imported") and then read `path` ("read")."""
    script = _PROBE.format(
        watched=sorted(FORMAT_LIBRARIES), module=module, path=str(path) if path else ""
    )
    result = run_python(tmp_path / "data", script)
    assert result.returncode == 0, result.stderr
    steps: dict[str, dict[str, str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return steps


@pytest.mark.parametrize("module", ["index.ingest", "rag.runtime"])
def test_importing_the_write_path_loads_no_format_library(tmp_path: Path, module: str) -> None:
    loaded = _probe(tmp_path, module)["imported"]
    assert set(loaded) <= LOADED_BY_OTHERS, loaded
    assert {name: who for name, who in loaded.items() if who.split(".")[0] == "index"} == {}


def _sample(name: str) -> Callable[[Path], Path]:
    return lambda folder: Path(shutil.copy(SAMPLES / name, folder / name))


# (a document of the format, made in a folder; {library its reader loads: who imports it})
FORMATS: dict[str, tuple[Callable[[Path], Path], dict[str, str]]] = {
    "pdf": (
        _sample("travel-policy.pdf"),
        {
            "pypdf": "index.loaders.pdf",
            "pypdfium2": "index.loaders.pdf",
            "pdfplumber": "index.pdf_tables",
        },
    ),
    "docx": (_sample("remote-work.docx"), {"docx": "index.loaders.docx"}),
    "html": (_sample("it-security.html"), {"bs4": "index.loaders.html"}),
    "pptx": (lambda folder: slides(folder / "review.pptx"), {"pptx": "index.loaders.pptx"}),
    "xlsx": (
        lambda folder: workbook(folder / "budgets.xlsx"),
        {"openpyxl": "index.loaders.xlsx"},
    ),
    "image": (
        lambda folder: scanned_image(folder / "notice.png"),
        {"PIL": "index.ocr", "pytesseract": "index.ocr"},
    ),
    "markdown": (_sample("leave-policy.md"), {}),
    "csv": (lambda folder: csv_file(folder / "budgets.csv"), {}),
}
MAIN_LIBRARY = {"pdf": "pypdf", "docx": "docx", "html": "bs4", "pptx": "pptx", "xlsx": "openpyxl"}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_a_format_library_loads_with_the_first_document_of_its_format(
    tmp_path: Path, kind: str
) -> None:
    make, expected = FORMATS[kind]
    steps = _probe(tmp_path, "index.ingest", make(tmp_path))
    before, after = steps["imported"], steps["read"]
    assert set(before) <= LOADED_BY_OTHERS, before
    new = {name: who for name, who in after.items() if name not in before}
    assert {name: new.get(name) for name in expected} == expected, new
    others = {MAIN_LIBRARY[other] for other in MAIN_LIBRARY if other != kind}
    assert others.isdisjoint(new), new  # each format loads its own parser only
