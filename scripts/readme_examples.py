"""Run the README's examples and write their real output into it (or, with --check, say where
the README differs from what the code prints now).

    .venv/bin/python scripts/readme_examples.py [--check]

An example is a block between `<!-- example -->` and `<!-- /example -->` holding a ```text
fence: its `$ ` lines are commands (a line ending in a backslash goes on), the rest is their
output. Each block's commands run in one bash session, in a folder holding `samples` (the
bundled samples) and `../shared/corpus` (which one example ingests); the blocks run in order over
one data dir, fresh when the first starts, against `app.py serve` on a free loopback port (with
a data dir of its own, the samples indexed as it starts), written in the README as
localhost:7860 (or 127.0.0.1:7860). A block may instead hold a ```python fence and then a
```text fence: the Python runs (this checkout's interpreter, in the same folder, against the
same server) and the text is what it prints. What changes from run to run or machine to machine
is shown as "…": ids, timings, dates, scores, and passages past their first words.
`tests/test_readme.py` runs --check, so the README shows what Docent prints.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHOWN_PORT = "localhost:7860"
SHOWN_ADDRESS = "127.0.0.1:7860"  # the same server, as a URL in Python code
_OPEN, _CLOSE = "<!-- example -->\n", "```\n<!-- /example -->"
BLOCK = re.compile(
    r"(<!-- example -->\n```(?:text\n(?P<commands>.*?)"
    r"|python\n(?P<code>.*?)```\n```text\n(?P<printed>.*?))```\n<!-- /example -->)",
    re.DOTALL,
)
VOLATILE = {
    "id",
    "chunk_id",
    "document_id",
    "conversation_id",
    "job_id",
    "timings_ms",
    "ingested_at",
    "created_at",
    "updated_at",
    "score",
}
_PASSAGE_CHARS = 60
_SEPARATOR = "==== next command ===="
_LINE_CHARS = 200  # of a JSON line shown
_SECONDS = re.compile(r"in \d+(\.\d+)? s\b")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _trimmed(value: Any, key: str = "") -> Any:
    """A JSON value as the README shows it: volatile values and long passages as "…"."""
    if key in VOLATILE and value is not None:
        return "…"
    if key == "retrieved":
        return "[…]"
    if isinstance(value, dict):
        return {k: _trimmed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_trimmed(v) for v in value]
    if isinstance(value, str):
        value = _SECONDS.sub("in … s", value)
        if key == "passage" and len(value) > _PASSAGE_CHARS:
            return value[:_PASSAGE_CHARS] + "…"
    return value


def _shown(output: str) -> str:
    """Command output with its JSON trimmed: the whole output as one indented value, or each
    JSON line (plain, or SSE `data:`) compact."""
    try:
        whole = json.loads(output)
    except ValueError:
        whole = None
    if isinstance(whole, dict | list) and "\n" in output.strip():
        indented = json.dumps(_trimmed(whole), ensure_ascii=False, indent=2)
        return re.sub(r"\[\s*([\d\s,]+?)\s*\]", _inline, indented)
    lines = []
    for line in output.splitlines():
        prefix, body = ("data: ", line[6:]) if line.startswith("data: ") else ("", line)
        try:
            parsed = json.loads(body)
        except ValueError:
            lines.append(_SECONDS.sub("in … s", line))
            continue
        if not isinstance(parsed, dict | list):
            lines.append(line)
            continue
        shown = prefix + json.dumps(_trimmed(parsed), ensure_ascii=False)
        lines.append(shown if len(shown) <= _LINE_CHARS else shown[:_LINE_CHARS] + " …")
    return "\n".join(lines)


def _inline(match: re.Match[str]) -> str:
    """A list of numbers on one line: [485, 562]."""
    return "[" + ", ".join(n.strip() for n in match.group(1).split(",")) + "]"


def _commands(block: str) -> list[str]:
    """The `$ ` commands of a block, continuation lines joined as the shell reads them."""
    commands, current = [], ""
    for line in block.splitlines():
        if current:
            current += "\n" + line
        elif line.startswith("$ "):
            current = line[2:]
        else:
            continue
        if not line.endswith("\\"):
            commands.append(current)
            current = ""
    return commands


def _serve(data: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("app.py serve stopped")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).json().get("chunks"):
                return process
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit("app.py serve did not come up")


def render(readme: str, work: Path) -> str:
    """The README with every example's output as the code prints it now."""
    data = work / "data"
    port = _free_port()
    env = {
        **os.environ,
        "DOCENT_DATA_DIR": str(data),
        "DOCENT_SAMPLES_DIR": str(ROOT / "samples"),
        "DOCENT_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONPATH": str(ROOT),
    }
    (work / "bin").mkdir()
    launcher = work / "bin" / "app.py"  # `app.py …` in an example runs this checkout's
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "app.py"}" "$@"\n')
    launcher.chmod(0o755)
    env["PATH"] = f"{work / 'bin'}{os.pathsep}{env['PATH']}"
    here = work / "run"  # where the commands run: ../shared is the checkout's, as in the README
    here.mkdir()
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (work / "shared").symlink_to(shared)
    (here / "desks.txt").write_text("Desk booking opens at 07:00 on weekdays.\n")
    (here / "samples").symlink_to(ROOT / "samples")
    # `serve` holds its embedded store: the command line examples have a data dir of their own
    server = _serve(data, port, {**env, "DOCENT_DATA_DIR": str(work / "served")})
    try:

        def run_python(match: re.Match[str]) -> str:
            """One block's Python, run against the server; what it prints shown after it."""
            code = match["code"]
            served = code.replace(SHOWN_PORT, f"127.0.0.1:{port}").replace(
                SHOWN_ADDRESS, f"127.0.0.1:{port}"
            )
            result = subprocess.run(
                [sys.executable, "-"],
                input=served,
                env=env,
                cwd=here,
                capture_output=True,
                text=True,
                timeout=900,
            )
            if result.returncode != 0:
                raise SystemExit(f"an example failed:\n{code}\n{result.stderr}")
            printed = _shown(result.stdout).rstrip()
            return f"{_OPEN}```python\n{code}```\n```text\n{printed}\n{_CLOSE}"

        def run(match: re.Match[str]) -> str:
            """One block's commands in one shell (a later one may use an earlier's variables),
            each one's output after a separator line."""
            if match["code"] is not None:
                return run_python(match)
            commands = _commands(match["commands"])
            if not shared.is_dir() and any("../shared/" in c for c in commands):
                print(f"no {shared}: left as written: {commands[0]}", file=sys.stderr)
                return match.group(0)
            script = "set -e\n" + "".join(
                f"printf '{_SEPARATOR}\\n'\n{c.replace(SHOWN_PORT, f'127.0.0.1:{port}')}\n"
                for c in commands
            )
            result = subprocess.run(
                ["bash", "-c", script],
                env=env,
                cwd=here,
                capture_output=True,
                text=True,
                timeout=900,
            )
            if result.returncode != 0:
                raise SystemExit(f"an example failed:\n{script}\n{result.stderr}")
            outputs = result.stdout.split(f"{_SEPARATOR}\n")[1:]
            shown = [
                f"$ {command}\n{_shown(output)}".rstrip()
                for command, output in zip(commands, outputs, strict=True)
            ]
            return f"{_OPEN}```text\n" + "\n".join(shown) + f"\n{_CLOSE}"

        return BLOCK.sub(run, readme)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    readme = README.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as work:
        rendered = render(readme, Path(work))
    if args.check:
        if rendered != readme:
            import difflib

            diff = difflib.unified_diff(
                readme.splitlines(), rendered.splitlines(), "README.md", "as printed", lineterm=""
            )
            print("\n".join(diff))
            return 1
        print("the README's examples print what it shows")
        return 0
    README.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
