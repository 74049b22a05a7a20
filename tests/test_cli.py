"""The CLI as a person runs it: separate processes over one data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT


def run(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`app.py ARGS` with `data` as its data dir, from a folder with no .env file in it."""
    data.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCENT_DATA_DIR": str(data), **env},
        cwd=data.parent,
        timeout=600,
    )


def test_ingest_then_ask(tmp_path: Path, copy_samples: Callable[..., Path]) -> None:
    folder = copy_samples("expenses.md", "onboarding.txt")
    (folder / "notes.txt").write_bytes(b"\x00\x01")
    data = tmp_path / "data"

    ingested = run(data, "ingest", str(folder))
    assert ingested.returncode == 0, ingested.stderr
    assert "2 added" in ingested.stdout and "1 failed" in ingested.stdout
    assert "notes.txt: binary content" in ingested.stderr

    asked = run(data, "ask", "How much is the mileage allowance per kilometre?", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "€0.36" in answer["text"]
    assert answer["citations"][0]["source"].endswith("expenses.md")
    assert answer["standalone_query"] and answer["timings_ms"]["total"] > 0

    plain = run(data, "ask", "How long is the probation period?")
    assert (
        "6 months" in plain.stdout
        and "Sources:" in plain.stdout
        and "onboarding.txt" in plain.stdout
    )


def test_mismatched_settings_give_one_clear_line(
    tmp_path: Path, copy_samples: Callable[..., Path]
) -> None:
    data = tmp_path / "data"
    assert run(data, "ingest", str(copy_samples("onboarding.txt"))).returncode == 0
    env_run = run(data, "ask", "probation?", DOCENT_CHUNK_SIZE="300")
    assert env_run.returncode == 2
    assert env_run.stderr.startswith("error: collection 'docent'")
    assert "Traceback" not in env_run.stderr
    folder = copy_samples("onboarding.txt")
    rebuilt = run(data, "ingest", "--rebuild", str(folder), DOCENT_CHUNK_SIZE="300")
    assert rebuilt.returncode == 0 and "1 added" in rebuilt.stdout


def test_apikey_create_prints_the_key_once_and_stores_its_hash(tmp_path: Path) -> None:
    from rag.auth import ApiKeys

    created = run(tmp_path / "data", "apikey", "create", "intranet")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    stored = (tmp_path / "data" / "api_keys.json").read_text()
    assert key.startswith("dk_") and key not in stored
    assert ApiKeys(tmp_path / "data" / "api_keys.json").name_of(key) == "intranet"
