"""A model switch (`app.py reindex --model`): a second collection, embedded by another encoder,
is built beside the live one while writes go on, and made live in one transaction; a writer
that has not seen the switch cannot commit; a rollback catches the old collection up; a
killed switch resumes where it was (embedded Chroma, SQLite, the real encoders)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from index.embeddings import BUNDLED_MODEL, INT8_MODEL, Encoder
from index.errors import IndexSwitchedError
from index.live_index import IndexCollections
from index.store import connect
from rag.errors import InputError
from rag.operations.model_switch import run_switch, submit_switch
from rag.runtime import Runtime, build_runtime
from tests.helpers import ROOT, SAMPLES, make_settings, run_cli, run_python

pytestmark = pytest.mark.slow

FALKIRK = "The Falkirk warehouse stores 340 spare pallets beside the loading bay."
TROMSO = "The Tromso depot opens at 06:45 every Monday and closes at 17:00."


def holds_exactly_the_manifest(runtime: Runtime) -> None:
    """Every indexed document has exactly its chunks in the live collection, and nothing
    else is there; every chunk has its unit vectors under the live collection's key."""
    expected = {d.id: d.chunks for d in runtime.manifest.all_documents() if d.status == "indexed"}
    assert runtime.store.chunk_counts() == expected
    ids = [c.id for c in runtime.store.iter_chunks()]
    assert len(runtime.assistant.support.units.get(ids)) == len(ids) == sum(expected.values())


def cited_text(runtime: Runtime, question: str) -> str:
    answer = runtime.assistant.answer(question)
    return " ".join(citation.passage for citation in answer.citations)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_switch_catches_up_with_writes_and_a_stale_writer_cannot_commit(
    tmp_path: Path, embeddings: Encoder
) -> None:
    settings = make_settings(tmp_path / "data")
    runtime = build_runtime(settings, embeddings=embeddings)
    assert not runtime.ingestor.ingest([SAMPLES]).failed
    other_node = build_runtime(settings, embeddings=embeddings)  # built before the switch
    lines: list[str] = []

    def progress(done: int, total: int, line: str) -> None:
        lines.append(line)
        if len(lines) == 1:  # the copy is done: a write to the old collection meanwhile
            runtime.ingestor.ingest([write(tmp_path / "a", "falkirk.txt", FALKIRK)])

    result = run_switch(runtime, {"model": INT8_MODEL}, progress)

    assert runtime.live.embedding_model == INT8_MODEL
    assert runtime.live.name == result["collection"] != settings.collection
    assert (
        runtime.embeddings is not embeddings and runtime.assistant.retriever.store is runtime.store
    )
    assert lines[0].startswith("building: ") and "chunks" in lines[0]
    assert any(line.startswith("catching up: ") for line in lines)
    holds_exactly_the_manifest(runtime)
    assert "340 spare pallets" in cited_text(runtime, "How many spare pallets are in Falkirk?")

    # The other node has not followed yet: its write is refused, nothing is committed.
    with pytest.raises(IndexSwitchedError):
        other_node.ingestor.ingest([write(tmp_path / "b", "tromso.txt", TROMSO)])
    assert not next(d for d in runtime.manifest.all_documents() if d.name == "tromso.txt").chunks
    assert other_node.follow_live_index() and other_node.live == runtime.live
    assert other_node.ingestor.ingest([tmp_path / "b"]).added == ["tromso.txt"]
    holds_exactly_the_manifest(runtime)

    # Back to the kept collection: it catches up with what changed since it was live.
    falkirk = next(d for d in runtime.manifest.all_documents() if d.name == "falkirk.txt")
    assert runtime.ingestor.remove_document(falkirk.id)
    with pytest.raises(InputError, match="already the live model"):
        submit_switch(runtime, INT8_MODEL)
    back = submit_switch(runtime, None, rollback=True)
    assert back.kind == "switch-index" and back.items == [BUNDLED_MODEL]
    run_switch(runtime, {"model": BUNDLED_MODEL}, lambda *_: None)
    assert runtime.live.name == settings.collection
    holds_exactly_the_manifest(runtime)
    assert "06:45" in cited_text(runtime, "When does the Tromso depot open on Monday?")

    # Dropping the kept collection: gone from Chroma and from the table.
    dropped = run_switch(runtime, {"drop_old": True}, lambda *_: None)["dropped"]
    assert dropped == [result["collection"]]
    names = [c.name for c in connect(settings.chroma_dir).list_collections()]
    assert result["collection"] not in names and settings.collection in names
    assert [e.name for e in IndexCollections(runtime.database).entries()] == [settings.collection]


PARAGRAPH = (
    "Section {n} of the {topic} manual: the {topic} team reviews request {n} within {d} days, "
    "records the outcome in the register, and tells the requester by email. Requests that need "
    "a budget above {b} euros go to the finance office, which answers within {d} working days."
)


def corpus(folder: Path, files: int = 12, paragraphs: int = 75) -> Path:
    """About 400 chunks: two batches of a switch."""
    topics = ["travel", "payroll", "security", "facilities", "hiring", "training"]
    for i in range(files):
        topic = topics[i % len(topics)]
        text = "\n\n".join(
            PARAGRAPH.format(n=i * 100 + p, topic=topic, d=2 + p % 9, b=500 + 50 * p)
            for p in range(paragraphs)
        )
        write(folder, f"{topic}-{i}.txt", text)
    return folder


def test_a_switch_killed_mid_build_resumes_where_it_was(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "ingest", str(corpus(tmp_path / "docs"))).returncode == 0
    env = {"DOCENT_JOB_STALE_SECONDS": "2"}
    command = [sys.executable, str(ROOT / "app.py"), "reindex", "--model", INT8_MODEL]
    first = subprocess.Popen(
        command,
        env={**os.environ, "DOCENT_DATA_DIR": str(data), **env},
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert first.stderr is not None
    for line in first.stderr:
        if line.startswith("building: "):
            break
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    copied_before = int(line.split()[1].replace(",", ""))
    assert copied_before > 0

    second = run_cli(data, "reindex", "--model", INT8_MODEL, **env)
    assert second.returncode == 0, second.stderr
    assert "Switched to all-MiniLM-L6-v2-int8" in second.stdout
    resumed = [
        int(ln.split()[1].replace(",", ""))
        for ln in second.stderr.splitlines()
        if ln.startswith("building: ")
    ]
    assert min(resumed) >= copied_before and max(resumed) > copied_before  # not from zero

    check = run_python(
        data,
        "import json\n"
        "from rag.runtime import build_runtime\n"
        "from rag.settings import Settings\n"
        "r = build_runtime(Settings(_env_file=None), answers=False)\n"
        "expected = {d.id: d.chunks for d in r.manifest.all_documents()}\n"
        "print(json.dumps([r.live.embedding_model, r.store.chunk_counts() == expected,"
        " r.store.count(), sum(expected.values())]))\n",
    )
    model, exact, stored, indexed = json.loads(check.stdout.strip().splitlines()[-1])
    assert (model, exact, stored) == (INT8_MODEL, True, indexed)
