"""Fixtures of the `llm` tests: llama.cpp's OpenAI-compatible server (`llama-cpp-python[server]`,
built by `make llama`) on loopback with the bundled GGUF, and the app answering through it with
DOCENT_GENERATOR=openai and the answer prompt written for small models. Selected only by `--llm`
(`make test-llm`)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embeddings import Encoder
from rag.runtime import build_runtime
from tests.helpers import (
    ROOT,
    SAMPLES,
    create_key,
    free_port,
    make_settings,
    serving,
    wait_until_up,
)

MODEL = Path(
    os.environ.get(
        "DOCENT_LLAMACPP_MODEL_PATH", ROOT / ".models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    )
)
MODEL_ALIAS = "qwen2.5-coder-0.5b-instruct"
# Enough for one to three sentences; a small model that echoes its passages stops within seconds.
MAX_TOKENS = 200


def llama_server_command(port: int, model: Path = MODEL) -> list[str]:
    """The server as the tests run it: the GGUF's own chat template (no --chat_format), the
    context of DOCENT_LLAMACPP_CONTEXT's default, every core (its default is half of them),
    and no logits kept for every position (its default; 4096 × 151,936 floats, 2.5 GB)."""
    return [
        *(sys.executable, "-m", "llama_cpp.server", "--model", str(model)),
        *("--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port)),
        *("--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 1), "--logits_all", "false"),
    ]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free 127.0.0.1 port; yields its OpenAI base URL
    (…/v1) once /v1/models answers (the model is loaded before the server listens)."""
    if importlib.util.find_spec("llama_cpp") is None or not MODEL.is_file():
        pytest.fail(f"needs llama-cpp-python[server] and {MODEL}: run `make llama`")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as sink:  # the child keeps its own copy of the file
        process = subprocess.Popen(
            llama_server_command(port), stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_up(url, process, "/v1/models", timeout=120)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; its log ends:\n{log.read_text()[-3000:]}") from exc
        yield f"{url}/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)


def small_model_prompt() -> str:
    """The answer prompt written for the small local model (llamacpp's default, whatever its
    version). Given the chat models' default, the 0.5B model replied with markers only ("[1]")
    to 95 of 100 SQuAD questions."""
    return make_settings(Path("unused"), generator="llamacpp").answer_prompt_id


@pytest.fixture(scope="session")
def llm_env(llama_server: str) -> dict[str, str]:
    """The environment of an app.py process answering through the llama.cpp server."""
    return {
        "DOCENT_GENERATOR": "openai",
        "DOCENT_OPENAI_BASE_URL": llama_server,
        "DOCENT_OPENAI_MODEL": MODEL_ALIAS,
        "DOCENT_OPENAI_MAX_TOKENS": str(MAX_TOKENS),
        "DOCENT_ANSWER_PROMPT": small_model_prompt(),
    }


@pytest.fixture(scope="session")
def llm_app(
    llama_server: str, tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[tuple[str, dict[str, str]]]:
    """The app over the samples, behind an API key, answering through the llama.cpp server;
    yields its URL and the headers that authenticate a request."""
    from rag.web.app import create_app

    settings = make_settings(
        tmp_path_factory.mktemp("llm-data"),
        generator="openai",
        openai_base_url=llama_server,
        openai_model=MODEL_ALIAS,
        openai_max_tokens=MAX_TOKENS,
        answer_prompt=small_model_prompt(),
    )
    runtime = build_runtime(settings, embeddings=embeddings)
    report = runtime.ingestor.ingest([SAMPLES])
    assert not report.failed, report.failed
    key = create_key(settings, "llm-tests")
    with serving(create_app(runtime)) as url:
        yield url, {"Authorization": f"Bearer {key}"}
