"""Training the answerer, the in-domain set, and calibrating abstention over its three knobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import ConfigError, InputError
from rag.evaluation.calibrate import EvidencePoint, calibrate
from rag.evaluation.command import EvalOptions, run_eval
from rag.evaluation.datasets import IN_DOMAIN, QAQuestion, load_in_domain
from rag.generators.answerer_model import load_answerer_model
from tests.helpers import SAMPLES, make_settings

# A tiny SQuAD-style set of our own: each paragraph answers two questions.
PARAGRAPHS = {
    "bees": "Honey bees collect nectar from flowers. A hive holds about 50,000 bees in summer.",
    "tides": "Tides are caused by the moon. Isaac Newton explained them in 1687.",
    "rail": "The first public railway opened in 1825 between Stockton and Darlington.",
    "tea": "Tea reached England in the 1650s. Catherine of Braganza made it fashionable.",
    "salt": "Salt was once used as money by Roman soldiers. Its price rose in winter.",
    "ice": "Glaciers cover about 10 percent of the land. They hold most fresh water.",
}
QUESTIONS = [
    ("q1", "What do honey bees collect from flowers?", "bees", ["nectar"]),
    ("q2", "How many bees does a hive hold in summer?", "bees", ["about 50,000", "50,000"]),
    ("q3", "What causes the tides?", "tides", ["the moon", "moon"]),
    ("q4", "Who explained the tides?", "tides", ["Isaac Newton"]),
    ("q5", "When did the first public railway open?", "rail", ["1825"]),
    ("q6", "When did tea reach England?", "tea", ["the 1650s", "1650s"]),
    ("q7", "Who made tea fashionable?", "tea", ["Catherine of Braganza"]),
    ("q8", "Who used salt as money?", "salt", ["Roman soldiers"]),
    ("q9", "How much of the land do glaciers cover?", "ice", ["about 10 percent", "10 percent"]),
    ("q10", "What do glaciers hold most of?", "ice", ["fresh water"]),
]


@pytest.mark.slow
def test_train_answerer_writes_a_model_that_loads(tmp_path: Path) -> None:
    squad = tmp_path / "squad"
    squad.mkdir()
    (squad / "passages.jsonl").write_text(
        "".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in PARAGRAPHS.items())
    )
    (squad / "questions.jsonl").write_text(
        "".join(
            json.dumps({"id": i, "question": q, "gold_passage": g, "answers": a}) + "\n"
            for i, q, g, a in QUESTIONS
        )
    )
    out = tmp_path / "answerer.json"
    settings = make_settings(tmp_path / "data")
    options = EvalOptions(squad=squad, train_answerer=True, model_out=out)
    assert run_eval(settings, options) == 0
    model = load_answerer_model(out)
    assert model.about["trained_on"].startswith("squad: 10 questions")
    held_out = model.about["cross_validated"]
    assert 0.0 < held_out["best sentence holds an answer"] <= 1.0
    assert model.sentence.weights.any() and model.span.weights.any()


def test_the_in_domain_set_reads_the_samples() -> None:
    data = load_in_domain(IN_DOMAIN, [SAMPLES])
    assert sorted(p.id for p in data.passages) == sorted(p.name for p in SAMPLES.iterdir())
    answerable = [q for q in data.questions if not q.is_impossible]
    unanswerable = [q for q in data.questions if q.is_impossible]
    assert len(answerable) >= 50 and len(unanswerable) >= 40
    assert all(q.answers for q in answerable) and not any(q.answers for q in unanswerable)
    assert len({q.id for q in data.questions}) == len(data.questions)
    assert "How many employees work at Northwind Labs?" in {q.question for q in unanswerable}


def _point(impossible: bool, best: float, coverage: float, type_missing: bool) -> EvidencePoint:
    return EvidencePoint(QAQuestion("q", "?", "", (), impossible), best, coverage, type_missing)


def test_calibration_weighs_coverage_and_type_when_they_separate() -> None:
    # Sentence scores alone cannot tell these apart; the unanswerable questions name words the
    # passages lack, or want a number none of the sentences holds.
    answerable = [_point(False, 0.5, 1.0, False) for _ in range(10)]
    unanswerable = [_point(True, 0.5, 0.5, False) for _ in range(3)]
    unanswerable += [_point(True, 0.5, 1.0, True) for _ in range(2)]
    chosen = calibrate(answerable + unanswerable)
    assert chosen.coverage_weight == 1.0 and chosen.type_mismatch < 1.0
    assert chosen.abstention == 1.0 and chosen.false_abstention == 0.0

    plain = calibrate([_point(False, 0.9, 1.0, False), _point(True, 0.1, 1.0, False)])
    assert (plain.coverage_weight, plain.type_mismatch) == (0.0, 0.0)  # ties: the type check


@pytest.mark.slow
def test_eval_in_domain_reports_short_answers_and_echoes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", eval_dir=tmp_path / "eval")  # no corpus beside
    out = tmp_path / "in-domain.json"
    assert run_eval(settings, EvalOptions(in_domain=True, limit=6, out=out)) == 0
    report = json.loads(out.read_text())
    assert report["dataset"] == "in-domain" and report["questions"] == 6
    row = report["systems"]["docent (extractive)"]
    assert {"short EM", "short F1", "echoes", "answer in text"} <= row.keys()
    assert row["echoes"] == 0.0 and row["short F1"] > 0.0
    shorts = {o["id"]: o["short_answer"] for o in report["outcomes"]}
    assert shorts["a01"] == "26"


def test_calibration_and_training_refuse_another_generator(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    for options in (
        EvalOptions(calibrate=True, generator="openai"),
        EvalOptions(train_answerer=True, generator="llamacpp"),
    ):
        with pytest.raises(ConfigError, match="extractive"):
            run_eval(settings, options)
    with pytest.raises(InputError, match="--generator"):
        run_eval(settings, EvalOptions(generator="gpt"))
