"""The command line (app.py) as a person runs it: separate processes over one data folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.stores.credentials import ApiKeys
from rag.stores.schema import open_database
from tests.helpers import SAMPLES, make_settings, run_python
from tests.helpers import run_cli as run


@pytest.mark.slow
def test_ingest_then_ask(tmp_path: Path, copy_samples: Callable[..., Path]) -> None:
    folder = copy_samples("expenses.md", "onboarding.txt")
    (folder / "notes.txt").write_bytes(b"\x00\x01")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    data = tmp_path / "data"

    ingested = run(data, "ingest", str(folder))
    assert ingested.returncode == 0, ingested.stderr
    assert "2 added" in ingested.stdout and "2 failed" in ingested.stdout
    # each bad file once, in our words: no parser's own warning ("EOF marker not found")
    assert ingested.stderr.count("notes.txt") == 1 and ingested.stderr.count("broken.pdf") == 1
    assert "failed: notes.txt: binary content" in ingested.stderr
    assert "failed: broken.pdf: not a readable PDF" in ingested.stderr
    assert "EOF marker" not in ingested.stderr and "WARNING" not in ingested.stderr

    asked = run(data, "ask", "How much is the mileage allowance per kilometre?", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "€0.36" in answer["text"]
    assert answer["citations"][0]["name"] == "expenses.md"
    assert answer["standalone_query"] and answer["timings_ms"]["total"] > 0

    plain = run(data, "ask", "How long is the probation period?")
    assert (
        "6 months" in plain.stdout
        and "Sources:" in plain.stdout
        and "onboarding.txt" in plain.stdout
    )

    # --source takes the name the Library shows, in any case; a wrong one lists close names
    named = run(data, "ask", "How long is the probation period?", "--source", "ONBOARDING.txt")
    assert named.returncode == 0 and "6 months" in named.stdout, named.stderr
    other = run(data, "ask", "How long is the probation period?", "--source", "expenses.md")
    assert other.returncode == 0 and "onboarding.txt" not in other.stdout
    wrong = run(data, "ask", "How long is the probation period?", "--source", "onbording.txt")
    assert wrong.returncode == 2
    assert "no document named 'onbording.txt'; did you mean onboarding.txt?" in wrong.stderr


@pytest.mark.slow
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


@pytest.mark.slow
def test_apikey_create_prints_the_key_once_and_stores_its_hash(tmp_path: Path) -> None:
    created = run(tmp_path / "data", "apikey", "create", "intranet")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("dk_") and key not in created.stderr
    database = open_database(make_settings(tmp_path / "data"))
    assert ApiKeys(database).name_of(key) == "intranet"


@pytest.mark.slow
def test_ask_logs_one_line_at_info_and_never_imports_gradio(tmp_path: Path) -> None:
    script = (
        "import sys, app; code = app.main(['ask', 'How long is the probation period?']); "
        "print('gradio imported' if 'gradio' in sys.modules else 'no gradio'); sys.exit(code)"
    )
    env = {"DOCENT_SAMPLES_DIR": str(SAMPLES)}
    quiet = run_python(tmp_path / "data", script, **env)
    assert quiet.returncode == 0, quiet.stderr
    assert "6 months" in quiet.stdout and "no gradio" in quiet.stdout
    assert "answered in" not in quiet.stderr
    loud = run_python(tmp_path / "data", script, DOCENT_LOG_LEVEL="INFO", **env)
    assert loud.returncode == 0, loud.stderr
    (line,) = [x for x in loud.stderr.splitlines() if "answered in" in x]
    assert line.startswith("INFO rag.answer.pipeline: answered in") and "prompt=reader.v1" in line
