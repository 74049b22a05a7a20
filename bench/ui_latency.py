"""The chat UI's time to first token and to a whole answer, beside the HTTP API's, over the
bundled samples; prints a table.

    .venv/bin/python bench/ui_latency.py [--questions 12] [--ui-first]

Starts `app.py serve` on loopback over samples/ in a temp data dir (rate limit off), then asks
the same questions three ways: POST /api/v1/ask (the whole answer), POST /api/v1/ask/stream
(its first event and its last), and the chat page in headless Chromium (Debian's), timed in
the browser from pressing Enter to the first answer text in the conversation and to the
source cards. The server logs each answer's own timings at INFO (`answer()` inside the
process), so the table also says how much of the UI's time is Docent answering and how much
is the page's round trips.
"""

from __future__ import annotations

import argparse
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

from tests.helpers import ANSWERABLE, SAMPLES, free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def _serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DOCENT_DATA_DIR": str(data),
        "DOCENT_SAMPLES_DIR": str(SAMPLES),
        "DOCENT_PORT": str(port),
        "DOCENT_RATE_LIMIT_PER_MINUTE": "0",
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "serve"], env=env, stdout=subprocess.DEVNULL
    )


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server stopped")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).json().get("chunks"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not come up")


def _api(url: str, questions: list[str]) -> dict[str, list[float]]:
    whole, first, last = [], [], []
    with httpx.Client(base_url=url, timeout=60) as client:
        for question in questions:
            started = time.perf_counter()
            client.post("/api/v1/ask", json={"question": question}).raise_for_status()
            whole.append(time.perf_counter() - started)
            started = time.perf_counter()
            got_first = None
            with client.stream("POST", "/api/v1/ask/stream", json={"question": question}) as r:
                for _ in r.iter_bytes():
                    got_first = got_first or time.perf_counter()
            first.append((got_first or time.perf_counter()) - started)
            last.append(time.perf_counter() - started)
    return {
        "API /ask, whole answer": whole,
        "API /ask/stream, first event": first,
        "API /ask/stream, last event": last,
    }


_WATCH = """() => {
  const times = {started: performance.now(), first: null, done: null};
  window.docentTimes = times;
  const check = () => {
    const bot = document.querySelector('#docent-chat [data-testid="bot"]');
    if (times.first === null && bot && bot.textContent.trim()) times.first = performance.now();
    if (document.querySelector('#docent-sources .docent-card, #docent-sources h4')) {
      times.done = performance.now();
      times.first = times.first ?? times.done;
    } else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}"""


def _ui(url: str, questions: list[str]) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    first, whole = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless"])
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#docent-question textarea", timeout=60_000)
        for question in questions:
            page.locator("#docent-new-chat").click()
            page.wait_for_function("!document.querySelector('#docent-sources .docent-card')")
            box = page.locator("#docent-question textarea")
            box.fill(question)
            # A watcher in the page notes when the answer's first text and its source cards
            # show; the clock starts just before Playwright presses Enter.
            page.evaluate(_WATCH)
            box.press("Enter")
            page.wait_for_function("window.docentTimes.done !== null", timeout=120_000)
            times = page.evaluate(
                "[window.docentTimes.first - window.docentTimes.started,"
                " window.docentTimes.done - window.docentTimes.started]"
            )
            first.append(times[0] / 1000)
            whole.append(times[1] / 1000)
        browser.close()
    return {"chat UI, first answer text": first, "chat UI, source cards shown": whole}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument(
        "--ui-first", action="store_true", help="ask each question in the chat before the API"
    )
    args = parser.parse_args()
    questions = [q for q, _, _ in ANSWERABLE][: args.questions]
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = _serve(Path(tmp), port)
        try:
            _wait(url, server)
            _api(url, questions[:1])  # warm-up: the first answer loads what answering needs
            # A question's first answer costs more than a repeat (its query is embedded and
            # read anew): that pass is its own row, and the rows after it are all repeats.
            if args.ui_first:  # each question's first answer is the chat's
                ui_first = _ui(url, questions)
                rows = {f"{name} (first time)": v for name, v in ui_first.items()}
                rows |= {**_api(url, questions), **_ui(url, questions)}
            else:
                first = _api(url, questions)["API /ask, whole answer"]
                rows = {"API /ask, a question's first time": first}
                rows |= {**_api(url, questions), **_ui(url, questions)}
        finally:
            server.terminate()
            server.wait(timeout=30)
    width = max(len(name) for name in rows)
    print(f"{'measure'.ljust(width)} | p50 s | p95 s  ({len(questions)} questions)")
    print(f"{'-' * width}-|-------|------")
    for name, values in rows.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"{name.ljust(width)} | {statistics.median(values):5.2f} | {p95:5.2f}")


if __name__ == "__main__":
    main()
