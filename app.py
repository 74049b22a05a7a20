"""Docent's entry point and composition root: the command line.

    python app.py [serve]      serve the chat UI and the HTTP API (the default)
    python app.py ingest PATH  add or update documents
    python app.py ask "…"      answer one question
    python app.py eval         measure retrieval and answers against baselines
    python app.py apikey create NAME
    python app.py worker       run queued ingestion jobs (several may run, anywhere)
    python app.py train-reader train the extractive reader (models/reader-v1)
    python app.py backup DEST  back up the whole install, consistent while it serves
    python app.py restore SRC  restore a backup into an empty install

`Settings` are built once here and passed down; errors become one line and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from rag.errors import ConfigError, DocentError, InputError
from rag.evaluation import SYSTEMS
from rag.evaluation.command import GENERATORS, HALVES
from rag.logs import configure_logging
from rag.settings import Settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="app.py", description="Docent: cited answers from your documents."
    )
    commands = parser.add_subparsers(dest="command")
    ingest = commands.add_parser("ingest", help="add or update documents in the index")
    ingest.add_argument("paths", nargs="+", type=Path, help="files or folders")
    ingest.add_argument(
        "--prune", action="store_true", help="remove documents whose files are gone"
    )
    ingest.add_argument("--rebuild", action="store_true", help="drop the collection and index anew")
    ingest.add_argument("--collection", help="the collection to index into (default: 'default')")
    ingest.add_argument(
        "--watch",
        action="store_true",
        help="keep the folder in sync (new, changed, deleted files) until stopped",
    )
    ingest.add_argument(
        "--poll", action="store_true", help="with --watch: poll (a network share sends no events)"
    )
    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    ask.add_argument("--source", action="append", help="only search this document (repeatable)")
    evaluate = commands.add_parser(
        "eval", help="measure retrieval (BEIR) and answers (SQuAD-style) against baselines"
    )
    evaluate.add_argument("--beir", type=Path, help="BEIR folder (default: <eval_dir>/scifact)")
    evaluate.add_argument(
        "--split", default="test", help="qrels split (default test, else the only one)"
    )
    evaluate.add_argument("--squad", type=Path, help="SQuAD folder (default: <eval_dir>/squad2)")
    evaluate.add_argument(
        "--systems", default=",".join(SYSTEMS), help=f"comma-separated, of {', '.join(SYSTEMS)}"
    )
    evaluate.add_argument("--limit", type=int, help="only the first N queries / questions")
    evaluate.add_argument(
        "--out", type=Path, help="JSON report (default: <data_dir>/eval/report.json)"
    )
    evaluate.add_argument("--plot", type=Path, help="also write a PNG bar chart here")
    evaluate.add_argument(
        "--calibrate",
        action="store_true",
        help="choose the refusal settings (DOCENT_MIN_EVIDENCE, …) on the SQuAD data",
    )
    evaluate.add_argument(
        "--env-file", type=Path, default=Path(".env"), help="where --calibrate writes"
    )
    evaluate.add_argument(
        "--max-false-abstention",
        type=float,
        default=0.05,
        help="--calibrate: the share of answerable questions it may refuse (default 0.05)",
    )
    evaluate.add_argument(
        "--in-domain",
        action="store_true",
        help="answers (and --calibrate) on Docent's in-domain set over the samples and "
        "../shared/corpus instead of SQuAD (--calibrate --in-domain --everyday: both sets)",
    )
    evaluate.add_argument(
        "--everyday",
        action="store_true",
        help="answers (and --calibrate) on the everyday-documents regression set",
    )
    evaluate.add_argument(
        "--dialogues",
        action="store_true",
        help="the multi-turn set over the samples: first turns and follow-ups",
    )
    evaluate.add_argument(
        "--half",
        choices=HALVES,
        help="SQuAD: only half of the questions (--calibrate uses the calibration half; "
        "report the test half)",
    )
    evaluate.add_argument(
        "--feedback", action="store_true", help="replay stored user feedback as regression cases"
    )
    evaluate.add_argument(
        "--encoders",
        help="compare encoder builds on the BEIR set (comma-separated, e.g. "
        "all-MiniLM-L6-v2,all-MiniLM-L6-v2-int8): speed and nDCG@10, each over its own index",
    )
    evaluate.add_argument(
        "--generator",
        choices=GENERATORS,
        help="answer with this generator instead of DOCENT_GENERATOR (openai: the endpoint of "
        "DOCENT_OPENAI_BASE_URL)",
    )
    evaluate.add_argument(
        "--generators",
        help="compare generators side by side on the same questions and index "
        f"(comma-separated, of {', '.join(GENERATORS)}; e.g. extractive,llamacpp)",
    )
    apikey = commands.add_parser("apikey", help="create an API key for the HTTP API")
    apikey.add_argument("action", choices=["create"])
    apikey.add_argument("name", help="who the key is for (a new key replaces an older one)")
    serve = commands.add_parser("serve", help="serve the chat UI and API (default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers", type=int, default=1, help="API processes (more than one share a Chroma server)"
    )
    commands.add_parser("worker", help="run queued ingestion jobs until stopped")
    backup = commands.add_parser(
        "backup", help="back up the database, the chunks and the uploaded documents"
    )
    backup.add_argument("destination", type=Path, help="a new (or empty) folder")
    restore = commands.add_parser("restore", help="restore a backup into an empty install")
    restore.add_argument("source", type=Path, help="the backup folder")
    restore.add_argument(
        "--force", action="store_true", help="replace the data this install already holds"
    )
    reindex = commands.add_parser(
        "reindex",
        help="switch the index to another embedding model while serving (built beside it)",
    )
    choice = reindex.add_mutually_exclusive_group()
    choice.add_argument(
        "--model",
        help="all-MiniLM-L6-v2, all-MiniLM-L6-v2-int8 or a folder (model.onnx + "
        "tokenizer.json) at the same path on every node",
    )
    choice.add_argument(
        "--rollback", action="store_true", help="switch back to the collection kept by a switch"
    )
    reindex.add_argument(
        "--drop-old", action="store_true", help="then delete the collections switches kept"
    )
    train = commands.add_parser(
        "train-reader",
        help="train the extractive reader on SQuAD v1.1 (../shared/qa-train) and export it",
    )
    train.add_argument(
        "--data", type=Path, help="the *.jsonl.gz files (default: ../shared/qa-train)"
    )
    train.add_argument(
        "--out", type=Path, help="the model folder to write (default: models/reader-v1)"
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--questions", type=int, default=22000, help="training questions (of ~58k; 0: all)"
    )
    train.add_argument("--epochs", type=float, default=1.0)
    train.add_argument("--max-steps", type=int, help="stop after N steps (a smoke run)")
    train.add_argument(
        "--validation", type=int, default=1000, help="held-out questions for the figures"
    )
    train.add_argument("--threads", type=int, default=2, help="CPU threads for PyTorch")
    train.add_argument("--batch-size", type=int, default=32, help="windows per training step")
    return parser


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from index.ingest import IngestProgress
    from index.store import ChunkStore
    from index.types import DEFAULT_COLLECTION
    from rag.runtime import build_runtime

    collection = args.collection or DEFAULT_COLLECTION
    if args.watch:
        if args.rebuild or args.prune:
            raise InputError("--watch keeps the folder in sync itself: drop --rebuild and --prune")
        return _watch(settings, args.paths, collection, args.poll)
    if args.poll:
        raise InputError("--poll goes with --watch")
    if args.rebuild:
        ChunkStore.drop(settings.chroma_dir, settings.collection, settings.chroma_url)
    runtime = build_runtime(settings)
    with tqdm(unit="file", disable=None, file=sys.stderr) as bar:

        def progress(status: IngestProgress) -> None:
            bar.total = status.files_total
            bar.set_postfix_str(status.describe()[-60:], refresh=False)
            bar.update(status.fraction_done - bar.n)  # a long PDF moves the bar page by page

        if args.rebuild:
            report = runtime.ingestor.rebuild(args.paths, progress, collection)
        else:
            report = runtime.ingestor.ingest(
                args.paths, prune=args.prune, progress=progress, collection=collection
            )
    for path, reason in report.failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed and not report.changed and not report.unchanged else 0


def _watch(settings: Settings, paths: list[Path], collection: str, poll: bool) -> int:
    """Index the folder, then every change to it, until Ctrl-C or SIGTERM; a batch of changes
    is one job of the queue, run here (and by any other worker)."""
    import signal
    import threading

    from rag.jobs.queue import Job
    from rag.jobs.watch import FolderWatch
    from rag.jobs.worker import Worker
    from rag.runtime import build_runtime

    if len(paths) != 1 or not paths[0].is_dir():
        raise InputError("--watch takes one folder")
    runtime = build_runtime(settings)
    runtime.ingestor.resume()  # deletions a crash interrupted
    queue = runtime.stores.jobs
    worker = Worker(runtime, queue)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def run(job: Job) -> None:
        while worker.run_one():
            pass
        done = queue.get(job.id)
        if done is None or done.status not in ("done", "failed"):
            print(f"job {job.id}: {len(job.items)} files queued for another worker", flush=True)
        elif done.status == "failed":
            print(f"job {job.id} failed: {done.error}", file=sys.stderr, flush=True)
        else:
            for failure in done.result.get("failed", []):
                print(f"failed: {failure['name']}: {failure['reason']}", file=sys.stderr)
            print(done.result["summary"], flush=True)

    folder = FolderWatch(paths[0], collection, queue, runtime.ingestor.manifest)
    print(f"watching {paths[0]} (Ctrl-C stops)", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        folder.run(stop, run, poll=poll)
    return 0


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from index.types import Scope
    from rag.answer.named_documents import resolve_documents
    from rag.answer.sources import describe_location
    from rag.runtime import build_runtime

    runtime = build_runtime(settings)
    runtime.ensure_samples()
    documents = resolve_documents(runtime.manifest, args.source) if args.source else None
    # The command line keeps no conversation; a refusal is recorded for the coverage gaps.
    reply = runtime.chat.ask("cli", args.question, scope=Scope.of(documents=documents))
    answer = reply.answer
    if args.json:
        print(answer.model_dump_json(indent=2))
        return 0
    print(answer.text)
    if answer.citations:
        print("\nSources:")
    for citation in answer.citations:
        where = describe_location(citation.name, citation.page)
        print(f"[{citation.n}] {citation.title} ({where}, chars {citation.start}-{citation.end})")
        for start, end in citation.highlights:
            print(f'    "{citation.passage[start:end]}"')
    return 0


def _generators(args: argparse.Namespace) -> tuple[str, ...]:
    listed = tuple(g.strip() for g in (args.generators or "").split(",") if g.strip())
    if args.generator and listed:
        raise InputError("give --generator or --generators, not both")
    return (args.generator,) if args.generator else tuple(dict.fromkeys(listed))


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    from rag.evaluation.command import EvalOptions, run_eval

    options = EvalOptions(
        beir=args.beir,
        split=args.split,
        squad=args.squad,
        systems=tuple(s.strip() for s in args.systems.split(",") if s.strip()),
        limit=args.limit,
        out=args.out,
        plot=args.plot,
        calibrate=args.calibrate,
        in_domain=args.in_domain,
        everyday=args.everyday,
        dialogues=args.dialogues,
        half=args.half,
        env_file=args.env_file,
        feedback=args.feedback,
        encoders=tuple(e.strip() for e in (args.encoders or "").split(",") if e.strip()),
        generators=_generators(args),
        max_false_abstention=args.max_false_abstention,
    )
    return run_eval(settings, options)


def _train_reader(settings: Settings, args: argparse.Namespace) -> int:
    from rag.reader.training import TrainingOptions, train_reader
    from rag.settings import PROJECT_ROOT

    data = args.data or settings.eval_dir.parent / "qa-train"
    out = args.out or PROJECT_ROOT / "models" / "reader-v1"
    if not data.is_dir():
        raise InputError(f"the training data folder {data} does not exist")
    for name in ("questions", "epochs", "max_steps", "validation", "threads", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "questions" else 1):
            raise InputError(f"--{name.replace('_', '-')} is too small: {value}")
    options = TrainingOptions(
        data=data,
        out=out,
        seed=args.seed,
        max_questions=args.questions or None,
        validation_questions=args.validation,
        epochs=args.epochs,
        max_steps=args.max_steps,
        threads=args.threads,
        batch_size=args.batch_size,
    )
    summary = train_reader(options, progress=lambda line: print(line, file=sys.stderr))
    figures = summary["held_out"]
    print(
        f"reader written to {out}: held-out span F1 {figures['f1']:.3f}, EM "
        f"{figures['exact_match']:.3f} on {figures['questions']} questions; made no-answer "
        f"pairs refused {figures['refused_when_unanswerable']:.1%}"
    )
    return 0


def _apikey(settings: Settings, args: argparse.Namespace) -> int:
    from rag.stores.credentials import ApiKeys
    from rag.stores.schema import open_database

    key = ApiKeys(open_database(settings)).create(args.name)
    print(key)
    print(f"API key for {args.name!r}: shown once, stored as a sha256", file=sys.stderr)
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from rag.runtime import build_runtime
    from rag.stores.schema import open_database
    from rag.web.app import check_exposure, serve, serve_workers

    if args.workers < 1:
        raise InputError("--workers must be at least 1")
    settings = settings.model_copy(
        update={"host": args.host or settings.host, "port": args.port or settings.port}
    )
    # Before the model loads: refuse an open install on the network.
    check_exposure(settings, open_database(settings))
    print(f"Docent is serving on http://{settings.host}:{settings.port}")
    if args.workers > 1:
        serve_workers(settings, args.workers)
        return 0
    runtime = build_runtime(settings)
    if settings.run_jobs and not runtime.store.can_write():  # embedded: be its one writer now
        print(
            "warning: another process writes to the store; jobs fail until it ends", file=sys.stderr
        )
    if report := runtime.ensure_samples():
        print(f"indexed samples: {report.summary()}")
    serve(runtime)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    import signal
    import threading

    from rag.jobs.worker import Worker
    from rag.runtime import build_runtime

    if not settings.chroma_url:
        raise ConfigError(
            "workers write to a Chroma server that every API process reads: set "
            "DOCENT_CHROMA_URL (with the embedded store, `serve` runs jobs itself)"
        )
    runtime = build_runtime(settings, answers=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = Worker(runtime, runtime.stores.jobs)
    print(f"worker {worker.name} is running jobs", file=sys.stderr)
    jobs = threading.Thread(target=worker.run, args=(stop,), name="docent-jobs", daemon=True)
    jobs.start()
    try:
        while jobs.is_alive() and not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        stop.set()
    stop.set()
    handed_back = worker.stop(jobs, settings.shutdown_grace_seconds)
    if handed_back is not None:
        print(f"worker stopped: job {handed_back} handed back to the queue", file=sys.stderr)
        sys.stderr.flush()
        os._exit(0)  # its ingest thread stops here, as a kill would stop it (crash-safe)
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from rag.operations.backup import backup

    manifest = backup(settings, args.destination, lambda line: print(line, file=sys.stderr))
    size = sum(entry.bytes for entry in manifest.files.values())
    print(
        f"backed up {manifest.counts['documents']} documents and {manifest.counts['chunks']} "
        f"chunks into {args.destination} ({size / 2**20:.1f} MB, {manifest.seconds:.1f} s)"
        + (
            f"; {len(manifest.redo)} changed meanwhile, indexed again at restore"
            if manifest.redo
            else ""
        )
    )
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from rag.operations.restore import restore

    report = restore(settings, args.source, args.force, lambda line: print(line, file=sys.stderr))
    print(report.summary())
    return 0


def _reindex(settings: Settings, args: argparse.Namespace) -> int:
    """Queue the switch and follow it; run it here unless a running `serve` (the embedded
    store's one writer) or a worker takes it."""
    import threading
    import time

    from rag.jobs.worker import Worker
    from rag.operations.model_switch import submit_switch
    from rag.runtime import build_runtime

    model = args.model
    if model and Path(model).expanduser().is_dir():
        model = str(Path(model).expanduser().resolve())
    runtime = build_runtime(settings, answers=False)
    job = submit_switch(runtime, model, args.rollback, args.drop_old)
    queue = runtime.stores.jobs
    worker = Worker(runtime, queue)

    def run_here() -> None:  # until it ran here or elsewhere (a killed run's job comes back)
        while (now := queue.get(job.id)) is not None and now.status in ("queued", "running"):
            if worker.run_one(job.id):
                return
            time.sleep(1.0)

    here = None
    if runtime.store.can_write():
        here = threading.Thread(target=run_here, name="docent-switch", daemon=True)
        here.start()
    shown = ""
    try:
        current = queue.get(job.id)
        while current is not None and current.status in ("queued", "running"):
            line = current.current or f"job {job.id} is {current.status}"
            if line != shown:
                print(line, file=sys.stderr)
                shown = line
            current = queue.wait(job.id, 1.0)
    except KeyboardInterrupt:
        if here is not None and worker.hand_back() is not None:
            print(f"stopped: job {job.id} handed back; run again to resume", file=sys.stderr)
            sys.stderr.flush()
            os._exit(130)
        print(f"job {job.id} goes on in the background", file=sys.stderr)
        return 130
    if current is None or current.status == "failed":
        print(f"error: {current.error if current else 'the job is gone'}", file=sys.stderr)
        return 1
    print(current.result.get("summary", "done"))
    return 0


def main(argv: list[str] | None = None) -> int:
    # Never reach for a model hub: every model is a local folder.
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
        os.environ.setdefault(variable, "1")
    configure_logging("WARNING")
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `python app.py` serves
        args = parser.parse_args(["serve"])
    handlers = {
        "ingest": _ingest,
        "ask": _ask,
        "eval": _eval,
        "apikey": _apikey,
        "serve": _serve,
        "worker": _worker,
        "train-reader": _train_reader,
        "backup": _backup,
        "restore": _restore,
        "reindex": _reindex,
    }
    try:
        settings = Settings()
        configure_logging(settings.log_level, settings.log_format)
        return handlers[args.command](settings, args)
    except DocentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid settings: {problems}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
