"""The architecture as rules: the write path (index/) knows nothing of the read path (rag/),
only rag/web/ speaks HTTP, the read path (rag/answer/) writes nothing and serves no one, each
table lives beside its store, no import cycle (lazy imports included), the packages' public
names are curated, and importing changes nothing."""

from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

import index
import rag
from tests.helpers import ROOT, run_python

WEB_LIBRARIES = {"fastapi", "starlette", "gradio", "uvicorn"}


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_only_rag_web_speaks_http() -> None:
    outside = [
        p
        for p in [ROOT / "app.py", *_modules("rag", "index")]
        if p.relative_to(ROOT).parts[:2] != ("rag", "web")
    ]
    assert len(outside) > 30
    offenders = {
        str(p.relative_to(ROOT)): sorted(
            n for n in _imported(p) if n.split(".")[0] in WEB_LIBRARIES
        )
        for p in outside
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_write_path_imports_nothing_from_the_read_path() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(n for n in _imported(p) if n.split(".")[0] == "rag")
        for p in _modules("index")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize("package", [rag, index], ids=["rag", "index"])
def test_public_names_are_curated(package: ModuleType) -> None:
    """`__all__` names every public object the package offers, once, and each resolves."""
    names = package.__all__
    assert len(set(names)) == len(names)
    offered = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not isinstance(value, ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    assert offered <= set(names)
    for name in names:
        assert getattr(package, name) is not None, name


@pytest.mark.slow
def test_importing_every_module_leaves_the_environment_alone(tmp_path: Path) -> None:
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in _modules("index", "rag")
    ]
    script = (
        "import importlib, os, sys; before = dict(os.environ)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "changed = sorted(k for k in set(before) | set(os.environ) "
        "if before.get(k) != os.environ.get(k))\n"
        "print('changed:', changed)"
    )
    # Start from an environment without the switches a module might set, so a change shows.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    result = run_python(tmp_path / "data", script, _env=clean)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "changed: []"


def test_every_module_imports_and_says_what_it_is_for() -> None:
    undocumented = []
    for path in _modules("index", "rag"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        if path.name == "__init__.py" and not (module.__doc__ or "").strip():
            undocumented.append(name)
    assert undocumented == [], "every package has a docstring"


def _targets(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports, at any depth (lazy imports too): `from a import b`
    counts as importing the module `a.b` where that is one, else `a`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                inner = f"{node.module}.{alias.name}"
                found.add(inner if inner in known else node.module)
    return found & known


def _import_graph() -> dict[str, set[str]]:
    paths = _modules("rag", "index")
    known = {_module_name(p) for p in paths}
    return {_module_name(p): _targets(p, known) - {_module_name(p)} for p in paths}


def test_no_import_cycle_lazy_imports_included() -> None:
    graph = _import_graph()
    assert len(graph) > 80
    cycles = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == []


# Room → what it may not import (prefixes). The read path answers and nothing else.
FORBIDDEN = {
    "rag.answer": (
        "rag.stores",
        "rag.jobs",
        "rag.web",
        "rag.chat",
        "rag.runtime",
        "rag.evaluation",
        "index.ingest",
        "index.loaders",
        "index.ocr",
    ),
    "rag.reader": ("rag.stores", "rag.jobs", "rag.web", "rag.chat", "rag.runtime"),
    "rag.stores": ("rag.web", "rag.chat", "rag.runtime", "rag.evaluation", "index.ingest"),
    "rag.jobs": ("rag.web", "rag.chat", "rag.evaluation"),
    "rag.chat": ("rag.web", "rag.jobs", "index.ingest"),
    "rag.operations": ("rag.web", "rag.chat", "rag.answer", "rag.evaluation"),
}


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_each_room_imports_only_what_it_needs(room: str) -> None:
    graph = _import_graph()
    members = {m: targets for m, targets in graph.items() if m == room or m.startswith(room + ".")}
    assert members, room
    offenders = {
        module: sorted(t for t in targets if t.startswith(FORBIDDEN[room]))
        for module, targets in members.items()
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_the_read_path_writes_nothing() -> None:
    writing = [
        str(p.relative_to(ROOT))
        for p in _modules("rag/answer", "rag/reader")
        if ".write()" in p.read_text(encoding="utf-8")
    ]
    assert writing == []


def test_each_table_lives_beside_its_store() -> None:
    """Tables are declared in rag/stores/ (and the job queue's in rag/jobs/queue.py), and no
    module but the one declaring a table, and the schema, names its row class."""
    declared: dict[str, str] = {}
    for path in _modules("rag"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id == "Base" for base in node.bases
            ):
                declared[node.name] = _module_name(path)
    assert len(declared) >= 8
    assert {
        row: module
        for row, module in declared.items()
        if not module.startswith("rag.stores.") and module != "rag.jobs.queue"
    } == {}
    borrowed = {
        _module_name(path): sorted(
            alias.name
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
            if alias.name in declared and declared[alias.name] != _module_name(path)
        )
        for path in _modules("rag")
        if _module_name(path) != "rag.stores.schema"
    }
    assert {module: rows for module, rows in borrowed.items() if rows} == {}


def test_a_process_that_only_answers_loads_no_write_path_library(tmp_path: Path) -> None:
    """The text splitter (LangChain's) loads with the first document split, and the stopwords
    come without bm25s' package (which imports scipy); the format parsers are checked in
    tests/index/test_lazy_formats.py."""
    script = (
        "import sys, app, rag.runtime, rag.chat\n"
        "print(sorted(m for m in ('langchain_text_splitters', 'bm25s', 'scipy') "
        "if m in sys.modules))"
    )
    result = run_python(tmp_path / "data", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
