"""The `eval` command's flow: which evaluations run, what is printed and written."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from index.embeddings import load_embeddings
from index.errors import ConfigError, InputError
from rag.evaluation.datasets import load_beir, load_squad
from rag.evaluation.report import format_table, plot_results, write_json
from rag.settings import Settings

__all__ = ["run_eval"]


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _folder(given: Path | None, default: Path, what: str) -> Path:
    folder = given or default
    if not folder.is_dir():
        raise InputError(f"{what} folder {folder} does not exist")
    return folder


def _calibrate(settings: Settings, args: argparse.Namespace) -> int:
    from rag.evaluation.calibrate import choose_threshold, measure_evidence, write_env
    from rag.evaluation.runner import prepare, progress_bar

    if settings.generator != "extractive":
        raise ConfigError("calibration tunes the extractive generator: unset DOCENT_GENERATOR")
    data = load_squad(_folder(args.squad, settings.eval_dir / "squad2", "SQuAD"))
    questions = data.questions[: args.limit] if args.limit else data.questions
    embeddings = load_embeddings(settings.embedding_model, settings.embed_batch_size)
    runtime = prepare(settings, embeddings, data.name, data.passages)
    with progress_bar("evidence", len(questions), "q") as to:
        count = iter(range(1, len(questions) + 1))
        points = measure_evidence(runtime, questions, lambda: to(next(count)))
    chosen = choose_threshold(points)
    with _writing(args.env_file):
        write_env(args.env_file, {"DOCENT_MIN_EVIDENCE": f"{chosen.min_evidence:.4f}"})
    print(
        f"min_evidence = {chosen.min_evidence:.4f}: abstains on {chosen.abstention:.1%} of "
        f"unanswerable and {chosen.false_abstention:.1%} of answerable questions "
        f"({len(questions)} questions); written to {args.env_file}\n"
        f"evidence separates answerable from unanswerable with ROC AUC {chosen.separability:.3f}"
    )
    return 0


def _feedback(settings: Settings) -> int:
    from rag.feedback import FeedbackStore, format_replay, replay
    from rag.runtime import build_runtime

    cases = FeedbackStore(settings.feedback_path).all()
    if not cases:
        print(f"no stored feedback in {settings.feedback_path}")
        return 0
    results = replay(cases, build_runtime(settings).assistant)
    print(format_replay(results))
    return 0 if all(r.passed for r in results) else 1


def run_eval(settings: Settings, args: argparse.Namespace, systems: list[str]) -> int:
    if args.feedback:
        return _feedback(settings)
    if args.calibrate:
        return _calibrate(settings, args)
    from rag.evaluation.runner import evaluate_qa, evaluate_retrieval

    both = args.beir is None and args.squad is None
    embeddings = load_embeddings(settings.embedding_model, settings.embed_batch_size)
    results: dict[str, Any] = {
        "settings": settings.model_dump(mode="json", exclude={"openai_api_key"})
    }
    tables: dict[str, dict[str, dict[str, float]]] = {}
    if args.beir or both:
        data = load_beir(_folder(args.beir, settings.eval_dir / "scifact", "BEIR"), args.split)
        if not data.name.endswith(f"/{args.split}"):
            print(f"no '{args.split}' judgments: using {data.name}", file=sys.stderr)
        result = evaluate_retrieval(settings, embeddings, data, systems, args.limit)
        title = (
            f"Retrieval: {result['dataset']} ({result['documents']} documents, "
            f"{result['chunks']} chunks, {result['queries']} queries; "
            "a document scores as its best chunk)"
        )
        tables[title] = result["systems"]
        results["retrieval"] = result
    if args.squad or both:
        qa = load_squad(_folder(args.squad, settings.eval_dir / "squad2", "SQuAD"))
        result = evaluate_qa(settings, embeddings, qa, systems, args.limit)
        title = (
            f"Answers: {result['dataset']} ({result['questions']} questions, "
            f"{result['unanswerable']} unanswerable; {result['passages']} passages; "
            f"top {result['top_k']})"
        )
        tables[title] = result["systems"]
        results["qa"] = result
    for title, rows in tables.items():
        print(format_table(title, rows), end="\n\n")
    out = args.out or settings.data_dir / "eval" / "report.json"
    with _writing(out):
        write_json(out, results)
    print(f"report: {out}", file=sys.stderr)
    if args.plot:
        scores_only = {
            title: {
                n: {k: v for k, v in r.items() if not k.startswith("ms/")} for n, r in rows.items()
            }
            for title, rows in tables.items()
        }
        with _writing(args.plot):
            plot_results(args.plot, scores_only)
        print(f"chart: {args.plot}", file=sys.stderr)
    return 0
