"""The architecture as rules: the write path (index/) knows nothing of the read path (rag/),
only rag/web/ speaks HTTP, the packages' public names are curated, and importing changes
nothing."""

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
