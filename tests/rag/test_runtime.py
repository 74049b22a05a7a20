"""The runtime wires components from Settings; demo samples reach only demo installs."""

from __future__ import annotations

from pathlib import Path

from index.embeddings import Encoder
from rag.runtime import build_runtime
from tests.helpers import create_key, make_settings


def test_demo_samples_only_into_an_empty_store_without_credentials(
    tmp_path: Path, embeddings: Encoder
) -> None:
    open_install = build_runtime(make_settings(tmp_path / "open"), embeddings=embeddings)
    report = open_install.ensure_samples()
    assert report is not None and len(report.added) == 9
    assert open_install.ensure_samples() is None, "only into an empty store"

    secured = make_settings(tmp_path / "secured", jwt_secret="x" * 32)
    runtime = build_runtime(secured, embeddings=embeddings)
    assert runtime.ensure_samples() is None and runtime.store.count() == 0
    keyed = make_settings(tmp_path / "keyed")
    create_key(keyed, "ops")
    runtime = build_runtime(keyed, embeddings=embeddings)
    assert runtime.ensure_samples() is None and runtime.store.count() == 0
    unset = build_runtime(
        make_settings(tmp_path / "unset", samples_dir=None), embeddings=embeddings
    )
    assert unset.ensure_samples() is None and unset.store.count() == 0
