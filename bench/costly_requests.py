"""The costliest single requests a caller can make, beside a normal one: each row's worst time
and how far it raised the server's peak memory; prints a table.

    .venv/bin/python bench/costly_requests.py [--root CHECKOUT] [--cache]

Builds the crafted inputs of the security review (../shared/reviews/security-2.md), indexes
them with `app.py ingest` into a temp data dir, starts `app.py serve` on loopback (open mode,
rate limit off) and sends each case's requests. Peak memory is the server's VmHWM (reset
through /proc/PID/clear_refs before each case) less its VmRSS at the start of the case.

Every page view is drawn anew (DOCENT_PAGE_CACHE_MB=0, the worst case; `--cache` keeps the
default cache), and one caller may have six drawn at once (so that six concurrent views are
all drawn, not refused). `--root` serves another checkout's app.py, e.g. the code before a
change: `git archive bffd1ab | tar -x -C /tmp/old && cp -r models /tmp/old/`, then
`--root /tmp/old` (settings it does not know are ignored).

Add a row by adding a `Case` to `cases()` and, when it needs documents, a folder builder to
`COLLECTIONS` (each is indexed as its own collection before the server starts).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.costly_ingest import blank_pdf, crafted_csv, ordinary_csv  # noqa: E402
from tests.helpers import SAMPLES, free_port, wait_until_up  # noqa: E402
from tests.made_files import dense_pdf, large_scan  # noqa: E402

Send = Callable[[httpx.Client], httpx.Response]


@dataclass(frozen=True)
class Case:
    """One row: `send` makes one request; it is made `runs` times, `at_once` at a time, while
    `during` (when given) is sent over and over by another client."""

    name: str
    send: Send
    runs: int = 3
    at_once: int = 1
    during: Send | None = None


def _normal(folder: Path) -> None:
    shutil.copy(SAMPLES / "travel-policy.pdf", folder)


def _dense(folder: Path) -> None:
    dense_pdf(folder / "dense.pdf")  # one page of 60,000 words, all "travel"


def _jpeg(folder: Path) -> None:
    large_scan(folder / "scan.jpg", size=(8_000, 7_000))  # 56 Mpx: under the 60 Mpx of indexing


def _png(folder: Path) -> None:
    large_scan(folder / "scan.png", size=(4_800, 5_000))  # 24 Mpx: the largest PNG decoded


COLLECTIONS: dict[str, Callable[[Path], None]] = {
    "normal": _normal,
    "dense": _dense,
    "jpeg": _jpeg,
    "png": _png,
}


def _page(chunk: str, spans: list[tuple[int, int]]) -> Send:
    marked = ",".join(f"{a}-{b}" for a, b in spans)
    return lambda client: client.get(f"/api/v1/citations/{chunk}/page.png?spans={marked}")


def _cited(client: httpx.Client, collection: str, question: str) -> tuple[str, list[Any]]:
    """The first citation's passage and spans for `question` in `collection`."""
    answer = client.post("/api/v1/ask", json={"question": question, "collections": [collection]})
    citations = answer.raise_for_status().json()["citations"]
    if not citations:
        raise SystemExit(f"no citation for {question!r} in {collection}")
    return citations[0]["chunk_id"], [tuple(span) for span in citations[0]["highlights"]]


def _retrieved(client: httpx.Client, collection: str, question: str) -> str:
    """The first passage retrieved for `question` in `collection` (cited or not)."""
    answer = client.post("/api/v1/ask", json={"question": question, "collections": [collection]})
    return str(answer.raise_for_status().json()["retrieved"][0]["chunk"]["id"])


_UPLOADS = itertools.count()


def _uploaded(name: str, content: bytes) -> Send:
    """An upload of `content` and the polling of its job until it ends: one request's whole
    cost to the server (each run to a collection of its own, so that each is read anew);
    returns the job's last reply."""

    def send(client: httpx.Client) -> httpx.Response:
        collection = f"upload{next(_UPLOADS)}"
        accepted = client.post(
            "/api/v1/documents",
            files={"files": (name, content)},
            data={"collection": collection},
            headers={"X-Requested-With": "bench"},  # an open install's rule for form posts
        )
        job = accepted.raise_for_status().json()["job"]["id"]
        while (reply := client.get(f"/api/v1/jobs/{job}")).json()["status"] in (
            "queued",
            "running",
        ):
            time.sleep(0.2)
        return reply

    return send


def cases(client: httpx.Client) -> list[Case]:
    """The rows, in order."""
    normal = _page(*_cited(client, "normal", "Which travel agency books our flights?"))
    dense = _page(_retrieved(client, "dense", "travel"), [(0, 700)] * 10)  # 10 repeated spans
    jpeg = _page(*_cited(client, "jpeg", "What licence must forklift drivers hold?"))
    png = _page(*_cited(client, "png", "What licence must forklift drivers hold?"))
    crafted = crafted_csv(200).encode()
    with tempfile.TemporaryDirectory() as folder:
        scans = blank_pdf(Path(folder) / "blank.pdf").read_bytes()
    return [
        Case("page view: travel-policy.pdf, page 1 (normal)", normal, runs=5),
        Case("page view: 60,000-word PDF page, 10 repeated spans", dense),
        Case("page view: normal, while the 60,000-word page is drawn", normal, 5, during=dense),
        Case("page view: 56 Mpx JPEG scan", jpeg),
        Case("6 concurrent page views: 56 Mpx JPEG scan", jpeg, runs=1, at_once=6),
        Case("page view: 24 Mpx PNG scan", png),
        Case("6 concurrent page views: 24 Mpx PNG scan", png, runs=1, at_once=6),
        # Ingestion (M3, L6): an upload and its job; bench/costly_ingest.py compares bffd1ab.
        Case("upload: 5,000-row CSV (normal)", _uploaded("rows.csv", ordinary_csv().encode())),
        Case("upload: crafted CSV, a row of 200 quotes", _uploaded("crafted.csv", crafted)),
        Case(
            "upload: 2,000 blank scanned PDF pages, 748 KB", _uploaded("blank.pdf", scans), runs=1
        ),
    ]


def _kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for the server")


def _measure(url: str, pid: int, case: Case) -> tuple[str, float, float]:
    """The replies' statuses, the worst time of one request (s) and the rise of the server's
    peak memory over its memory at the start (MB)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
    start = _kb(pid, "VmRSS")
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=url, timeout=600) as client:
            while not stop.is_set() and case.during:
                case.during(client)

    background = threading.Thread(target=load)
    if case.during:
        background.start()
        time.sleep(0.5)  # the first background request is under way

    def timed(_: int) -> tuple[int, float]:
        with httpx.Client(base_url=url, timeout=600) as client:
            began = time.perf_counter()
            status = case.send(client).status_code
            return status, time.perf_counter() - began

    results: list[tuple[int, float]] = []
    with ThreadPoolExecutor(case.at_once) as pool:
        for _ in range(case.runs):
            results += pool.map(timed, range(case.at_once))
    stop.set()
    if case.during:
        background.join()
    statuses = sorted({status for status, _ in results})
    replies = ", ".join(f"{sum(s == status for s, _ in results)}×{status}" for status in statuses)
    return replies, max(seconds for _, seconds in results), (_kb(pid, "VmHWM") - start) / 1024


def _run(root: Path, env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(root / "app.py"), *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve")
    parser.add_argument("--cache", action="store_true", help="keep the default page cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work, port = Path(tmp), free_port()
        env = {
            **os.environ,
            "DOCENT_DATA_DIR": str(work / "data"),
            "DOCENT_PORT": str(port),
            "DOCENT_RATE_LIMIT_PER_MINUTE": "0",
            "DOCENT_PAGE_RENDERS_PER_CALLER": "6",
            **({} if args.cache else {"DOCENT_PAGE_CACHE_MB": "0"}),
        }
        env.pop("DOCENT_SAMPLES_DIR", None)
        for collection, build in COLLECTIONS.items():
            (work / collection).mkdir()
            build(work / collection)
            ingest = _run(args.root, env, work, "ingest", collection, "--collection", collection)
            if ingest.wait() != 0:
                raise SystemExit(f"indexing {collection} failed")
        url = f"http://127.0.0.1:{port}"
        server = _run(args.root, env, work, "serve")
        try:
            wait_until_up(url, server, timeout=300)
            with httpx.Client(base_url=url, timeout=600) as client:
                rows = cases(client)
            table = [(case.name, *_measure(url, server.pid, case)) for case in rows]
        finally:
            server.terminate()
            server.wait(timeout=30)
    width = max(len(name) for name, *_ in table)
    print(f"{'request':<{width}}  {'replies':>8}  {'worst (s)':>9}  {'peak RSS + (MB)':>15}")
    for name, replies, worst, peak in table:
        print(f"{name:<{width}}  {replies:>8}  {worst:>9.2f}  {peak:>15.0f}")


if __name__ == "__main__":
    main()
