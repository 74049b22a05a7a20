"""How Docent's store scales: bulk load, one-document ingest and delete, hybrid retrieval,
listing, health and the API process's memory at 10k, 100k and 1M chunks; prints a table.

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--queries 200]

Real chunk texts (SciFact abstracts from ../shared/eval, chunked by Docent) are replicated to the
wanted size, each copy with a distinct suffix word and a perturbed copy of the original's vector,
so nobody has to embed a million passages: the store, the manifest and the lexical index see a
realistic corpus. Every size gets a fresh data dir under --work (deleted afterwards unless
--keep). Queries are SciFact's, embedded for real at question time. Retrieval is timed in
process; listing, health and memory against `app.py serve` on the same data, after it has
answered 50 questions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.chunking import Chunker  # noqa: E402
from index.embeddings import load_embeddings  # noqa: E402
from index.ingest import source_key  # noqa: E402
from index.loaders import LoadedDocument  # noqa: E402
from index.manifest import ChangeRow, DocumentRow  # noqa: E402
from index.types import document_id, indexed_text  # noqa: E402
from rag.runtime import build_runtime  # noqa: E402
from rag.settings import Settings  # noqa: E402
from tests.helpers import free_port  # noqa: E402

CHUNKS_PER_DOCUMENT = 10


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def base_chunks(eval_dir: Path, embeddings, limit: int):  # type: ignore[no-untyped-def]
    """Docent's chunks of the SciFact abstracts and their vectors (embedded once, cached)."""
    corpus = [json.loads(line) for line in (eval_dir / "scifact" / "corpus.jsonl").open()]
    chunker = Chunker(800, 120)
    chunks = []
    for record in corpus:
        document = LoadedDocument(Path(record["_id"]), record.get("title", ""), record["text"])
        chunks.extend(chunker.split(document, record["_id"], record["_id"]))
        if len(chunks) >= limit:
            break
    cache = Path(tempfile.gettempdir()) / f"docent-bench-vectors-{len(chunks)}.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        vectors = np.asarray(embeddings.embed_documents([indexed_text(c) for c in chunks]))
        np.save(cache, vectors)
    queries = [json.loads(line)["text"] for line in (eval_dir / "scifact" / "queries.jsonl").open()]
    return chunks[:limit], vectors[:limit], queries


def bulk_load(runtime, chunks, vectors, size: int) -> float:  # type: ignore[no-untyped-def]
    """`size` chunks into Chroma and the manifest (copies of the base chunks), then the
    lexical index catches up; returns seconds."""
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    batch, batch_vectors, rows = [], [], []
    for n in range(size):
        base = chunks[n % len(chunks)]
        copy = n // len(chunks)
        source = f"bench:{n // CHUNKS_PER_DOCUMENT}"
        text = base.text if copy == 0 else f"{base.text} copy{copy}"
        chunk = base.model_copy(
            update={
                "id": f"{n:032x}",
                "text": text,
                "source": source,
                "document_id": document_id(source),
                "name": f"doc-{n // CHUNKS_PER_DOCUMENT}.txt",
                "collection": f"c{(n // CHUNKS_PER_DOCUMENT) % 5}",
            }
        )
        vector = vectors[n % len(chunks)]
        if copy:
            vector = vector + rng.normal(0, 0.02, vector.shape)
            vector = vector / np.linalg.norm(vector)
        batch.append(chunk)
        batch_vectors.append(vector)
        if n % CHUNKS_PER_DOCUMENT == 0:
            rows.append((source, chunk.name, chunk.collection))
        if len(batch) == 5000 or n == size - 1:
            runtime.store.add(batch, batch_vectors, "bench")
            batch, batch_vectors = [], []
    with runtime.database.write() as session:
        for source, name, collection in rows:
            session.add(
                DocumentRow(
                    id=document_id(source),
                    source=source,
                    name=name,
                    title="",
                    collection=collection,
                    file_hash="bench",
                    chunks=CHUNKS_PER_DOCUMENT,
                    status="indexed",
                )
            )
            session.add(ChangeRow(document_id=document_id(source)))
    runtime.ingestor.sync_lexical()
    return time.perf_counter() - started


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(size: int, work: Path, embeddings, base, queries, keep: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    import httpx

    data = work / f"scale-{size}"
    settings = Settings(
        data_dir=data,
        samples_dir=None,
        rate_limit_per_minute=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = build_runtime(settings, embeddings=embeddings)
    chunks, vectors = base
    row: dict[str, float] = {"chunks": float(size)}
    row["bulk load s"] = bulk_load(runtime, chunks, vectors, size)

    note = data / "desks.txt"
    note.write_text("Desk booking opens at 07:00 on weekdays. Rooms: ask facilities.\n")
    started = time.perf_counter()
    runtime.ingestor.ingest([note])
    row["one-doc ingest s"] = time.perf_counter() - started
    started = time.perf_counter()
    runtime.ingestor.remove_document(document_id(source_key(note)))
    row["one-doc delete s"] = time.perf_counter() - started

    retriever = runtime.assistant.retriever
    for query in queries[:5]:
        retriever.retrieve(query)  # warm up
    latencies = []
    for query in queries:
        embeddings.forget_queries()  # every query pays for its embedding
        started = time.perf_counter()
        retriever.retrieve(query)
        latencies.append((time.perf_counter() - started) * 1000)
    row["retrieve p50 ms"] = percentile(latencies, 0.5)
    row["retrieve p95 ms"] = percentile(latencies, 0.95)

    runtime.lexical.close()
    del runtime
    port = free_port()
    env = {**os.environ, "DOCENT_DATA_DIR": str(data), "DOCENT_PORT": str(port)}
    env["DOCENT_RATE_LIMIT_PER_MINUTE"] = "0"
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.5)
            for path, label in (
                ("/api/v1/documents?limit=100", "listing"),
                ("/api/health", "health"),
            ):
                timings = []
                for _ in range(20):
                    started = time.perf_counter()
                    assert client.get(path).status_code == 200
                    timings.append((time.perf_counter() - started) * 1000)
                row[f"{label} p50 ms"] = statistics.median(timings)
            for query in queries[:50]:
                assert client.post("/api/v1/ask", json={"question": query}).status_code == 200
            row["API RSS MB"] = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait()
    if not keep:
        shutil.rmtree(data, ignore_errors=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    embeddings = load_embeddings("all-MiniLM-L6-v2")
    chunks, vectors, queries = base_chunks(args.eval_dir, embeddings, 12_000)
    queries = queries[: args.queries]
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.work, embeddings, (chunks, vectors), queries, args.keep)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print(
            "| "
            + " | ".join(f"{row[c]:,.0f}" if c == "chunks" else f"{row[c]:.1f}" for c in columns)
            + " |"
        )


if __name__ == "__main__":
    main()
