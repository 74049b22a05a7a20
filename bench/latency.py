"""Measure a cold `app.py ask`, ingestion time, retrieval against the LangChain baseline, and
`answer()` latency; prints a table.

    python bench/latency.py [--squad ../shared/eval/squad2] [--questions 50]

Ingests samples/ and the SQuAD 2.0 sample passages (411 paragraphs, written as one text file
each into a temp folder) into throw-away indexes, then times, over the SQuAD questions: Docent's
`retrieve()` (top 5 passages with their texts) beside LangChain's `similarity_search` (top 5,
same encoder, its own Chroma collection), and `answer()`. The query-vector cache is emptied
before every timed call, so each one pays for embedding its question.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.evaluation.datasets import load_squad  # noqa: E402
from rag.evaluation.systems import LangChainBaseline  # noqa: E402
from rag.runtime import build_runtime, load_encoder  # noqa: E402
from rag.settings import Settings  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed_ms(call: Callable[[], object], before: Callable[[], None]) -> float:
    before()
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def best_of_three(command: list[str], env: dict[str, str]) -> float:
    """Seconds for `command` in a new process, the best of three."""
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        runs.append(time.perf_counter() - started)
    return min(runs)


def cold_ask(data_dir: Path) -> tuple[float, float]:
    """A cold `app.py ask`, and the import of the libraries a query needs (chromadb,
    onnxruntime, tokenizers) in a new process, each the best of three."""
    env = {**os.environ, "DOCENT_DATA_DIR": str(data_dir)}
    ask = [sys.executable, str(ROOT / "app.py"), "ask", "How many vacation days do I get?"]
    imports = [sys.executable, "-c", "import chromadb, onnxruntime, tokenizers"]
    return best_of_three(ask, env), best_of_three(imports, env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "eval" / "squad2")
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()

    started = time.perf_counter()
    embeddings = load_encoder(Settings())
    rows = [("load the encoder (includes imports)", f"{time.perf_counter() - started:.1f} s")]

    with tempfile.TemporaryDirectory() as tmp:
        samples_dir = Path(tmp) / "samples"
        samples = build_runtime(Settings(data_dir=samples_dir), embeddings=embeddings)
        report = samples.ingestor.ingest([ROOT / "samples"])
        rows.append(("ingest samples/", f"{report.seconds:.1f} s ({report.chunks_written} chunks)"))
        ask_s, imports_s = cold_ask(samples_dir)
        rows.append(("`app.py ask`, cold process (best of 3)", f"{ask_s:.2f} s"))
        rows.append(("`import chromadb, onnxruntime, tokenizers`", f"{imports_s:.2f} s"))
        rows.append(("cold `ask` / those imports", f"{ask_s / imports_s:.2f}×"))

        data = load_squad(args.squad)
        folder = Path(tmp) / "squad-docs"
        folder.mkdir()
        for passage in data.passages:
            (folder / f"{passage.id}.txt").write_text(passage.text)
        settings = Settings(data_dir=Path(tmp) / "squad")
        squad = build_runtime(settings, embeddings=embeddings)
        report = squad.ingestor.ingest([folder])
        rows.append(
            (
                f"ingest SQuAD2 passages ({len(data.passages)})",
                f"{report.seconds:.1f} s ({report.chunks_written} chunks)",
            )
        )
        baseline = LangChainBaseline(settings, embeddings, "squad2", data.passages)
        baseline.index()

        questions = [q.question for q in data.questions[: args.questions]]
        forget = embeddings.forget_queries
        squad.assistant.answer("warm-up question")
        baseline.db.similarity_search("warm-up question", k=5)
        measured = {
            "Docent retrieve() top 5": [
                timed_ms(lambda q=q: squad.assistant.retriever.retrieve(q), forget)
                for q in questions
            ],
            "LangChain similarity_search top 5": [
                timed_ms(lambda q=q: baseline.db.similarity_search(q, k=5), forget)
                for q in questions
            ],
            "answer()": [
                timed_ms(lambda q=q: squad.assistant.answer(q), forget) for q in questions
            ],
        }
        for name, values in measured.items():
            rows.append(
                (
                    f"{name}, p50 / p95 over {len(values)} questions",
                    f"{percentile(values, 0.5):.1f} / {percentile(values, 0.95):.1f} ms",
                )
            )
        rows.append(("answer() mean", f"{statistics.mean(measured['answer()']):.1f} ms"))
        plain = percentile(measured["LangChain similarity_search top 5"], 0.5)
        rows.append(
            (
                "answer() p50 / plain vector search p50 (the reader included)",
                f"{percentile(measured['answer()'], 0.5) / plain:.1f}×",
            )
        )

    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|------")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value}")


if __name__ == "__main__":
    main()
