"""A model switch under load: `serve` (embedded store, jobs run in it) over an install of N
chunks (bench/scale.py's SciFact chunks, replicated), questions asked without pause by
`--clients` threads, while `app.py reindex --model all-MiniLM-L6-v2-int8` switches it; prints
the switch's time and rate, the questions answered before, during and after, their errors and
latency, and whether the new collection holds every chunk.

    .venv/bin/python bench/model_switch.py [--size 5000] [--clients 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale import base_chunks, bulk_load, percentile  # noqa: E402

from index.embeddings import INT8_MODEL, load_embeddings  # noqa: E402
from rag.runtime import build_runtime  # noqa: E402
from rag.settings import Settings  # noqa: E402
from tests.helpers import free_port  # noqa: E402


class Load:
    """Clients asking in a loop; each outcome filed under the phase it ended in."""

    def __init__(self, url: str, queries: list[str], clients: int) -> None:
        self.url, self.queries = url, queries
        self.phase = "before"
        self.results: dict[str, list[tuple[bool, float]]] = {
            "before": [],
            "during": [],
            "after": [],
        }
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._ask, args=(n,)) for n in range(clients)]

    def _ask(self, n: int) -> None:
        with httpx.Client(timeout=120) as client:
            while not self.stop.is_set():
                question = self.queries[n % len(self.queries)]
                n += len(self.threads)
                started = time.perf_counter()
                try:
                    ok = client.post(
                        f"{self.url}/api/v1/ask", json={"question": question}
                    ).is_success
                except httpx.HTTPError:
                    ok = False
                self.results[self.phase].append((ok, time.perf_counter() - started))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def _load(data: Path, embeddings, chunks, vectors, size: int) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=data, samples_dir=None, _env_file=None)  # type: ignore[call-arg]
    runtime = build_runtime(settings, embeddings=embeddings)
    bulk_load(runtime, chunks, vectors, size)
    runtime.lexical.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    embeddings = load_embeddings("all-MiniLM-L6-v2")
    chunks, vectors, queries = base_chunks(args.eval_dir, embeddings, min(args.size, 20000))
    data = args.work / f"switch-{args.size}"
    shutil.rmtree(data, ignore_errors=True)
    # Loaded by a child process: the embedded store's writer lock ends with it (serve writes).
    loading = multiprocessing.get_context("fork").Process(
        target=_load, args=(data, embeddings, chunks, vectors, args.size)
    )
    loading.start()
    loading.join()
    if loading.exitcode != 0:
        raise SystemExit("loading the install failed")

    env = {**os.environ, "DOCENT_DATA_DIR": str(data), "DOCENT_RATE_LIMIT_PER_MINUTE": "100000"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=5).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        with Load(url, queries[:200], args.clients) as load:
            time.sleep(20)  # a baseline under the same load
            load.phase = "during"
            started = time.perf_counter()
            switch = subprocess.run(
                [sys.executable, str(ROOT / "app.py"), "reindex", "--model", INT8_MODEL],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - started
            while (
                httpx.get(f"{url}/api/health", timeout=30).json()["embedding_model"] != INT8_MODEL
            ):
                time.sleep(0.1)
            load.phase = "after"
            time.sleep(20)
        if switch.returncode != 0:
            raise SystemExit(f"the switch failed: {switch.stderr.strip()}")
        health = httpx.get(f"{url}/api/health", timeout=30).json()
    finally:
        serve.terminate()
        serve.wait(timeout=60)

    print(
        f"switch of {args.size:,} chunks to {INT8_MODEL}: {seconds:.1f} s "
        f"({args.size / seconds:.0f} chunks/s), {health['chunks']:,} chunks live after"
    )
    print(f"{switch.stdout.strip()}\n")
    print("| phase | questions | errors | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for phase, outcomes in load.results.items():
        latencies = [s * 1000 for _, s in outcomes]
        errors = sum(1 for ok, _ in outcomes if not ok)
        p50 = percentile(latencies, 0.5) if latencies else 0.0
        p95 = percentile(latencies, 0.95) if latencies else 0.0
        print(f"| {phase} | {len(outcomes)} | {errors} | {p50:.0f} | {p95:.0f} |")


if __name__ == "__main__":
    main()
