"""Prompt files load strictly and every shipped prompt renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.generators import NOT_FOUND, is_abstention
from rag.answer.prompts import load_prompt
from rag.errors import PromptError
from tests.helpers import ROOT


def test_prompts_load_strictly(tmp_path: Path) -> None:
    prompt = load_prompt(ROOT / "prompts", "answer.v1")
    with pytest.raises(PromptError, match="missing variables \\['not_found', 'passages'\\]"):
        prompt.render(question="q")
    with pytest.raises(PromptError, match="unknown \\['extra'\\]"):
        prompt.render(question="q", passages=[], not_found=NOT_FOUND, extra=1)
    with pytest.raises(PromptError, match="does not exist"):
        load_prompt(ROOT / "prompts", "answer.v999")
    (tmp_path / "bad.v1.yaml").write_text(
        "name: bad\nversion: v1\nvariables: [a]\nsystem: '{{ a }}'\nuser: '{{ b }}'\n"
    )
    with pytest.raises(PromptError, match="'b' is undefined"):
        load_prompt(tmp_path, "bad.v1").render(a=1)


SAMPLE_VALUES = {
    "question": "How many vacation days do I get?",
    "passages": [{"title": "Leave Policy", "location": "leave-policy.md", "text": "26 days."}],
    "not_found": NOT_FOUND,
    "history": [{"role": "user", "content": "Who books trips?"}],
    "likely": {"number": 1, "text": "26 days"},
}


@pytest.mark.parametrize("path", sorted((ROOT / "prompts").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_prompt_loads_and_renders(path: Path) -> None:
    prompt = load_prompt(path.parent, path.name.removesuffix(".yaml"))
    messages = prompt.render(**{name: SAMPLE_VALUES[name] for name in prompt.variables})
    assert [m.type for m in messages] == ["system", "human"]
    rendered = "\n".join(str(m.content) for m in messages)
    assert SAMPLE_VALUES["question"] in rendered
    if prompt.name == "answer":
        assert NOT_FOUND in rendered, "the abstention sentence comes from the code"


def test_abstention_is_recognised_by_the_one_sentence() -> None:
    assert is_abstention(f'Sorry: "{NOT_FOUND}"')
    assert is_abstention(NOT_FOUND.upper())
    assert not is_abstention("The documents say the probation period is six months.")


def test_name_and_version_inside_the_file_must_match_its_name(tmp_path: Path) -> None:
    copied = (ROOT / "prompts" / "answer.v1.yaml").read_text()
    (tmp_path / "answer.v3.yaml").write_text(copied)
    with pytest.raises(PromptError, match=r"says name 'answer', version 'v1'.*answer\.v1\.yaml"):
        load_prompt(tmp_path, "answer.v3")
    with pytest.raises(PromptError, match="is not a prompt id"):
        load_prompt(tmp_path, "../answer.v3")
