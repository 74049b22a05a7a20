"""Helpers shared by the tests (fixtures live in conftest.py files; tests import helpers only
from here). The only stand-in is `ScriptedChatModel`, a deterministic chat model at the LLM
boundary that records what it was sent."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from rag.feedback import Feedback
from rag.settings import Settings
from rag.types import Answer, SentenceSupport

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"


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


def feedback_case(rating: str = "up", question: str = "q?", **fields: object) -> Feedback:
    """A stored rating with sensible defaults; `fields` override any of them."""
    values: dict[str, object] = {
        "rating": rating,
        "question": question,
        "standalone_query": question,
        "answer_text": "An answer [1].",
        "cited_chunk_ids": ["c1"],
        "cited_sources": ["/docs/a.md"],
        "generator": "extractive",
        "prompt_version": "extractive.v1",
        **fields,
    }
    return Feedback.model_validate(values)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test: its own data dir, the bundled samples as demo documents, no .env."""
    values = {"data_dir": data_dir, "samples_dir": SAMPLES, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn on a free 127.0.0.1 port, in a thread; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def run_cli(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`app.py ARGS` with `data` as its data dir, from a folder with no .env file in it."""
    return _run(data, [str(ROOT / "app.py"), *args], env)


def run_python(data: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -c SCRIPT` in a fresh interpreter, set up like `run_cli`."""
    return _run(data, ["-c", script], {"PYTHONPATH": str(ROOT), **env})


def _run(data: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    data.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCENT_DATA_DIR": str(data), **env},
        cwd=data.parent,
        timeout=600,
    )


def wait_for_job(server: str, job_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Poll a job until it is done or failed (two minutes at most)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = httpx.get(
            f"{server}/api/v1/jobs/{job_id}", headers=headers, timeout=10
        ).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """Where a browser test saves its screenshot: docs/ under `make screenshots`
    (DOCENT_UPDATE_SCREENSHOTS=1), else a temp dir, so tests never dirty the tree."""
    if os.environ.get("DOCENT_UPDATE_SCREENSHOTS") == "1":
        return ROOT / "docs" / name
    return tmp_path / name
