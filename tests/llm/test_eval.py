"""`app.py eval --generator openai` measures any OpenAI-compatible endpoint: here llama.cpp's
server, on a two-question SQuAD-style set made from the samples' facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.llm

PASSAGES = [
    {
        "_id": "leave",
        "title": "Leave policy",
        "text": "Every full-time employee receives 26 days of paid annual leave per calendar "
        "year, in addition to public holidays. You may carry over a maximum of 5 unused days.",
    },
    {
        "_id": "mileage",
        "title": "Expenses",
        "text": "Employees who drive their own car for work are reimbursed €0.36 per km. "
        "Parking and tolls are reimbursed at cost with a receipt.",
    },
]
QUESTIONS = [
    {
        "id": "a1",
        "question": "How many days of paid annual leave does a full-time employee get?",
        "gold_passage": "leave",
        "answers": ["26 days", "26"],
        "is_impossible": False,
    },
    {
        "id": "u1",
        "question": "How many days of paid leave does a contractor get for moving house?",
        "gold_passage": "leave",
        "answers": [],
        "is_impossible": True,
    },
]


def test_eval_measures_an_openai_compatible_endpoint(
    tmp_path: Path, llm_env: dict[str, str]
) -> None:
    squad = tmp_path / "tiny-squad"
    squad.mkdir()
    for name, rows in (("passages", PASSAGES), ("questions", QUESTIONS)):
        lines = (json.dumps(row, ensure_ascii=False) for row in rows)
        (squad / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    result = run_cli(
        tmp_path / "data",
        *("eval", "--squad", str(squad), "--systems", "hybrid", "--generator", "openai"),
        *("--out", str(out)),
        # the endpoint comes from the environment; --generator overrides DOCENT_GENERATOR
        **{**llm_env, "DOCENT_GENERATOR": "extractive"},
    )
    assert result.returncode == 0, result.stderr
    assert "docent (openai)" in result.stdout
    report = json.loads(out.read_text())
    assert report["settings"]["generator"] == "openai"
    answers = report["qa"]["systems"]["docent (openai)"]
    assert answers["gold R@1"] == 1.0 and 0.0 <= answers["F1"] <= 1.0
    outcomes = report["qa"]["outcomes"]
    assert [o["id"] for o in outcomes] == ["a1", "u1"]
