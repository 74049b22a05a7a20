"""The Gradio chat's named endpoint, called with `gradio_client` as another program would."""

from __future__ import annotations

from gradio_client import Client


def test_gradio_client_calls_the_named_ask_endpoint(live_server: str) -> None:
    client = Client(live_server, verbose=False)
    assert "/ask" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    chat, *_ = client.predict("How long is the probation period?", [], api_name="/ask")
    question, answer = chat[-2], chat[-1]
    assert question["role"] == "user"
    assert question["content"] == [{"text": "How long is the probation period?", "type": "text"}]
    shown = answer["content"][0]["text"]
    assert (
        answer["role"] == "assistant" and '<strong class="docent-short">6 months</strong>' in shown
    )
    assert "[1]" in answer["content"][0]["text"]
