"""`eval`: metrics on hand-computed cases, then the whole command on tiny hand-made datasets
where every right answer is known, with the real model, Chroma and the LangChain baseline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rag.errors import InputError
from rag.evaluation.calibrate import EvidencePoint, calibrate, choose_threshold, write_env
from rag.evaluation.command import EvalOptions, in_half, run_eval
from rag.evaluation.datasets import IN_DOMAIN, QAQuestion, load_beir, load_everyday, load_in_domain
from rag.evaluation.metrics import contains_answer, exact_match, ranking_scores, token_f1
from rag.reader.evidence import Assessment, Finding
from rag.reader.model import Reading
from tests.helpers import SAMPLES, make_settings
from tests.helpers import run_cli as run


def test_ranking_scores_match_hand_computed_values() -> None:
    qrels = {"q1": {"d1": 1, "d2": 1}, "q2": {"d4": 1}}
    run_ = {"q1": {"d3": 0.9, "d1": 0.8, "d2": 0.7}, "q2": {}}
    ndcg_q1 = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    scores = ranking_scores(qrels, run_)
    assert scores["nDCG@10"] == pytest.approx(ndcg_q1 / 2)  # q2 found nothing: 0
    assert scores["MRR@10"] == pytest.approx(0.25)
    assert scores["R@1"] == 0.0
    assert scores["R@5"] == pytest.approx(0.5)


def test_squad_answer_metrics() -> None:
    assert exact_match("The Norman conquest", ["Norman conquest"]) == 1.0
    assert token_f1("in the year 1066", ["1066"]) == pytest.approx(2 * (1 / 3) / (1 / 3 + 1))
    assert token_f1("nothing alike", ["1066", "Hastings"]) == 0.0
    assert contains_answer("William won at Hastings in 1066 [1].", ["Hastings, 1066", "1066"])
    assert not contains_answer("In 10660 BC.", ["1066"])


def _question(impossible: bool) -> QAQuestion:
    return QAQuestion("q", "?", "p", ("a",), impossible)


def _point(
    impossible: bool, margin: float, relevance: float = 0.5, coverage: float = 1.0
) -> EvidencePoint:
    """A question whose one read passage has this reader margin, cosine and coverage."""
    finding = Finding(1, Reading(0, 1, score=margin, null_score=0.0), relevance, coverage)
    return EvidencePoint(_question(impossible), Assessment([finding]))


def test_threshold_keeps_false_abstention_within_bound() -> None:
    answerable = [0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.42, 0.41, 0.40, 0.30]
    impossible = [0.44, 0.35, 0.33, 0.2]
    points = [_point(False, e) for e in answerable]
    points += [_point(True, e) for e in impossible]
    chosen = choose_threshold(points, max_false_abstention=0.10)
    # Abstaining below 0.35 drops only the answerable 0.30 (10 %) and three unanswerable.
    assert chosen.min_evidence == pytest.approx((0.35 + 0.40) / 2)
    assert chosen.abstention == 0.75 and chosen.false_abstention == 0.10
    # answerable > unanswerable in 34 of 40 pairs (0.42, 0.41, 0.40 lose to 0.44; 0.30 wins once)
    assert chosen.separability == pytest.approx(34 / 40)


def test_calibration_weighs_retrieval_evidence_only_where_it_separates() -> None:
    # The reader's margins cannot tell these apart; the unanswerable questions' passages are
    # less similar to them, or lack words they ask about.
    answerable = [_point(False, 1.0, relevance=0.7) for _ in range(10)]
    unanswerable = [_point(True, 1.0, relevance=0.3) for _ in range(3)]
    unanswerable += [_point(True, 1.0, relevance=0.7, coverage=0.5) for _ in range(2)]
    chosen = calibrate(answerable + unanswerable)
    assert chosen.relevance_weight > 0 and chosen.coverage_weight > 0
    assert chosen.abstention == 1.0 and chosen.false_abstention == 0.0

    plain = calibrate([_point(False, 3.0), _point(True, -2.0)])
    assert (plain.relevance_weight, plain.coverage_weight) == (0.0, 0.0)  # the reader alone
    assert -2.0 < plain.min_evidence < 3.0
    nothing_read = EvidencePoint(_question(True), Assessment([]))
    assert nothing_read.evidence(5.0, 5.0) == -math.inf  # no span anywhere: always refused


def test_write_env_updates_one_line_and_keeps_the_rest(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DOCENT_TOP_K=7\nDOCENT_MIN_EVIDENCE=0.1\n# note\n")
    write_env(env, {"DOCENT_MIN_EVIDENCE": "0.4321"})
    assert env.read_text() == "DOCENT_TOP_K=7\nDOCENT_MIN_EVIDENCE=0.4321\n# note\n"


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


TINY_CORPUS = [
    ("volcano", "Volcanoes", "Magma rises through the crust and erupts as lava from volcanoes."),
    ("bees", "Honey bees", "Honey bees collect nectar from flowers and turn it into honey."),
    ("chess", "Chess openings", "The Sicilian Defence is a popular chess opening for black."),
    ("tides", "Ocean tides", "Tides are caused by the gravitational pull of the moon."),
]


@pytest.fixture
def tiny_beir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-beir"
    _write_jsonl(
        folder / "corpus.jsonl", [{"_id": i, "title": t, "text": x} for i, t, x in TINY_CORPUS]
    )
    _write_jsonl(
        folder / "queries.jsonl",
        [
            {"_id": "1", "text": "How do bees make honey from nectar?"},
            {"_id": "2", "text": "What causes the tides of the ocean?"},
            {"_id": "3", "text": "unjudged query about chess"},
        ],
    )
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n1\tbees\t1\n2\ttides\t1\n"
    )
    return folder


def test_beir_reader_keeps_judged_queries(tiny_beir: Path) -> None:
    data = load_beir(tiny_beir, "test")
    assert [r.id for r in data.corpus] == ["volcano", "bees", "chess", "tides"]
    assert data.queries == {
        "1": "How do bees make honey from nectar?",
        "2": "What causes the tides of the ocean?",
    }
    assert data.qrels == {"1": {"bees": 1}, "2": {"tides": 1}}


@pytest.mark.slow
def test_eval_command_on_tiny_sets(tmp_path: Path, tiny_beir: Path) -> None:
    squad = tmp_path / "tiny-squad"
    _write_jsonl(squad / "passages.jsonl", [{"_id": i, "text": x} for i, _, x in TINY_CORPUS])
    _write_jsonl(
        squad / "questions.jsonl",
        [
            {
                "id": "a1",
                "question": "What do honey bees collect from flowers?",
                "gold_passage": "bees",
                "answers": ["Honey bees collect nectar from flowers and turn it into honey"],
                "is_impossible": False,
            },
            {
                "id": "u1",
                "question": "Who won the football world cup in 1930?",
                "gold_passage": "chess",
                "answers": [],
                "is_impossible": True,
            },
        ],
    )
    out, chart = tmp_path / "report.json", tmp_path / "chart.png"
    result = run(
        tmp_path / "data",
        "eval",
        "--beir",
        str(tiny_beir),
        "--squad",
        str(squad),
        "--out",
        str(out),
        "--plot",
        str(chart),
    )
    assert result.returncode == 0, result.stderr
    assert "Retrieval: tiny-beir/test (4 documents" in result.stdout
    report = json.loads(out.read_text())
    retrieval = report["retrieval"]["systems"]
    assert set(retrieval) == {"bm25", "dense", "hybrid", "langchain"}
    for system, scores in retrieval.items():
        assert scores["nDCG@10"] == 1.0 and scores["MRR@10"] == 1.0, system
        assert scores["R@1"] == 1.0 and scores["R@100"] == 1.0, system
    answers = report["qa"]["systems"]["docent (extractive)"]
    assert answers["gold R@1"] == 1.0 and answers["gold R@5"] == 1.0
    assert answers["EM"] == 1.0 and answers["F1"] == 1.0 and answers["answer in text"] == 1.0
    assert answers["abstention"] == 1.0 and answers["false abstention"] == 0.0
    assert answers["citation precision"] == 1.0 and answers["answer-bearing citations"] == 1.0
    outcomes = {o["id"]: o for o in report["qa"]["outcomes"]}
    assert outcomes["u1"]["abstained"] and outcomes["a1"]["citations"] == 1
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    again = run(tmp_path / "data", "eval", "--beir", str(tiny_beir), "--systems", "hybrid,bm25")
    assert again.returncode == 0, again.stderr
    assert "indexed" not in again.stderr, "the evaluation index is reused"


@pytest.mark.slow
def test_eval_compares_encoder_builds_each_on_its_own_index(
    tmp_path: Path, tiny_beir: Path
) -> None:
    out = tmp_path / "encoders.json"
    result = run(
        tmp_path / "data",
        "eval",
        "--beir",
        str(tiny_beir),
        "--encoders",
        "all-MiniLM-L6-v2,all-MiniLM-L6-v2-int8",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "Encoders on tiny-beir/test" in result.stdout
    rows = json.loads(out.read_text())["encoders"]
    assert set(rows) == {"all-MiniLM-L6-v2", "all-MiniLM-L6-v2-int8"}
    for name, row in rows.items():
        assert row["hybrid nDCG@10"] == 1.0 and row["dense nDCG@10"] == 1.0, name
        assert row["chunks/s"] > 0 and row["query ms"] > 0
    indexes = {p.name for p in (tmp_path / "data" / "eval").glob("docent-tiny-beir-*.db")}
    assert len(indexes) == 2, "one index per encoder"


@pytest.mark.slow
def test_eval_refuses_bad_input(tmp_path: Path) -> None:
    missing = run(tmp_path / "data", "eval", "--beir", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    unknown = run(tmp_path / "data", "eval", "--systems", "bm25,splade")
    assert unknown.returncode == 2 and "unknown systems ['splade']" in unknown.stderr


@pytest.mark.slow
def test_eval_feedback_replays_stored_cases(tmp_path: Path) -> None:
    from rag.answer.types import Answer
    from rag.stores.feedback import Feedback, FeedbackStore
    from rag.stores.schema import open_database

    data = tmp_path / "data"
    assert "no stored feedback" in run(data, "eval", "--feedback").stdout
    question = "How many days of annual leave do full-time staff get?"
    asked = run(data, "ask", question, "--json", DOCENT_SAMPLES_DIR=str(SAMPLES))
    assert asked.returncode == 0, asked.stderr
    answer = Answer.model_validate_json(asked.stdout)
    store = FeedbackStore(open_database(make_settings(data)))
    store.add(Feedback.from_answer(question, answer, "up"))
    store.add(Feedback.from_answer(question, answer, "wrong_source", correction="expenses.md"))

    replayed = run(data, "eval", "--feedback")
    assert replayed.returncode == 1, "one case fails, so the command reports failure"
    assert "1/2 stored cases pass" in replayed.stdout


def test_calibration_refuses_when_no_threshold_fits() -> None:
    from rag.errors import ConfigError

    points = [_point(False, 0.5), _point(True, 0.9)]
    with pytest.raises(ConfigError, match="no threshold keeps false abstention within -1%"):
        choose_threshold(points, max_false_abstention=-0.01)


def test_the_in_domain_set_reads_the_samples() -> None:
    data = load_in_domain(IN_DOMAIN, [SAMPLES])
    assert sorted(p.id for p in data.passages) == sorted(p.name for p in SAMPLES.iterdir())
    answerable = [q for q in data.questions if not q.is_impossible]
    unanswerable = [q for q in data.questions if q.is_impossible]
    assert len(answerable) >= 50 and len(unanswerable) >= 40
    assert all(q.answers for q in answerable) and not any(q.answers for q in unanswerable)
    assert len({q.id for q in data.questions}) == len(data.questions)


def test_the_everyday_set_quotes_its_documents() -> None:
    data = load_everyday()
    assert len(data.passages) >= 5 and len(data.questions) >= 40
    texts = {p.id: " ".join(p.text.split()) for p in data.passages}
    answerable = [q for q in data.questions if not q.is_impossible]
    assert len({q.id for q in data.questions}) == len(data.questions)
    for question in answerable:
        holding = [name for name, text in texts.items() if question.sentence in text]
        assert len(holding) == 1, f"{question.id}: its sentence is in exactly one document"
        assert all(a in question.sentence for a in question.answers), question.id
    assert sum(q.is_impossible for q in data.questions) >= 15


def test_halves_split_a_set_in_two_stably() -> None:
    ids = [f"q{i}" for i in range(400)]
    first = [i for i in ids if in_half(i, "calibration")]
    second = [i for i in ids if in_half(i, "test")]
    assert sorted(first + second) == sorted(ids) and not set(first) & set(second)
    assert 150 < len(first) < 250


def test_eval_options_are_checked() -> None:
    with pytest.raises(InputError, match="--half"):
        run_eval(make_settings(Path("unused")), EvalOptions(half="third"))
    with pytest.raises(InputError, match="one of --in-domain, --everyday and --dialogues"):
        run_eval(make_settings(Path("unused")), EvalOptions(in_domain=True, everyday=True))
    with pytest.raises(InputError, match="unknown generators \\['gpt'\\]"):
        run_eval(make_settings(Path("unused")), EvalOptions(generators=("extractive", "gpt")))
    with pytest.raises(InputError, match="compared on answers only"):
        run_eval(
            make_settings(Path("unused")),
            EvalOptions(generators=("extractive", "openai"), calibrate=True),
        )


@pytest.mark.slow
def test_eval_everyday_reports_the_right_sentence(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", eval_dir=tmp_path / "eval")
    out = tmp_path / "everyday.json"
    assert run_eval(settings, EvalOptions(everyday=True, limit=4, out=out)) == 0
    report = json.loads(out.read_text())
    assert report["dataset"] == "everyday" and report["questions"] == 4
    row = report["systems"]["docent (extractive)"]
    assert {"short EM", "short F1", "right sentence", "answer in text"} <= row.keys()
    outcomes = {o["id"]: o for o in report["outcomes"]}
    assert outcomes["h01"]["right_sentence"] and "25" in outcomes["h01"]["short_answer"]
