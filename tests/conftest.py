"""Fixtures only (helpers are in tests/helpers.py). Real components everywhere: Chroma in temp
dirs, the bundled embedding model, the real app on a live server."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.database import Database
from index.embeddings import BUNDLED_MODEL, Encoder, load_embeddings
from rag.runtime import Runtime, build_runtime
from rag.settings import Settings
from rag.stores.schema import open_database
from tests.helpers import SAMPLES, PostgresCluster, make_settings, serving


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--llama", action="store_true", help="run the tests that need a GGUF model (make llama)"
    )
    parser.addoption(
        "--llm",
        action="store_true",
        help="run the tests against a llama.cpp OpenAI-compatible server (make test-llm)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `llama` need llama-cpp-python and a model: only with --llama; tests marked
    `llm` also start its server: only with --llm."""
    for marker in ("llama", "llm"):
        if config.getoption(f"--{marker}"):
            continue
        skipped = [item for item in items if item.get_closest_marker(marker)]
        if skipped:
            config.hook.pytest_deselected(items=skipped)
            items[:] = [item for item in items if not item.get_closest_marker(marker)]


@pytest.fixture(scope="session")
def embeddings() -> Encoder:
    return load_embeddings(BUNDLED_MODEL)


@pytest.fixture
def fresh_runtime(tmp_path: Path, embeddings: Encoder) -> Runtime:
    """An empty index in a temp dir."""
    return build_runtime(make_settings(tmp_path / "data"), embeddings=embeddings)


@pytest.fixture(scope="session")
def sample_runtime(tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder) -> Runtime:
    """The bundled samples indexed once for the session (read-only use)."""
    runtime = build_runtime(
        make_settings(tmp_path_factory.mktemp("samples-index")), embeddings=embeddings
    )
    report = runtime.ingestor.ingest([SAMPLES])
    assert not report.failed, report.failed
    return runtime


@pytest.fixture(scope="session")
def live_server_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("server-data"))


@pytest.fixture(scope="session")
def live_server(live_server_settings: Settings, embeddings: Encoder) -> Iterator[str]:
    """The app over a fresh copy of the samples, shared by the session (read-only use)."""
    from rag.web.app import create_app

    runtime = build_runtime(live_server_settings, embeddings=embeddings)
    runtime.ensure_samples()
    with serving(create_app(runtime)) as url:
        yield url


@pytest.fixture
def copy_samples(tmp_path: Path) -> Callable[..., Path]:
    def copy(*names: str) -> Path:
        folder = tmp_path / "docs"
        folder.mkdir(exist_ok=True)
        for name in names:
            shutil.copy(SAMPLES / name, folder / name)
        return folder

    return copy


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One PostgreSQL server for the session; each test that needs one gets its own database."""
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings whose shared state lives in SQLite (the default) or in PostgreSQL."""
    if request.param == "sqlite":
        return make_settings(tmp_path / "data")
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return make_settings(tmp_path / "data", database_url=cluster.create_database())


@pytest.fixture
def database(state_settings: Settings) -> Iterator[Database]:
    database = open_database(state_settings)
    yield database
    database.dispose()
