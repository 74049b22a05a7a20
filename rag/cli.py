"""Command line: `ingest`, `ask`, `serve` (the default). Errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from index.errors import DocentError, InputError
from index.store import ChunkStore
from rag.evaluation import SYSTEMS
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
        "--feedback", action="store_true", help="replay stored user feedback as regression cases"
    )
    apikey = commands.add_parser("apikey", help="create an API key for the HTTP API")
    apikey.add_argument("action", choices=["create"])
    apikey.add_argument("name", help="who the key is for (a new key replaces an older one)")
    serve = commands.add_parser("serve", help="serve the chat UI and API (default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    return parser


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rag.runtime import build_runtime

    if args.rebuild:
        ChunkStore.drop(settings.chroma_dir, settings.collection)
    runtime = build_runtime(settings)
    with tqdm(unit="file", disable=None, file=sys.stderr) as bar:

        def progress(done: int, total: int, current: Path) -> None:
            bar.total = total
            bar.set_postfix_str(current.name[:40])
            bar.update(done - bar.n)

        report = runtime.ingestor.ingest(args.paths, prune=args.prune, progress=progress)
    for path, reason in report.failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed and not report.changed and not report.unchanged else 0


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from rag.runtime import build_runtime
    from rag.ui import display_source

    runtime = build_runtime(settings)
    runtime.ensure_samples()
    sources = [str(Path(s).resolve()) for s in args.source] if args.source else None
    answer = runtime.assistant.answer(args.question, sources=sources)
    if args.json:
        print(answer.model_dump_json(indent=2))
        return 0
    print(answer.text)
    if answer.citations:
        print("\nSources:")
    for citation in answer.citations:
        page = f", page {citation.page}" if citation.page is not None else ""
        print(
            f"[{citation.n}] {citation.title} ({display_source(citation.source)}{page}, "
            f"chars {citation.start}-{citation.end})"
        )
        for start, end in citation.highlights:
            print(f'    "{citation.passage[start:end]}"')
    return 0


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    from rag.evaluation.command import run_eval

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if not systems:
        raise InputError(f"--systems names none of {', '.join(SYSTEMS)}")
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        raise InputError(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be at least 1")
    return run_eval(settings, args, systems)


def _apikey(settings: Settings, args: argparse.Namespace) -> int:
    from rag.auth import ApiKeys

    key = ApiKeys(settings.api_keys_path).create(args.name)
    print(key)
    print(
        f"API key for {args.name!r}: shown once, stored as a sha256 in {settings.api_keys_path}",
        file=sys.stderr,
    )
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from rag.runtime import build_runtime
    from rag.server import create_app

    runtime = build_runtime(settings)
    report = runtime.ensure_samples()
    if report:
        print(f"indexed samples: {report.summary()}")
    host = getattr(args, "host", None) or settings.host
    port = getattr(args, "port", None) or settings.port
    print(f"Docent is serving on http://{host}:{port}")
    uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    handlers = {
        "ingest": _ingest,
        "ask": _ask,
        "eval": _eval,
        "apikey": _apikey,
        "serve": _serve,
        None: _serve,
    }
    try:
        settings = Settings()
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
