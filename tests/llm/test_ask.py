"""`/api/v1/ask` answering through a real model: llama.cpp's OpenAI-compatible server with the
bundled 0.5B GGUF (DOCENT_GENERATOR=openai). A small model is noisy, so these tests assert what
must hold whatever it writes: an answer is there, its citations point into the retrieved passages,
a follow-up is read with the conversation, and a question the documents do not answer is refused
or flagged."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from rag.answer.citations import MARKER
from rag.answer.generators.base import is_abstention
from tests.helpers import ANSWERABLE, UNANSWERABLE

pytestmark = pytest.mark.llm

VACATION, LEAVE_POLICY, _ = ANSWERABLE[0]


def ask(app: tuple[str, dict[str, str]], question: str, **body: Any) -> dict[str, Any]:
    url, headers = app
    response = httpx.post(
        f"{url}/api/v1/ask", json={"question": question, **body}, headers=headers, timeout=180
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def words(text: str) -> str:
    """The answer without its markers: a bare "[1]" is no answer."""
    return MARKER.sub("", text).strip()


def assert_citations_valid(answer: dict[str, Any]) -> None:
    """Each marker left in the text has its citation, and citation n is retrieved passage n."""
    retrieved = [hit["chunk"]["id"] for hit in answer["retrieved"]]
    cited = {citation["n"]: citation for citation in answer["citations"]}
    markers = {int(n) for group in MARKER.findall(answer["text"]) for n in group.split(",")}
    assert markers == set(cited), (answer["text"], sorted(cited))
    for n, citation in cited.items():
        assert 1 <= n <= len(retrieved) and citation["chunk_id"] == retrieved[n - 1], n
    assert answer["abstained"] == is_abstention(answer["text"])


def test_answers_a_sample_question_citing_what_was_retrieved(
    llm_app: tuple[str, dict[str, str]],
) -> None:
    answer = ask(llm_app, VACATION)
    # The model's answer, or the quoted sentence where what it wrote did not hold.
    assert answer["generator"] in ("openai", "extractive"), answer["generator"]
    assert answer["prompt_version"] in ("answer.v6", "reader.v1"), answer["prompt_version"]
    assert words(answer["text"]) and not answer["abstained"], answer["text"]
    assert answer["citations"], answer["text"]
    assert_citations_valid(answer)
    # Not the wording, which a 0.5B model varies: what it cites.
    assert LEAVE_POLICY in {c["name"] for c in answer["citations"]}, answer["text"]


def test_a_follow_up_is_read_with_the_conversation(llm_app: tuple[str, dict[str, str]]) -> None:
    first = ask(llm_app, VACATION)
    follow_up = "And can I carry them over?"
    second = ask(llm_app, follow_up, conversation_id=first["conversation_id"])
    query = second["standalone_query"]
    # The model rewrote the follow-up with the subject of the first question.
    assert query != follow_up and {"vacation", "leave", "days"} & set(
        re.findall(r"\w+", query.lower())
    ), query
    assert second["retrieved"][0]["chunk"]["name"] == LEAVE_POLICY, query
    assert words(second["text"]), second["text"]
    assert_citations_valid(second)


def test_a_question_the_documents_do_not_answer_is_refused_or_flagged(
    llm_app: tuple[str, dict[str, str]],
) -> None:
    answer = ask(llm_app, UNANSWERABLE[0])
    assert_citations_valid(answer)
    assert answer["abstained"] or not answer["supported"], answer["text"]
