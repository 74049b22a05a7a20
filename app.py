"""Docent's entry point and composition root: the command line.

    python app.py [serve]      serve the chat UI and the HTTP API (the default)
    python app.py ingest PATH  add or update documents
    python app.py ask "…"      answer one question
    python app.py eval         measure retrieval and answers against baselines
    python app.py apikey create NAME
    python app.py worker       run queued ingestion jobs (several may run, anywhere)

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
from rag.evaluation.command import GENERATORS
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
        "--calibrate", action="store_true", help="choose DOCENT_MIN_EVIDENCE on the SQuAD data"
    )
    evaluate.add_argument(
        "--env-file", type=Path, default=Path(".env"), help="where --calibrate writes"
    )
    evaluate.add_argument(
        "--in-domain",
        action="store_true",
        help="answers (and --calibrate) on Docent's in-domain set over the samples and "
        "../shared/corpus instead of SQuAD",
    )
    evaluate.add_argument(
        "--train-answerer",
        action="store_true",
        help="fit the extractive answerer's sentence and span weights on the SQuAD data and "
        "write them to rag/generators/answerer.v1.json (--model-out to write elsewhere)",
    )
    evaluate.add_argument("--model-out", type=Path, help="where --train-answerer writes")
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

    from rag.jobs import Job, JobQueue
    from rag.runtime import build_runtime
    from rag.watch import FolderWatch
    from rag.worker import Worker

    if len(paths) != 1 or not paths[0].is_dir():
        raise InputError("--watch takes one folder")
    runtime = build_runtime(settings)
    runtime.ingestor.resume()  # deletions a crash interrupted
    queue = JobQueue(runtime.database, settings.job_stale_seconds)
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
    from index.ingest import source_key
    from index.types import Scope, document_id
    from rag.runtime import build_runtime
    from rag.sources import describe_location

    runtime = build_runtime(settings)
    runtime.ensure_samples()
    documents = [document_id(source_key(Path(s))) for s in args.source] if args.source else None
    answer = runtime.assistant.answer(args.question, scope=Scope.of(documents=documents))
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
        train_answerer=args.train_answerer,
        model_out=args.model_out,
        env_file=args.env_file,
        feedback=args.feedback,
        encoders=tuple(e.strip() for e in (args.encoders or "").split(",") if e.strip()),
        generator=args.generator,
    )
    return run_eval(settings, options)


def _apikey(settings: Settings, args: argparse.Namespace) -> int:
    from rag.credentials import ApiKeys
    from rag.state import open_database

    key = ApiKeys(open_database(settings)).create(args.name)
    print(key)
    print(f"API key for {args.name!r}: shown once, stored as a sha256", file=sys.stderr)
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from rag.runtime import build_runtime
    from rag.state import open_database
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
    if report := runtime.ensure_samples():
        print(f"indexed samples: {report.summary()}")
    serve(runtime)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    import signal
    import threading

    from rag.jobs import JobQueue
    from rag.runtime import build_runtime
    from rag.worker import Worker

    if not settings.chroma_url:
        raise ConfigError(
            "workers write to a Chroma server that every API process reads: set "
            "DOCENT_CHROMA_URL (with the embedded store, `serve` runs jobs itself)"
        )
    runtime = build_runtime(settings, answers=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = Worker(runtime, JobQueue(runtime.database, settings.job_stale_seconds))
    print(f"worker {worker.name} is running jobs", file=sys.stderr)
    worker.run(stop)
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
    }
    try:
        settings = Settings()
        configure_logging(settings.log_level)
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
