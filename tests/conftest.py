"""Real components everywhere: Chroma in a temp dir, the bundled embedding model, a live server.
The only stand-in is `ScriptedChatModel`, a deterministic chat model at the LLM boundary."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from playwright.sync_api import Browser, sync_playwright

from index.embeddings import BUNDLED_MODEL, load_embeddings
from rag.runtime import Runtime, build_runtime
from rag.server import create_app
from rag.settings import Settings
from rag.types import Answer, SentenceSupport

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


class ScriptedChatModel(BaseChatModel):
    """Replies with `reply(messages)` and records every message list it was sent."""

    reply: Callable[[list[BaseMessage]], str]
    received: list[list[BaseMessage]]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.reply(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.received.append(messages)
        for word in self.reply(messages).split(" "):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))


def answer_with(text: str, sentences: list[SentenceSupport]) -> Answer:
    """An answer as a chat model might give it, with the given sentence support."""
    return Answer(
        text=text,
        citations=[],
        retrieved=[],
        standalone_query="q",
        prompt_version="v1",
        generator="scripted",
        abstained=False,
        supported=True,
        sentences=sentences,
    )


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=data_dir, samples_dir=SAMPLES, _env_file=None, **overrides)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def embeddings() -> Embeddings:
    return load_embeddings(BUNDLED_MODEL)


@pytest.fixture
def fresh_runtime(tmp_path: Path, embeddings: Embeddings) -> Runtime:
    """An empty index in a temp dir."""
    return build_runtime(make_settings(tmp_path / "data"), embeddings=embeddings)


@pytest.fixture(scope="session")
def sample_runtime(tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings) -> Runtime:
    """The bundled samples indexed once for the session (read-only use)."""
    runtime = build_runtime(
        make_settings(tmp_path_factory.mktemp("samples-index")), embeddings=embeddings
    )
    report = runtime.ingestor.ingest([SAMPLES])
    assert not report.failed, report.failed
    return runtime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(runtime: Runtime) -> Iterator[str]:
    """The real app (FastAPI + Gradio) for `runtime`, served by uvicorn on 127.0.0.1."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings) -> Iterator[str]:
    """The app over a fresh copy of the samples, shared by the session (read-only use)."""
    data = tmp_path_factory.mktemp("server-data")
    runtime = build_runtime(make_settings(data), embeddings=embeddings)
    runtime.ensure_samples()
    with serving(runtime) as url:
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


CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: run `make test`, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()
