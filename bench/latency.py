"""Measure ingestion time and `answer()` latency; prints a table.

    python bench/latency.py [--squad ../shared/eval/squad2] [--questions 50]

Ingests samples/ and the SQuAD 2.0 sample passages (411 paragraphs, written as one text file
each into a temp folder) into throw-away indexes, then times `answer()` over questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.embeddings import load_embeddings  # noqa: E402
from rag.runtime import build_runtime  # noqa: E402
from rag.settings import Settings  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "eval" / "squad2")
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()

    started = time.perf_counter()
    embeddings = load_embeddings(Settings().embedding_model)
    rows = [("load embedding model", f"{time.perf_counter() - started:.1f} s")]

    with tempfile.TemporaryDirectory() as tmp:
        samples = build_runtime(Settings(data_dir=Path(tmp) / "samples"), embeddings=embeddings)
        report = samples.ingestor.ingest([ROOT / "samples"])
        rows.append(("ingest samples/", f"{report.seconds:.1f} s ({report.chunks_written} chunks)"))

        passages = [json.loads(line) for line in (args.squad / "passages.jsonl").open()]
        folder = Path(tmp) / "squad-docs"
        folder.mkdir()
        for passage in passages:
            (folder / f"{passage['_id']}.txt").write_text(passage["text"])
        squad = build_runtime(Settings(data_dir=Path(tmp) / "squad"), embeddings=embeddings)
        report = squad.ingestor.ingest([folder])
        rows.append(
            (
                f"ingest SQuAD2 passages ({len(passages)})",
                f"{report.seconds:.1f} s ({report.chunks_written} chunks)",
            )
        )

        questions = [json.loads(line) for line in (args.squad / "questions.jsonl").open()]
        squad.assistant.answer("warm-up question")
        latencies = []
        for question in questions[: args.questions]:
            answer = squad.assistant.answer(question["question"])
            latencies.append(answer.timings_ms["total"])
        rows.append(
            (
                f"answer() p50 over {len(latencies)} questions",
                f"{percentile(latencies, 0.5):.0f} ms",
            )
        )
        rows.append(
            (
                f"answer() p95 over {len(latencies)} questions",
                f"{percentile(latencies, 0.95):.0f} ms",
            )
        )
        rows.append(("answer() mean", f"{statistics.mean(latencies):.0f} ms"))

    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|------")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value}")


if __name__ == "__main__":
    main()
