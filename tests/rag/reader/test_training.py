"""`app.py train-reader` end to end on a tiny data set made here (a few steps: it proves the
command works; quality is measured by `app.py eval`), and the made "no answer" examples."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from rag.reader.model import Reader, ReaderConfig
from rag.reader.training import (
    Paragraph,
    Question,
    TrainingOptions,
    load_paragraphs,
    make_examples,
    windows,
)
from tests.helpers import run_cli

PARAGRAPHS = [
    (
        "Lighthouses",
        "The Bell Rock Lighthouse stands off the coast of Angus in Scotland. It was built "
        "between 1807 and 1810 by Robert Stevenson. Its light can be seen from 35 miles away.",
        [
            ("Who built the Bell Rock Lighthouse?", "Robert Stevenson"),
            ("How far can its light be seen?", "35 miles"),
        ],
    ),
    (
        "Lighthouses",
        "The Eddystone Lighthouse is on rocks south of Plymouth. The present tower was lit in "
        "1882. Earlier towers on the rocks were lost to fire and storms.",
        [("When was the present Eddystone tower lit?", "1882")],
    ),
    (
        "Rivers",
        "The Danube flows through ten countries. It rises in the Black Forest and ends in the "
        "Black Sea. Vienna and Budapest lie on its banks.",
        [
            ("Where does the Danube rise?", "the Black Forest"),
            ("How many countries does the Danube flow through?", "ten"),
        ],
    ),
    (
        "Rivers",
        "The Rhine rises in the Swiss Alps. It forms part of the border between France and "
        "Germany. It reaches the North Sea in the Netherlands.",
        [("Where does the Rhine reach the North Sea?", "in the Netherlands")],
    ),
]


def _write(folder: Path) -> None:
    """Two files in the data's format: the last is held out."""
    folder.mkdir(parents=True)
    for part, rows in (("1-of-2", PARAGRAPHS), ("2-of-2", PARAGRAPHS[:2])):
        with gzip.open(folder / f"squad-{part}.jsonl.gz", "wt", encoding="utf-8") as out:
            for p, (title, context, qas) in enumerate(rows):
                record = {
                    "title": title,
                    "context": context,
                    "qas": [
                        {
                            "id": f"{part}-{p}-{q}",
                            "question": question,
                            "answers": {"text": [answer], "answer_start": [context.index(answer)]},
                            "start_guessed": False,
                        }
                        for q, (question, answer) in enumerate(qas)
                    ],
                }
                out.write(json.dumps(record) + "\n")


def test_made_examples_label_the_answer_and_make_honest_negatives(tmp_path: Path) -> None:
    _write(tmp_path / "data")
    paragraphs = load_paragraphs(tmp_path / "data" / "squad-1-of-2.jsonl.gz")
    assert [len(p.questions) for p in paragraphs] == [2, 1, 2, 1]
    options = TrainingOptions(
        tmp_path, tmp_path, other_paragraph=1.0, answer_removed=1.0, detail_changed=1.0
    )
    examples = make_examples(paragraphs, options, random.Random(0))
    answers = [e for e in examples if e.answer is not None]
    assert len(answers) == 6
    for example in examples:
        if example.kind in ("other-paragraph", "answer-removed"):
            # a "no answer" pair never holds the answer text
            asked = next(
                q for p in paragraphs for q in p.questions if q.question == example.question
            )
            assert asked.answer.lower() not in example.context.lower()
    kinds = {e.kind for e in examples}
    assert kinds == {"answer", "other-paragraph", "answer-removed", "detail-changed"}
    changed = [e for e in examples if e.kind == "detail-changed"]
    asked = {q.question for p in paragraphs for q in p.questions}
    for example in changed:  # one name or number the paragraph lacks, in an asked question
        assert example.question not in asked
        words = set(example.question.split())
        original = max(asked, key=lambda q: len(words & set(q.split())))
        (new,) = words - set(original.split()) or {""}
        assert new.strip("?").lower() not in example.context.lower()
    other = next(e for e in examples if e.kind == "other-paragraph")
    titles = {p.context: p.title for p in paragraphs}
    asked_in = next(p for p in paragraphs if any(q.question == other.question for q in p.questions))
    assert titles[other.context] == asked_in.title, "a hard negative: the same article"

    from tokenizers import Tokenizer

    from rag.reader.training import _encoder_folder

    tokenizer = Tokenizer.from_file(str(_encoder_folder() / "tokenizer.json"))
    for example in answers:
        (window,) = windows(example, ReaderConfig(), tokenizer)
        said = tokenizer.decode(window.ids[window.start : window.end + 1])
        gold = example.context[example.answer[0] : example.answer[1]]  # type: ignore[index]
        assert said.replace(" ", "") == gold.lower().replace(" ", "")
    # A long passage in short windows: only the window holding the answer points at it.
    long = make_examples(
        [
            Paragraph(
                "t",
                "Filler words here. " * 40 + "The key is under the mat.",
                [Question("q", "Where is the key?", "under the mat", 760, False)],
            )
        ],
        TrainingOptions(tmp_path, tmp_path, other_paragraph=0.0, answer_removed=0.0),
        random.Random(0),
    )
    cut = windows(long[0], ReaderConfig(max_tokens=64, stride=16), tokenizer)
    assert len(cut) > 3
    assert [w.start > 0 for w in cut].count(True) >= 1 and cut[0].start == 0


@pytest.mark.slow
def test_train_reader_command_writes_a_reader_that_loads(tmp_path: Path) -> None:
    _write(tmp_path / "data")
    out = tmp_path / "reader"
    result = run_cli(
        tmp_path / "state",
        "train-reader",
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(out),
        "--max-steps",
        "2",
        "--validation",
        "3",
        "--batch-size",
        "4",
    )
    assert result.returncode == 0, result.stderr
    assert f"reader written to {out}" in result.stdout and "held-out span F1" in result.stdout
    assert "step 2/2" in result.stderr
    summary = json.loads((out / "training.json").read_text())
    assert summary["steps"] == 2 and summary["options"]["seed"] == 0
    assert summary["held_out"]["questions"] == 3
    assert not (out / "checkpoint.pt").exists()
    reader = Reader.load(out)
    (reading,) = reader.read("Who built it?", ["Robert Stevenson built the lighthouse."])
    assert reading is not None and 0 <= reading.start < reading.end <= 38


def test_train_reader_refuses_bad_input(tmp_path: Path) -> None:
    missing = run_cli(tmp_path / "state", "train-reader", "--data", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    (tmp_path / "empty").mkdir()
    steps = run_cli(
        tmp_path / "state", "train-reader", "--data", str(tmp_path / "empty"), "--max-steps", "0"
    )
    assert steps.returncode == 2 and "--max-steps is too small" in steps.stderr
