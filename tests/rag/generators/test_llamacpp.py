"""The optional llama.cpp generator.

Tests marked `llama` load a real GGUF model through the real runtime and run only when
selected (`make test-llama`, i.e. `pytest --llama -m llama`); the model comes from
DOCENT_LLAMACPP_MODEL_PATH or `make llama`'s default location. The unmarked tests need
neither llama-cpp-python nor a model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.embeddings import Encoder
from index.types import Chunk, Hit
from rag.answer.generators.base import Likely
from rag.answer.generators.llamacpp import LlamaCppGenerator, load_llamacpp
from rag.answer.prompts import load_prompt
from rag.answer.types import Message
from rag.errors import ConfigError, GenerationError
from rag.runtime import Runtime, build_runtime
from tests.helpers import ANSWERABLE, ROOT, UNANSWERABLE, make_settings

MODEL = Path(
    os.environ.get(
        "DOCENT_LLAMACPP_MODEL_PATH", ROOT / ".models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    )
)


# --- no model needed ----------------------------------------------------------------------


def test_unset_model_path_is_a_config_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, generator="llamacpp", llamacpp_model_path=None)
    with pytest.raises(ConfigError, match=r"DOCENT_LLAMACPP_MODEL_PATH.*make llama"):
        load_llamacpp(settings)


def test_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, generator="llamacpp", llamacpp_model_path=tmp_path / "absent.gguf"
    )
    with pytest.raises(ConfigError, match=r"absent\.gguf does not exist.*make llama"):
        load_llamacpp(settings)


def test_a_file_that_is_not_gguf_is_a_config_error(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"<html>not a model</html>")
    settings = make_settings(tmp_path, generator="llamacpp", llamacpp_model_path=fake)
    with pytest.raises(ConfigError, match="not a GGUF"):
        load_llamacpp(settings)


class FakeLlama:
    """Stands in for `llama_cpp.Llama`: one token per 4 bytes, a scripted streamed reply."""

    def __init__(self, reply: list[str], fail_after: int | None = None) -> None:
        self.reply = reply
        self.fail_after = fail_after
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return list(range(len(text) // 4))

    def create_chat_completion(self, messages: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append((messages, kwargs))
        for index, piece in enumerate(self.reply):
            if self.fail_after is not None and index == self.fail_after:
                raise RuntimeError("llama_decode returned -1")
            yield {"choices": [{"delta": {"content": piece}}]}


def _hits(count: int, words: int) -> list[Hit]:
    return [
        Hit(
            chunk=Chunk(
                id=f"c{n}",
                text=" ".join(f"word{n}" for _ in range(words)),
                source=f"/docs/doc{n}.md",
                document_id=f"d{n}",
                name=f"doc{n}.md",
                title=f"Doc {n}",
                page=None,
                start=0,
                end=words * 6,
            ),
            score=1.0 / (n + 1),
        )
        for n in range(count)
    ]


def _generator(
    model: FakeLlama, context: int = 4096, prompt: str = "answer.v1"
) -> LlamaCppGenerator:
    return LlamaCppGenerator(
        model, load_prompt(ROOT / "prompts", prompt), context=context, max_tokens=256
    )


def _conversation(turns: int, words: int) -> list[Message]:
    """`turns` question/answer pairs, oldest first, each answer `words` words long."""
    history = []
    for n in range(turns):
        history.append(Message(role="user", content=f"Question {n}?"))
        history.append(Message(role="assistant", content=f"Answer {n}: " + "yes " * words + "[1]."))
    return history


def test_streams_the_rendered_answer_prompt_as_chat_messages() -> None:
    model = FakeLlama(["It is ", "26 days", " [1]."])
    text = "".join(_generator(model).stream("How many days?", _hits(2, 10)))
    assert text == "It is 26 days [1]."
    (messages, kwargs) = model.calls[0]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "[1] Doc 0 (doc0.md)" in messages[1]["content"]
    assert "Question: How many days?" in messages[1]["content"]
    assert kwargs == {"stream": True, "temperature": 0.0, "max_tokens": 256}


def test_passages_are_cut_from_the_lowest_ranked_to_fit_the_context() -> None:
    generator = _generator(FakeLlama([]), context=1024)  # 768 tokens for the prompt
    hits = _hits(5, 200)  # ~1,400 characters (350 fake tokens) each
    messages = generator.messages("How many days?", hits)
    user = messages[1]["content"]
    assert generator._count(messages) <= 1024 - 256
    assert "word0 word0" in user  # the best passage survives whole
    assert "[5]" not in user  # the worst is dropped first
    assert user.index("[1]") < user.index("Question:")


def test_the_compact_prompt_carries_the_conversation_before_the_passages() -> None:
    model = FakeLlama(["26 days [1]."])
    generator = _generator(model, prompt="answer.v4")
    history = _conversation(1, 3)
    assert "".join(generator.stream("How many days?", _hits(2, 10), history)) == "26 days [1]."
    (system, user), _ = model.calls[0]
    assert "conversation" in system["content"]
    text = user["content"]
    assert "User: Question 0?\nDocent: Answer 0: yes yes yes.\n" in text, "markers are gone"
    assert text.index("Docent: Answer 0") < text.index("Passage [1]") < text.index("Question:")


def test_the_oldest_turns_are_dropped_before_any_passage_is_cut() -> None:
    generator = _generator(FakeLlama([]), context=1024, prompt="answer.v4")
    hits = _hits(3, 60)  # ~420 characters (105 fake tokens) each
    history = _conversation(4, 100)  # ~410 characters (100 fake tokens) an answer
    messages = generator.messages("How many days?", hits, history)
    user = messages[1]["content"]
    assert generator._count(messages) <= 1024 - 256
    assert "Question 0?" not in user and "Question 3?" in user, "the oldest go first"
    assert all(hit.chunk.text in user for hit in hits), "every passage stays whole"
    squeezed = _generator(FakeLlama([]), context=700, prompt="answer.v4")
    user = squeezed.messages("How many days?", hits, history)[1]["content"]
    assert "Question 3?" not in user and "word0 word0" in user, "then passages are cut"


def test_the_likely_answer_is_offered_while_its_passage_is_in_the_prompt() -> None:
    generator = _generator(FakeLlama([]), prompt="answer.v7")
    likely = Likely(2, "word1 word1")
    user = generator.messages("How many days?", _hits(2, 10), likely=likely)[1]["content"]
    assert 'likely answer, in passage [2]: "word1 word1"' in user
    assert user.index("Question:") < user.index("likely answer") < user.index("citing it like [2]")
    assert "likely answer" not in generator.messages("How many days?", _hits(2, 10))[1]["content"]
    squeezed = _generator(FakeLlama([]), context=700, prompt="answer.v7")
    user = squeezed.messages("How many days?", _hits(5, 60), likely=Likely(5, "word4"))[1][
        "content"
    ]
    assert "Passage [5]" not in user and "likely answer" not in user, "its passage was dropped"


def test_a_failure_while_streaming_is_a_generation_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The caller gets a fixed message; the model's own words go to the log only."""
    model = FakeLlama(["It is ", "26 days"], fail_after=1)
    with pytest.raises(GenerationError) as raised:
        list(_generator(model).stream("How many days?", _hits(1, 10)))
    assert str(raised.value) == "the llama.cpp model failed to answer"
    assert "llama_decode returned -1" in caplog.text


# --- a real model -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llama_runtime(tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder) -> Runtime:
    settings = make_settings(
        tmp_path_factory.mktemp("llama-index"), generator="llamacpp", llamacpp_model_path=MODEL
    )
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ensure_samples()
    return runtime


@pytest.mark.llama
def test_answers_a_sample_question_citing_the_right_document(llama_runtime: Runtime) -> None:
    question, source, fact = ANSWERABLE[0]
    answer = llama_runtime.assistant.answer(question)
    assert answer.generator == "llamacpp"
    assert answer.prompt_version == "answer.v6"
    assert not answer.abstained, answer.text
    assert answer.supported, answer.text
    assert fact.split()[0] in answer.text, answer.text
    cited_documents = {c.name for c in answer.citations}
    assert source in cited_documents, (answer.text, cited_documents)


@pytest.mark.llama
def test_an_unanswerable_question_abstains_or_is_flagged(llama_runtime: Runtime) -> None:
    """A 0.5B model sometimes answers anyway; such an answer must not pass as supported."""
    answer = llama_runtime.assistant.answer(UNANSWERABLE[0])
    assert answer.abstained or not answer.supported, answer.text
