"""Many clients asking at once: errors, answers per second and latency percentiles; prints a
table row.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--workers N] [--chroma-server]
    .venv/bin/python bench/load.py --url http://127.0.0.1:7860 [--key dk_…]

Without --url it indexes samples/ and the news article in ../shared/corpus into a temp data
dir, starts `app.py serve` on loopback (rate limit off; `--workers N` API processes; with
--chroma-server, Chroma as a server started by the bench) and loads it. Every client posts
questions to /api/v1/ask one after another; an error is any answer that is not HTTP 200,
including a dropped connection.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import ANSWERABLE, SAMPLES, UNANSWERABLE, free_port  # noqa: E402

QUESTIONS = (
    [q for q, _, _ in ANSWERABLE]
    + UNANSWERABLE
    + [
        "What did Trump reportedly tell Macron?",
        "Why have Turkey-U.S. relations taken a positive turn?",
        "Are Turkey and Russia strategic allies or tactical partners?",
    ]
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def load(url: str, clients: int, seconds: float, key: str | None) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(number: int, http: httpx.AsyncClient) -> None:
        turn = number
        while time.monotonic() < deadline:
            question = QUESTIONS[turn % len(QUESTIONS)]
            turn += clients
            started = time.perf_counter()
            try:
                response = await http.post("/api/v1/ask", json={"question": question})
                kind = "" if response.status_code == 200 else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                kind = type(exc).__name__
            if kind:
                errors[kind] = errors.get(kind, 0) + 1
            else:
                latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300, limits=limits) as http:
        started = time.monotonic()
        await asyncio.gather(*(client(n, http) for n in range(clients)))
        elapsed = time.monotonic() - started
    if errors:
        print(f"errors: {errors}", file=sys.stderr)
    return {
        "answers": len(latencies),
        "errors": sum(errors.values()),
        "answers/s": len(latencies) / elapsed,
        "p50 s": statistics.median(latencies) if latencies else float("nan"),
        "p95 s": percentile(latencies, 0.95) if latencies else float("nan"),
        "p99 s": percentile(latencies, 0.99) if latencies else float("nan"),
    }


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], probe: str = "/api/health", timeout: float = 600
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped (exit {process.returncode})")
        try:
            if httpx.get(f"{url}{probe}", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not come up")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--url", help="load a running server instead of starting one")
    parser.add_argument("--key", help="API key for a server that needs one")
    parser.add_argument("--workers", type=int, default=1, help="API processes of the server")
    parser.add_argument("--chroma-server", action="store_true", help="Chroma as a server")
    args = parser.parse_args()

    processes: list[subprocess.Popen[bytes]] = []
    url = args.url
    try:
        if url is None:
            work = Path(tempfile.mkdtemp(prefix="docent-load-"))
            env = {
                **os.environ,
                "DOCENT_DATA_DIR": str(work / "data"),
                "DOCENT_RATE_LIMIT_PER_MINUTE": "0",
            }
            if args.chroma_server:
                port = free_port()
                chroma = ROOT / ".venv" / "bin" / "chroma"
                processes.append(
                    subprocess.Popen(
                        [
                            str(chroma),
                            "run",
                            "--path",
                            str(work / "chroma"),
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(port),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                env["DOCENT_CHROMA_URL"] = f"http://127.0.0.1:{port}"
                wait_until_up(env["DOCENT_CHROMA_URL"], processes[-1], "/api/v2/heartbeat")
            sources = [str(SAMPLES)]
            corpus = ROOT.parent / "shared" / "corpus"
            if corpus.is_dir():
                sources.append(str(corpus))
            subprocess.run(
                [sys.executable, str(ROOT / "app.py"), "ingest", *sources],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            command = [sys.executable, str(ROOT / "app.py"), "serve", "--port", str(port)]
            if args.workers > 1:
                command += ["--workers", str(args.workers)]
            processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL))
            wait_until_up(url, processes[-1])
        row = asyncio.run(load(url, args.clients, args.seconds, args.key))
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait()
    if args.chroma_server:
        chroma = "Chroma server"
    elif args.workers > 1:
        chroma = "Chroma server started by serve"  # processes cannot share an embedded store
    else:
        chroma = "Chroma embedded"
    setup = f"{args.workers} worker(s), {chroma}"
    print("| setup | clients | seconds | answers | errors | answers/s | p50 s | p95 s | p99 s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {setup} | {args.clients} | {args.seconds:.0f} | {row['answers']:.0f} | "
        f"{row['errors']:.0f} | {row['answers/s']:.1f} | {row['p50 s']:.2f} | "
        f"{row['p95 s']:.2f} | {row['p99 s']:.2f} |"
    )


if __name__ == "__main__":
    main()
