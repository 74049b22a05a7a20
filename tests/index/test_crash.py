"""`kill -9` during ingestion at several points, then a re-run: Chroma, the lexical index and
the manifest agree with a clean ingest of the same folder (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from index.embeddings import Encoder
from index.lexical import LexicalIndex
from rag.runtime import Runtime, build_runtime
from rag.settings import Settings
from tests.helpers import ROOT, SAMPLES, make_settings, run_cli

pytestmark = pytest.mark.slow


def make_corpus(folder: Path, files: int) -> Path:
    """`files` documents made from the samples' text, each different."""
    texts = [p.read_text() for p in sorted(SAMPLES.glob("*.md")) + sorted(SAMPLES.glob("*.txt"))]
    rng = random.Random(7)
    folder.mkdir(parents=True)
    for n in range(files):
        body = texts[n % len(texts)]
        lines = body.splitlines()
        rng.shuffle(lines)
        (folder / f"doc-{n:03}.md").write_text(f"# Document {n}\n\n" + "\n".join(lines))
    return folder


def state(runtime: Runtime) -> tuple[dict[str, tuple[str, str | None, int]], set[str], set[str]]:
    """(the manifest by name: status, indexed hash, chunks; chunk ids in Chroma; in BM25)."""
    manifest = {
        d.name: (d.status, runtime.manifest.indexed_hash(d.source), d.chunks)
        for d in runtime.manifest.all_documents()
    }
    chroma = {c.id for c in runtime.store.iter_chunks()}
    return manifest, chroma, LexicalIndex(runtime.settings.lexical_dir).chunk_ids()


def ingest_killed(settings: Settings, folder: Path, after: float) -> None:
    """`app.py ingest FOLDER`, killed with SIGKILL `after` seconds in (if still running)."""
    env = {**os.environ, "DOCENT_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["DOCENT_DATABASE_URL"] = settings.database_url
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "ingest", str(folder)],
        env=env,
        cwd=settings.data_dir.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()


def test_kills_during_ingestion_leave_nothing_a_rerun_cannot_mend(
    state_settings: Settings, tmp_path: Path, embeddings: Encoder
) -> None:
    folder = make_corpus(tmp_path / "corpus", files=60)
    clean = build_runtime(make_settings(tmp_path / "clean"), embeddings=embeddings)
    clean.ingestor.ingest([folder])

    for after in (7.0, 8.0, 9.0, 10.5):  # imports and the model take ~6 s, then files
        ingest_killed(state_settings, folder, after)
    env = {"DOCENT_DATABASE_URL": state_settings.database_url or ""}
    rerun = run_cli(state_settings.data_dir, "ingest", str(folder), **env)
    assert rerun.returncode == 0, rerun.stderr

    expected = state(clean)
    mended = state(build_runtime(state_settings, embeddings=embeddings))
    assert len(expected[0]) == 60 and all(s == "indexed" for s, _, _ in expected[0].values())
    assert mended[0] == expected[0], "the manifest"
    assert mended[1] == expected[1], "the chunks in Chroma"
    assert mended[2] == expected[2] == expected[1], "the lexical index"
