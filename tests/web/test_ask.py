"""The HTTP API on a live server (uvicorn on 127.0.0.1, the real runtime over the samples)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest


def ask(server: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{server}/api/v1/ask", json=body, timeout=60)


def test_ask_returns_the_checked_answer(live_server: str) -> None:
    response = ask(live_server, question="How many vacation days does a full-time employee get?")
    assert response.status_code == 200
    answer = response.json()
    assert "26 days" in answer["text"] and not answer["abstained"] and answer["supported"]
    cited = answer["citations"][0]
    assert cited["name"] == "leave-policy.md" and cited["n"] == 1
    start, end = cited["highlights"][0]
    assert "26 days" in cited["passage"][start:end] and cited["end"] > cited["start"]
    assert answer["sentences"][0]["supported"] and answer["sentences"][0]["cites"] == [1]
    assert answer["prompt_version"] == "reader.v1" and answer["timings_ms"]["total"] > 0
    assert len(answer["conversation_id"]) == 32


def test_conversation_keeps_history_on_the_server(live_server: str) -> None:
    first = ask(live_server, question="Which travel agency books our flights?").json()
    follow_up = ask(
        live_server,
        question="And how early must they be booked?",
        conversation_id=first["conversation_id"],
    ).json()
    assert "Which travel agency books our flights?" in follow_up["standalone_query"]
    assert follow_up["citations"][0]["name"] == "travel-policy.pdf"
    assert follow_up["conversation_id"] == first["conversation_id"]

    by_client = ask(
        live_server,
        question="And how early must they be booked?",
        history=[
            {"role": "user", "content": "Which travel agency books our flights?"},
            {"role": "assistant", "content": "Meridian Travel [1]."},
        ],
    ).json()
    assert by_client["standalone_query"] == follow_up["standalone_query"]


@pytest.mark.parametrize(
    ("body", "status", "kind", "message"),
    [
        ({"question": ""}, 422, "invalid_request", "question: String should have at least 1"),
        ({"question": "x" * 2001}, 422, "invalid_request", "at most 2000 characters"),
        ({"text": "hi"}, 422, "invalid_request", "question: Field required"),
        ({"question": "   "}, 400, "invalid_input", "the question is empty"),
        ({"question": "hi", "conversation_id": "nope"}, 400, "invalid_input", "unknown or expired"),
        (
            {"question": "hi", "conversation_id": "a", "history": []},
            400,
            "invalid_input",
            "either conversation_id or history",
        ),
    ],
)
def test_errors_have_one_json_shape(
    live_server: str, body: dict[str, Any], status: int, kind: str, message: str
) -> None:
    response = ask(live_server, **body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == kind and message in error["message"]
    assert "Traceback" not in response.text


def test_unknown_endpoint_and_bad_json(live_server: str) -> None:
    missing = httpx.get(f"{live_server}/api/v1/nothing-here", timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"type": "not_found", "message": "no such endpoint: /api/v1/nothing-here"}
    }
    broken = httpx.post(
        f"{live_server}/api/v1/ask",
        content=b"{not json",
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert broken.status_code == 422 and broken.json()["error"]["type"] == "invalid_request"


def _events(response: httpx.Response) -> list[tuple[str, Any]]:
    events, name = [], ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((name, json.loads(line.split(":", 1)[1])))
    return events


def test_stream_sends_tokens_then_the_answer_then_done(live_server: str) -> None:
    question = "How long is the probation period?"
    with httpx.stream(
        "POST", f"{live_server}/api/v1/ask/stream", json={"question": question}, timeout=60
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
    names = [name for name, _ in events]
    assert names[0] == "token" and names[-3:] == ["citations", "answer", "done"]
    checked, answer = events[-3][1], events[-2][1]
    assert (
        checked["citations"] == answer["citations"] and checked["sentences"] == answer["sentences"]
    )
    assert "".join(data["text"] for name, data in events if name == "token") == answer["text"]
    assert "6 months" in answer["text"]
    assert events[-1][1] == {"conversation_id": answer["conversation_id"]}
    assert answer["text"] == ask(live_server, question=question).json()["text"]


def test_stream_reports_errors_as_an_event(live_server: str) -> None:
    with httpx.stream(
        "POST", f"{live_server}/api/v1/ask/stream", json={"question": "  "}, timeout=60
    ) as response:
        events = _events(response)
    assert events == [
        ("error", {"error": {"type": "invalid_input", "message": "the question is empty"}})
    ]


def test_openapi_documents_the_api(live_server: str) -> None:
    schema = httpx.get(f"{live_server}/openapi.json", timeout=10).json()
    assert {"/api/v1/ask", "/api/v1/ask/stream"} <= set(schema["paths"])
    assert httpx.get(f"{live_server}/docs", timeout=10).status_code == 200
