"""The `eval` command's flow: which evaluations run, what is printed and written."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, get_args

from rag.errors import InputError
from rag.evaluation import SYSTEMS
from rag.evaluation.datasets import (
    IN_DOMAIN,
    QASet,
    load_beir,
    load_everyday,
    load_in_domain,
    load_squad,
)
from rag.evaluation.report import format_table, plot_results, write_json
from rag.settings import PROJECT_ROOT, Settings

__all__ = ["GENERATORS", "EvalOptions", "run_eval"]

GENERATORS = get_args(Settings.model_fields["generator"].annotation)
HALVES = ("calibration", "test")


def in_half(question_id: str, half: str) -> bool:
    """A stable split of a question set into two halves by the hash of each id."""
    first = hashlib.sha256(question_id.encode()).digest()[0] % 2 == 0
    return first if half == "calibration" else not first


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
    everyday: bool = False  # the everyday-documents regression set instead of SQuAD
    dialogues: bool = False  # the multi-turn set over the samples
    half: str | None = None  # SQuAD: only the "calibration" or the "test" half of the questions
    env_file: Path = Path(".env")
    feedback: bool = False
    encoders: tuple[str, ...] = ()
    # Answer with these instead of DOCENT_GENERATOR (`--generator`, `--generators a,b`):
    # several are measured side by side on the same questions and index.
    generators: tuple[str, ...] = ()
    max_false_abstention: float = 0.05  # --calibrate: answerable questions it may refuse

    def check(self) -> None:
        """Refuse bad options before any work is done."""
        if not self.systems:
            raise InputError(f"--systems names none of {', '.join(SYSTEMS)}")
        unknown = sorted(set(self.systems) - set(SYSTEMS))
        if unknown:
            raise InputError(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
        if self.limit is not None and self.limit < 1:
            raise InputError("--limit must be at least 1")
        unknown_generators = sorted(set(self.generators) - set(GENERATORS))
        if unknown_generators:
            raise InputError(
                f"unknown generators {unknown_generators}; choose from {', '.join(GENERATORS)}"
            )
        if len(self.generators) > 1 and (
            self.calibrate or self.feedback or self.encoders or self.beir
        ):
            raise InputError(
                "several generators are compared on answers only (SQuAD, --in-domain, "
                "--everyday, --dialogues)"
            )
        if self.half not in (None, *HALVES):
            raise InputError(f"--half must be one of {', '.join(HALVES)}")
        both = self.calibrate and self.in_domain and self.everyday and not self.dialogues
        if self.in_domain + self.everyday + self.dialogues > 1 and not both:
            raise InputError(
                "choose one of --in-domain, --everyday and --dialogues (--calibrate may take "
                "--in-domain and --everyday together)"
            )
        if not 0 <= self.max_false_abstention < 1:
            raise InputError("--max-false-abstention must be at least 0 and below 1")


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


def _squad(settings: Settings, options: EvalOptions) -> QASet:
    data = load_squad(_folder(options.squad, settings.eval_dir / "squad2", "SQuAD"))
    if options.half:
        data.questions = [q for q in data.questions if in_half(q.id, options.half)]
        data.name = f"{data.name} ({options.half} half)"
    return data


def _qa_set(settings: Settings, options: EvalOptions) -> QASet:
    """The question set answers are measured (or calibrated) on: SQuAD, the everyday set, or
    the in-domain set over the bundled samples and ../shared/corpus (when it is there)."""
    if options.everyday:
        return load_everyday()
    if not options.in_domain:
        return _squad(settings, options)
    samples = settings.samples_dir or PROJECT_ROOT / "samples"
    corpus = settings.eval_dir.parent / "corpus"
    folders = [_folder(samples, samples, "samples"), *([corpus] if corpus.is_dir() else [])]
    if not corpus.is_dir():
        print(f"no {corpus}: the in-domain set runs over the samples only", file=sys.stderr)
    return load_in_domain(IN_DOMAIN, folders)


def _calibrate(settings: Settings, options: EvalOptions) -> int:
    from rag.evaluation.calibrate import calibrate, measure_evidence, write_env
    from rag.evaluation.runner import prepare, progress_bar
    from rag.runtime import load_encoder

    if not (options.in_domain or options.everyday or options.half):
        options = replace(options, half="calibration")  # the test half stays unseen
    sets = (
        [replace(options, everyday=False), replace(options, in_domain=False)]
        if options.in_domain and options.everyday
        else [options]
    )
    encoder = load_encoder(settings)
    points, names = [], []
    for chosen_set in sets:  # each set over its own index
        data = _qa_set(settings, chosen_set)
        questions = data.questions[: options.limit] if options.limit else data.questions
        runtime = prepare(settings, encoder, data.name, data.passages)
        with progress_bar("evidence", len(questions), "q") as advance:
            points += measure_evidence(runtime, questions, advance)
        names.append(data.name)
    chosen = calibrate(points, options.max_false_abstention)
    values = {
        "DOCENT_MIN_EVIDENCE": f"{chosen.min_evidence:.4f}",
        "DOCENT_RELEVANCE_WEIGHT": f"{chosen.relevance_weight:g}",
        "DOCENT_COVERAGE_WEIGHT": f"{chosen.coverage_weight:g}",
    }
    with _writing(options.env_file):
        write_env(options.env_file, values)
    print(
        f"min_evidence = {chosen.min_evidence:.4f}, relevance_weight = "
        f"{chosen.relevance_weight:g}, coverage_weight = {chosen.coverage_weight:g} on "
        f"{' + '.join(names)}: abstains on {chosen.abstention:.1%} of unanswerable and "
        f"{chosen.false_abstention:.1%} of answerable questions ({len(points)} questions); "
        f"written to {options.env_file}\n"
        f"evidence separates answerable from unanswerable with ROC AUC {chosen.separability:.3f}"
    )
    return 0


def _answers_only(settings: Settings, options: EvalOptions) -> int:
    from rag.evaluation.runner import evaluate_qa
    from rag.runtime import load_encoder

    data = _qa_set(settings, options)
    result = evaluate_qa(
        settings, load_encoder(settings), data, [], options.limit, options.generators
    )
    rows = {
        name: {k: v for k, v in row.items() if not k.startswith("gold")}  # no gold passages
        for name, row in result["systems"].items()
    }
    title = (
        f"Answers: {data.name} ({result['questions']} questions, {result['unanswerable']} "
        f"unanswerable; {result['passages']} documents; top {result['top_k']})"
    )
    print(format_table(title, rows))
    default = "everyday.json" if options.everyday else "in_domain.json"
    out = options.out or settings.data_dir / "eval" / default
    with _writing(out):
        write_json(out, result)
    print(f"report: {out}", file=sys.stderr)
    return 0


def _dialogues(settings: Settings, options: EvalOptions) -> int:
    from rag.evaluation.dialogues import load_dialogues, run_dialogues, summarize_dialogues
    from rag.evaluation.runner import prepare, progress_bar
    from rag.runtime import load_encoder, with_generator

    samples = settings.samples_dir or PROJECT_ROOT / "samples"
    data = load_in_domain(IN_DOMAIN, [_folder(samples, samples, "samples")])  # its documents
    dialogues = load_dialogues()
    dialogues = dialogues[: options.limit] if options.limit else dialogues
    indexing = settings.model_copy(update={"generator": "extractive"})
    runtime = prepare(indexing, load_encoder(settings), "samples", data.passages)
    generators = options.generators or (settings.generator,)
    rows: dict[str, dict[str, float]] = {}
    outcomes: dict[str, list[list[dict[str, object]]]] = {}
    for generator in generators:
        answering = with_generator(runtime, generator)
        with progress_bar(f"dialogues ({generator})", len(dialogues), "dialogue") as bar:
            results = run_dialogues(answering, dialogues, bar)
        named = len(generators) > 1
        for part, row in summarize_dialogues(results, settings.top_k).items():
            rows[f"{part} ({generator})" if named else part] = row
        outcomes[generator] = [[o.as_dict() for o in turns] for turns in results]
    title = (
        f"Dialogues: {len(dialogues)} conversations over the samples "
        f"({sum(len(t) for t in results)} turns; answered by {', '.join(generators)})"
    )
    print(format_table(title, rows))
    out = options.out or settings.data_dir / "eval" / "dialogues.json"
    with _writing(out):
        write_json(
            out,
            {
                "dialogues": len(dialogues),
                "generators": list(generators),
                "systems": rows,
                "outcomes": outcomes,
            },
        )
    print(f"report: {out}", file=sys.stderr)
    return 0


def _feedback(settings: Settings) -> int:
    from rag.evaluation.replay import format_replay, replay
    from rag.runtime import build_runtime
    from rag.stores.feedback import FeedbackStore

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
    if len(options.generators) == 1:  # before any runtime: --calibrate refuses non-extractive
        settings = settings.model_copy(update={"generator": options.generators[0]})
    if options.feedback:
        return _feedback(settings)
    if options.encoders:
        return _encoders(settings, options)
    if options.calibrate:
        return _calibrate(settings, options)
    from rag.evaluation.runner import evaluate_qa, evaluate_retrieval

    if options.dialogues:
        return _dialogues(settings, options)
    if options.in_domain or options.everyday:
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
        qa = _squad(settings, replace(options, squad=squad))
        result = evaluate_qa(settings, embeddings, qa, systems, options.limit, options.generators)
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
