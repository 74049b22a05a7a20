"""The generator seam: the one abstention sentence, and the values the answer prompts get."""

from __future__ import annotations

import pytest

from rag.answer.generators.base import NOT_FOUND, answer_variables, is_abstention, prompt_history
from rag.answer.prompts import load_prompt
from rag.answer.types import Message
from tests.helpers import ROOT

BARE = NOT_FOUND.rstrip(".")


@pytest.mark.parametrize(
    "reply",
    [
        NOT_FOUND,
        NOT_FOUND.upper(),
        BARE,  # no final period
        f'"{NOT_FOUND}"',
        f"“{NOT_FOUND}”",  # curly quotes
        f"{BARE} [1].",  # a citation marker
        f"  {BARE.replace(' ', '  ')}\n",
        f'Sorry: "{NOT_FOUND}"',
        f"I'm sorry, but {NOT_FOUND.lower()}",
        f"Answer: {NOT_FOUND}",
        f"Based on the passages provided, {NOT_FOUND.lower()} Sorry!",
    ],
)
def test_an_abstention_is_recognised_however_a_model_writes_it(reply: str) -> None:
    assert is_abstention(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "The documents say the probation period is six months [1].",
        "The documents do not contain an answer.",  # not the sentence: read as an answer
        # An answer that also carries the sentence says something: it is checked as an answer.
        f"Flights are booked through Meridian Travel [1]. {NOT_FOUND}",
        f"Flights are booked through Meridian Travel. {NOT_FOUND}",
        f"{NOT_FOUND} However, passage [2] says hotel stays are capped at €165 a night.",
        "",
    ],
)
def test_an_answer_is_not_an_abstention(reply: str) -> None:
    assert not is_abstention(reply)


def test_history_loses_markers_of_earlier_answers_and_stays_short() -> None:
    history = [
        Message(role="user", content="Who books  flights [sic]?\nAnd hotels?"),
        Message(role="assistant", content="Meridian Travel books them [1][2]. Hotels too [3, 4]."),
        Message(role="assistant", content="word " * 400),
    ]
    user, answer, long = prompt_history(history)
    assert user == {"role": "user", "content": "Who books flights [sic]? And hotels?"}
    assert answer == {"role": "assistant", "content": "Meridian Travel books them. Hotels too."}
    assert len(long["content"]) <= 602 and long["content"].endswith("word …")


def test_history_goes_only_to_prompts_that_declare_it() -> None:
    turns = prompt_history([Message(role="user", content="Who books flights?")])
    for version, declared in [("v1", False), ("v2", False), ("v3", True), ("v4", True)]:
        prompt = load_prompt(ROOT / "prompts", f"answer.{version}")
        values = answer_variables(prompt.variables, "What is their phone number?", [], turns)
        assert ("history" in values) is declared
        rendered = "\n".join(m.text for m in prompt.render(**values))
        assert ("User: Who books flights?" in rendered) is declared
        assert NOT_FOUND in rendered


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_the_conversation_block_comes_before_the_passages_and_only_when_there_is_one(
    version: str,
) -> None:
    prompt = load_prompt(ROOT / "prompts", f"answer.{version}")
    passages = [{"title": "Travel", "location": "travel-policy.pdf, page 2", "text": "Meridian."}]
    turns = prompt_history(
        [
            Message(role="user", content="Who books flights?"),
            Message(role="assistant", content="Meridian Travel [1]."),
        ]
    )
    _, user = prompt.render(**answer_variables(prompt.variables, "Phone?", passages, turns))
    text = user.text
    assert text.index("User: Who books flights?") < text.index("Docent: Meridian Travel.")
    assert text.index("Docent: Meridian Travel.") < text.index("Meridian.") < text.index("Phone?")
    assert "context only" in text
    _, alone = prompt.render(**answer_variables(prompt.variables, "Phone?", passages, []))
    assert "context only" not in alone.text and "User:" not in alone.text
