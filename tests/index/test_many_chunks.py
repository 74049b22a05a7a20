"""Past the old wall: more than 32,766 chunks (where one unbounded Chroma read fails), then one
more file, the documents listing and the health check, through the CLI and a live server."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import SAMPLES, make_settings, run_cli, serving

pytestmark = pytest.mark.slow

FILES, LINES = 400, 85  # one ~90-character line a chunk: 34,000 chunks
SMALL = {"DOCENT_CHUNK_SIZE": "100", "DOCENT_CHUNK_OVERLAP": "10"}


def make_corpus(folder: Path) -> Path:
    words = sorted(set(" ".join(p.read_text() for p in SAMPLES.glob("*.md")).split()))
    rng = random.Random(3)
    folder.mkdir(parents=True)
    for n in range(FILES):
        lines = [" ".join(rng.choices(words, k=12))[:90] for _ in range(LINES)]
        (folder / f"note-{n:03}.txt").write_text(f"Note {n}\n\n" + "\n".join(lines) + "\n")
    return folder


def test_more_than_32766_chunks(tmp_path: Path, embeddings: Encoder) -> None:
    data = tmp_path / "data"
    folder = make_corpus(tmp_path / "notes")
    bulk = run_cli(data, "ingest", str(folder), **SMALL)
    assert bulk.returncode == 0, bulk.stderr
    assert bulk.stdout.startswith(f"{FILES} added, 0 unchanged")

    one_more = tmp_path / "desks.txt"
    one_more.write_text("Desk booking opens at 07:00 on weekdays.\n")
    added = run_cli(data, "ingest", str(one_more), **SMALL)
    assert added.returncode == 0 and added.stdout.startswith("1 added"), added.stderr
    asked = run_cli(data, "ask", "When does desk booking open?", **SMALL)
    assert asked.returncode == 0 and "07:00" in asked.stdout, asked.stderr

    settings = make_settings(data, samples_dir=None, chunk_size=100, chunk_overlap=10)
    runtime = build_runtime(settings, embeddings=embeddings)
    with serving(create_app(runtime)) as url:
        health = httpx.get(f"{url}/api/health", timeout=30).json()
        first = httpx.get(f"{url}/api/v1/documents", params={"limit": 300}, timeout=30).json()
        rest = httpx.get(
            f"{url}/api/v1/documents", params={"offset": 300, "limit": 300}, timeout=30
        ).json()
        answer = httpx.post(
            f"{url}/api/v1/ask", json={"question": "When does desk booking open?"}, timeout=60
        ).json()
    assert health["chunks"] >= FILES * LINES > 32_766 and health["documents"] == FILES + 1
    names = [d["name"] for d in first + rest]
    assert len(names) == len(set(names)) == FILES + 1 and "desks.txt" in names
    assert "07:00" in answer["text"]
    assert len(runtime.lexical) == health["chunks"] == runtime.store.count()
