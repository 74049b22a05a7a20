"""The multi-turn set (`sets/dialogues.jsonl`): conversations over the bundled samples whose
later turns depend on the earlier ones ("And after 5 years?", "and for contractors?", a change
of topic). Each dialogue is asked turn by turn with Docent's own earlier answers as the
history, as in the chat; every turn is scored like a single question (`answers.outcome`), and
first turns and follow-ups are reported apart."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer.types import Message
from rag.errors import InputError
from rag.evaluation.answers import QAOutcome, outcome, summarize_qa
from rag.evaluation.datasets import QAQuestion
from rag.runtime import Runtime

__all__ = ["DIALOGUES", "Dialogue", "load_dialogues", "run_dialogues", "summarize_dialogues"]

DIALOGUES = Path(__file__).with_name("sets") / "dialogues.jsonl"


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: list[QAQuestion]  # in order; ids "<dialogue>.<turn>"


def _turn(dialogue: str, number: int, row: Any, path: Path) -> QAQuestion:
    if not isinstance(row, dict) or not isinstance(row.get("question"), str):
        raise InputError(f"{path}: turn {number} of {dialogue} has no question")
    impossible = bool(row.get("impossible", False))
    answers = tuple(str(a) for a in row.get("answers", []))
    if not impossible and not answers:
        raise InputError(f"{path}: turn {number} of {dialogue} has neither answers nor impossible")
    return QAQuestion(f"{dialogue}.{number}", row["question"], "", answers, impossible)


def load_dialogues(path: Path = DIALOGUES) -> list[Dialogue]:
    dialogues = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number} is not JSON ({exc.msg})") from exc
        turns = row.get("turns") if isinstance(row, dict) else None
        if not isinstance(turns, list) or not turns:
            raise InputError(f"{path}:{number} has no turns")
        name = str(row.get("id", number))
        dialogues.append(
            Dialogue(name, [_turn(name, t, turn, path) for t, turn in enumerate(turns, 1)])
        )
    return dialogues


def run_dialogues(
    runtime: Runtime, dialogues: Sequence[Dialogue], progress: Callable[[], None] | None = None
) -> list[list[QAOutcome]]:
    """Every dialogue asked turn by turn, each turn with the conversation so far."""
    results = []
    for dialogue in dialogues:
        history: list[Message] = []
        outcomes = []
        for turn in dialogue.turns:
            answer = runtime.assistant.answer(turn.question, history)
            outcomes.append(outcome(turn, answer))
            history += [
                Message(role="user", content=turn.question),
                Message(role="assistant", content=answer.text),
            ]
        results.append(outcomes)
        if progress:
            progress()
    return results


def summarize_dialogues(results: Sequence[Sequence[QAOutcome]], k: int) -> dict[str, Any]:
    """The single-question measures over first turns and over follow-ups."""
    first = [turns[0] for turns in results]
    later = [o for turns in results for o in turns[1:]]
    keep = (
        "short EM",
        "short F1",
        "answer in text",
        "abstention",
        "false abstention",
        "model-written",
    )
    rows = {}
    for name, outcomes in (("first turns", first), ("follow-ups", later)):
        summary = summarize_qa(outcomes, k)
        rows[name] = {
            "turns": float(len(outcomes)),
            **{key: summary[key] for key in keep if key in summary},
        }
    return rows
