"""Optional local generator: a GGUF model run in-process by llama-cpp-python.

Selected with `DOCENT_GENERATOR=llamacpp` and `DOCENT_LLAMACPP_MODEL_PATH=path/to/model.gguf`.
`llama_cpp` is imported only inside `load_llamacpp`, so this module imports without it; the
default install never builds llama.cpp (`make llama` does, and fetches a small model).

It uses a versioned answer prompt like `ChatGenerator` (answer.v6 by default); the rendered
messages go to `Llama.create_chat_completion`, which applies the GGUF file's chat template.
When the prompt would not leave room for the answer in the context window, the oldest turns of
the conversation are dropped first, then the lowest-ranked passages are shortened, then dropped
(markers keep pointing at `hits[n-1]`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from langchain_core.messages import BaseMessage

from index.types import Hit
from rag.answer.generators.base import Likely, answer_variables, prompt_history, prompt_passages
from rag.answer.prompts import Prompt, load_prompt
from rag.answer.types import Message
from rag.errors import ConfigError, GenerationError
from rag.settings import Settings

__all__ = ["LlamaCppGenerator", "LlamaModel", "load_llamacpp"]

log = logging.getLogger(__name__)

INSTALL_HINT = "run `make llama` (builds llama-cpp-python and fetches a small GGUF model)"
# Tokens the chat template adds around the messages (role headers, end markers).
TEMPLATE_OVERHEAD = 32
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class LlamaModel(Protocol):
    """The part of `llama_cpp.Llama` the generator uses."""

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]: ...

    def create_chat_completion(
        self,
        messages: Any,
        *,
        temperature: float = ...,
        stream: bool = ...,
        max_tokens: int | None = ...,
    ) -> Any: ...


def _chat_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    converted = []
    for message in messages:
        role = _ROLES.get(message.type)
        if role is None:
            raise GenerationError(f"cannot send a {message.type!r} message to llama.cpp")
        converted.append({"role": role, "content": message.text})
    return converted


def kept(likely: Likely | None, passages: Sequence[object]) -> Likely | None:
    """The likely answer while its passage is still in the prompt."""
    return likely if likely is not None and likely.number <= len(passages) else None


class LlamaCppGenerator:
    """The versioned answer prompt, answered by a local llama.cpp model; tokens are streamed.

    One model per generator; calls are serialised because a `Llama` object is not
    thread-safe (the HTTP server may answer several questions at once)."""

    name = "llamacpp"

    def __init__(self, model: LlamaModel, prompt: Prompt, context: int, max_tokens: int) -> None:
        self.model = model
        self.prompt = prompt
        self.prompt_version = prompt.id
        self.context = context
        # Leave room for at least a short prompt even with a tiny window.
        self.max_tokens = min(max_tokens, context // 2)
        self._lock = threading.Lock()

    def _count(self, messages: list[dict[str, str]]) -> int:
        text = "\n".join(m["content"] for m in messages)
        return len(self.model.tokenize(text.encode("utf-8"), False, True)) + TEMPLATE_OVERHEAD

    def _render(
        self,
        question: str,
        passages: list[dict[str, str]],
        history: list[dict[str, str]],
        likely: Likely | None = None,
    ) -> list[dict[str, str]]:
        values = answer_variables(self.prompt.variables, question, passages, history, likely)
        return _chat_messages(self.prompt.render(**values))

    def messages(
        self,
        question: str,
        hits: Sequence[Hit],
        history: Sequence[Message] = (),
        likely: Likely | None = None,
    ) -> list[dict[str, str]]:
        """The chat messages for `question`, cut so that the answer still fits: the oldest
        turns of `history` go first, then the lowest-ranked passages are shortened or dropped."""
        passages = prompt_passages(hits)
        turns = prompt_history(history) if "history" in self.prompt.variables else []
        offered = len(turns)
        budget = self.context - self.max_tokens
        messages = self._render(question, passages, turns, kept(likely, passages))
        excess = self._count(messages) - budget
        while excess > 0 and turns:
            turns.pop(0)
            messages = self._render(question, passages, turns, kept(likely, passages))
            excess = self._count(messages) - budget
        while excess > 0 and passages:
            last = passages[-1]
            # ~3 characters per token is conservative for English; cut a little more than needed.
            keep = len(last["text"]) - 3 * excess - 16
            if keep >= 80:
                cut = last["text"][:keep].rsplit(" ", 1)[0]
                passages[-1] = {**last, "text": cut + " …"}
            else:
                passages.pop()
            messages = self._render(question, passages, turns, kept(likely, passages))
            excess = self._count(messages) - budget
        if excess > 0:
            raise GenerationError(
                f"the question does not fit the {self.context}-token llama.cpp context "
                f"with {self.max_tokens} tokens left for the answer"
            )
        if len(turns) < offered:
            log.info("llama.cpp prompt keeps %d of %d earlier turns", len(turns), offered)
        if len(passages) < len(hits) or any(
            p["text"] != h.chunk.text for p, h in zip(passages, hits, strict=False)
        ):
            log.info("llama.cpp prompt trimmed to %d of %d passages", len(passages), len(hits))
        return messages

    def stream(
        self,
        question: str,
        hits: Sequence[Hit],
        history: Sequence[Message] = (),
        likely: Likely | None = None,
    ) -> Iterator[str]:
        # One llama.cpp model serves one question at a time; the lock is released when the
        # generator finishes or is closed (a client that goes away closes it).
        with self._lock:
            try:
                messages = self.messages(question, hits, history, likely)
                chunks = self.model.create_chat_completion(
                    messages, stream=True, temperature=0.0, max_tokens=self.max_tokens
                )
                for chunk in chunks:
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece
            except GenerationError:
                raise
            except Exception as exc:  # the model boundary: any llama.cpp failure becomes ours
                log.warning("the llama.cpp model failed: %s", exc)
                raise GenerationError("the llama.cpp model failed to answer") from exc


def _checked_path(settings: Settings) -> Path:
    path = settings.llamacpp_model_path
    if path is None:
        raise ConfigError(
            "DOCENT_GENERATOR=llamacpp needs DOCENT_LLAMACPP_MODEL_PATH (a .gguf file); "
            + INSTALL_HINT
        )
    path = path.expanduser()
    if not path.is_file():
        raise ConfigError(f"llama.cpp model file {path} does not exist; {INSTALL_HINT}")
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ConfigError(f"{path} is not a GGUF model file")
    return path


def load_llamacpp(settings: Settings) -> LlamaCppGenerator:
    """Load the GGUF model named by the settings. Raises `ConfigError` when the path is unset,
    missing or not a GGUF file, when llama-cpp-python is not installed, or when the model
    cannot be loaded."""
    path = _checked_path(settings)
    prompt = load_prompt(settings.prompts_dir, settings.answer_prompt_id)
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ConfigError(f"llama-cpp-python is not installed; {INSTALL_HINT}") from exc
    threads = settings.llamacpp_threads or os.cpu_count() or 1
    try:
        model = Llama(
            model_path=str(path),
            n_ctx=settings.llamacpp_context,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
    except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
        raise ConfigError(f"llama.cpp could not load {path}: {exc}") from exc
    log.info("loaded %s (context %d, %d threads)", path.name, settings.llamacpp_context, threads)
    return LlamaCppGenerator(model, prompt, settings.llamacpp_context, settings.llamacpp_max_tokens)
