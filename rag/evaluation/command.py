"""The `eval` command's flow: which evaluations run, what is printed and written."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from rag.errors import ConfigError, InputError
from rag.evaluation import SYSTEMS
from rag.evaluation.datasets import IN_DOMAIN, QASet, load_beir, load_in_domain, load_squad
from rag.evaluation.report import format_table, plot_results, write_json
from rag.settings import PROJECT_ROOT, Settings

__all__ = ["GENERATORS", "EvalOptions", "run_eval"]

GENERATORS = get_args(Settings.model_fields["generator"].annotation)


@dataclass(frozen=True)
class EvalOptions:
    """What `app.py eval` was asked to do (None: the default folder under `eval_dir`)."""

    beir: Path | None = None
    split: str = "test"
    squad: Path | None = None
    systems: tuple[str, ...] = SYSTEMS
    limit: int | None = None
    out: Path | None = None
    plot: Path | None = None
    calibrate: bool = False
    in_domain: bool = False  # the bundled in-domain set instead of SQuAD (answers, calibration)
    train_answerer: bool = False
    model_out: Path | None = None  # None: the shipped answerer.v1.json
    env_file: Path = Path(".env")
    feedback: bool = False
    encoders: tuple[str, ...] = ()
    generator: str | None = None  # overrides DOCENT_GENERATOR (`--generator`)

    def check(self) -> None:
        """Refuse bad options before any work is done."""
        if not self.systems:
            raise InputError(f"--systems names none of {', '.join(SYSTEMS)}")
        unknown = sorted(set(self.systems) - set(SYSTEMS))
        if unknown:
            raise InputError(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
        if self.limit is not None and self.limit < 1:
            raise InputError("--limit must be at least 1")
        if self.generator not in (None, *GENERATORS):
            raise InputError(f"--generator must be one of {', '.join(GENERATORS)}")


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


def _extractive_only(settings: Settings, what: str) -> None:
    if settings.generator != "extractive":
        raise ConfigError(
            f"{what} the extractive generator: unset DOCENT_GENERATOR and --generator"
        )


def _qa_set(settings: Settings, options: EvalOptions) -> QASet:
    """The question set answers are measured (or calibrated) on: SQuAD, or the in-domain set
    over the bundled samples and ../shared/corpus (when it is there)."""
    if not options.in_domain:
        return load_squad(_folder(options.squad, settings.eval_dir / "squad2", "SQuAD"))
    samples = settings.samples_dir or PROJECT_ROOT / "samples"
    corpus = settings.eval_dir.parent / "corpus"
    folders = [_folder(samples, samples, "samples"), *([corpus] if corpus.is_dir() else [])]
    if not corpus.is_dir():
        print(f"no {corpus}: the in-domain set runs over the samples only", file=sys.stderr)
    return load_in_domain(IN_DOMAIN, folders)


def _calibrate(settings: Settings, options: EvalOptions) -> int:
    from rag.evaluation.calibrate import calibrate, measure_evidence, write_env
    from rag.evaluation.runner import prepare, progress_bar

    _extractive_only(settings, "calibration tunes")
    data = _qa_set(settings, options)
    questions = data.questions[: options.limit] if options.limit else data.questions
    from rag.runtime import load_encoder

    embeddings = load_encoder(settings)
    runtime = prepare(settings, embeddings, data.name, data.passages)
    with progress_bar("evidence", len(questions), "q") as advance:
        points = measure_evidence(runtime, questions, advance)
    chosen = calibrate(points)
    values = {
        "DOCENT_MIN_EVIDENCE": f"{chosen.min_evidence:.6f}",
        "DOCENT_COVERAGE_WEIGHT": f"{chosen.coverage_weight:g}",
        "DOCENT_TYPE_MISMATCH": f"{chosen.type_mismatch:g}",
    }
    with _writing(options.env_file):
        write_env(options.env_file, values)
    print(
        f"min_evidence = {chosen.min_evidence:.4f}, coverage_weight = {chosen.coverage_weight:g}"
        f", type_mismatch = {chosen.type_mismatch:g} on {data.name}: abstains on "
        f"{chosen.abstention:.1%} of "
        f"unanswerable and {chosen.false_abstention:.1%} of answerable questions "
        f"({len(questions)} questions); written to {options.env_file}\n"
        f"evidence separates answerable from unanswerable with ROC AUC {chosen.separability:.3f}"
    )
    return 0


def _train_answerer(settings: Settings, options: EvalOptions) -> int:
    from rag.evaluation.runner import prepare, progress_bar
    from rag.evaluation.training import collect_examples, fit_answerer
    from rag.generators.answerer_model import DEFAULT_MODEL_PATH, untrained
    from rag.runtime import load_encoder

    _extractive_only(settings, "training fits")
    data = load_squad(_folder(options.squad, settings.eval_dir / "squad2", "SQuAD"))
    questions = data.questions[: options.limit] if options.limit else data.questions
    # Features only: the weights in use do not matter (and may be stale).
    runtime = prepare(
        settings, load_encoder(settings), data.name, data.passages, answerer=untrained()
    )
    with progress_bar("candidates", len(questions), "q") as advance:
        sentences, spans = collect_examples(runtime, questions, advance)
    model, held_out = fit_answerer(sentences, spans, data.name, len(questions))
    out = options.model_out or DEFAULT_MODEL_PATH
    with _writing(out):
        model.save(out)
    print(format_table("Answerer, five-fold cross-validated", {"held out": held_out}))
    print(f"{model.about['trained_on']}; written to {out}")
    return 0


def _answers_only(settings: Settings, options: EvalOptions) -> int:
    from rag.evaluation.runner import evaluate_qa
    from rag.runtime import load_encoder

    data = _qa_set(settings, options)
    result = evaluate_qa(settings, load_encoder(settings), data, [], options.limit)
    rows = {
        name: {k: v for k, v in row.items() if not k.startswith("gold")}  # no gold passages
        for name, row in result["systems"].items()
    }
    title = (
        f"Answers: {data.name} ({result['questions']} questions, {result['unanswerable']} "
        f"unanswerable; {result['passages']} documents; top {result['top_k']})"
    )
    print(format_table(title, rows))
    out = options.out or settings.data_dir / "eval" / "in_domain.json"
    with _writing(out):
        write_json(out, result)
    print(f"report: {out}", file=sys.stderr)
    return 0


def _feedback(settings: Settings) -> int:
    from rag.evaluation.replay import format_replay, replay
    from rag.feedback import FeedbackStore
    from rag.runtime import build_runtime

    runtime = build_runtime(settings)
    cases = FeedbackStore(runtime.database).all()
    if not cases:
        print("no stored feedback")
        return 0
    results = replay(cases, runtime.assistant)
    print(format_replay(results))
    return 0 if all(r.passed for r in results) else 1


def _encoders(settings: Settings, options: EvalOptions) -> int:
    from rag.evaluation.runner import compare_encoders

    data = load_beir(_folder(options.beir, settings.eval_dir / "scifact", "BEIR"), options.split)
    rows = compare_encoders(settings, data, options.encoders, options.limit)
    title = f"Encoders on {data.name} ({len(data.corpus)} documents; each its own index)"
    print(format_table(title, rows))
    out = options.out or settings.data_dir / "eval" / "encoders.json"
    with _writing(out):
        write_json(out, {"dataset": data.name, "encoders": rows})
    print(f"report: {out}", file=sys.stderr)
    return 0


def run_eval(settings: Settings, options: EvalOptions) -> int:
    options.check()
    if options.generator:  # before any runtime is built; --calibrate then refuses non-extractive
        settings = settings.model_copy(update={"generator": options.generator})
    if options.feedback:
        return _feedback(settings)
    if options.encoders:
        return _encoders(settings, options)
    if options.train_answerer:
        return _train_answerer(settings, options)
    if options.calibrate:
        return _calibrate(settings, options)
    from rag.evaluation.runner import evaluate_qa, evaluate_retrieval

    if options.in_domain:
        return _answers_only(settings, options)
    both = options.beir is None and options.squad is None
    beir = (
        _folder(options.beir, settings.eval_dir / "scifact", "BEIR")
        if options.beir or both
        else None
    )
    squad = (
        _folder(options.squad, settings.eval_dir / "squad2", "SQuAD")
        if options.squad or both
        else None
    )
    systems = list(options.systems)
    from rag.runtime import load_encoder

    embeddings = load_encoder(settings)
    results: dict[str, Any] = {
        "settings": settings.model_dump(mode="json", exclude={"openai_api_key"})
    }
    tables: dict[str, dict[str, dict[str, float]]] = {}
    if beir:
        data = load_beir(beir, options.split)
        if not data.name.endswith(f"/{options.split}"):
            print(f"no '{options.split}' judgments: using {data.name}", file=sys.stderr)
        result = evaluate_retrieval(settings, embeddings, data, systems, options.limit)
        title = (
            f"Retrieval: {result['dataset']} ({result['documents']} documents, "
            f"{result['chunks']} chunks, {result['queries']} queries; "
            "a document scores as its best chunk)"
        )
        tables[title] = result["systems"]
        results["retrieval"] = result
    if squad:
        qa = load_squad(squad)
        result = evaluate_qa(settings, embeddings, qa, systems, options.limit)
        title = (
            f"Answers: {result['dataset']} ({result['questions']} questions, "
            f"{result['unanswerable']} unanswerable; {result['passages']} passages; "
            f"top {result['top_k']})"
        )
        tables[title] = result["systems"]
        results["qa"] = result
    for title, rows in tables.items():
        print(format_table(title, rows), end="\n\n")
    out = options.out or settings.data_dir / "eval" / "report.json"
    with _writing(out):
        write_json(out, results)
    print(f"report: {out}", file=sys.stderr)
    if options.plot:
        scores_only = {
            title: {
                n: {k: v for k, v in r.items() if not k.startswith("ms/")} for n, r in rows.items()
            }
            for title, rows in tables.items()
        }
        with _writing(options.plot):
            plot_results(options.plot, scores_only)
        print(f"chart: {options.plot}", file=sys.stderr)
    return 0
