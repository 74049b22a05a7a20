"""Shared state in a real database, each test against SQLite and against PostgreSQL (a server
the session starts in a temp dir): migrations, files of older versions imported, conversations,
the job queue, rate limits, API keys and shared secrets."""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from index.database import Database
from rag.errors import InputError
from rag.jobs.queue import MAX_ATTEMPTS, JobQueue
from rag.settings import Settings
from rag.stores.conversations import Conversations
from rag.stores.credentials import ApiKeys
from rag.stores.feedback import FeedbackStore
from rag.stores.rate_limits import RateEventRow
from rag.stores.schema import MIGRATIONS, SCHEMA_REVISION, open_database
from rag.stores.shared_secrets import shared_secret
from rag.web.auth import RateLimiter
from rag.web.errors import RateLimitError
from tests.helpers import feedback_case, make_settings


def test_migrations_run_once_even_when_processes_start_together(
    state_settings: Settings,
) -> None:
    opened: list[Database] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(open_database(state_settings))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(opened) == 4
    with opened[0].read() as session:
        versions = session.scalars(text("SELECT version_num FROM alembic_version")).all()
    assert versions == [SCHEMA_REVISION] == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]


def test_files_of_older_versions_are_imported_once(state_settings: Settings) -> None:
    data = state_settings.data_dir
    data.mkdir(parents=True)
    (data / "api_keys.json").write_text(json.dumps({"intranet": "a" * 64}))
    old = feedback_case("up", "Old question?", created_at="2026-01-01T10:00:00+00:00").model_dump()
    old["cited_sources"] = ["/srv/docent/samples/leave-policy.md"]
    del old["cited_documents"]
    newer = feedback_case("down", "Newer?", created_at="2026-02-01T10:00:00+00:00")
    lines = [json.dumps(old), "not json", newer.model_dump_json()]
    (data / "feedback.jsonl").write_text("\n".join(lines) + "\n")

    database = open_database(state_settings)
    assert "intranet" in ApiKeys(database)
    stored = FeedbackStore(database).all()
    assert [f.question for f in stored] == ["Old question?", "Newer?"]
    assert stored[0].cited_documents == ["leave-policy.md"], "no server path is kept"
    assert not (data / "feedback.jsonl").exists() and (data / "feedback.jsonl.imported").exists()
    assert (data / "api_keys.json.imported").exists()
    again = open_database(state_settings)
    assert len(FeedbackStore(again).all()) == 2, "nothing is imported twice"


def test_conversations_belong_to_their_owner_and_are_bounded(database: Database) -> None:
    conversations = Conversations(database, max_messages=4, per_owner=2)
    first = conversations.start("key:ops")
    for n in range(3):
        conversations.record(first, f"q{n}", f"a{n}")
    assert [m.content for m in conversations.history(first, "key:ops")] == ["q1", "a1", "q2", "a2"]
    with pytest.raises(InputError, match="unknown or expired"):
        conversations.history(first, "token:eve")
    second = conversations.start("key:ops")
    conversations.start("key:ops")  # a third: the least recently used (`first`) goes
    with pytest.raises(InputError):
        conversations.history(first, "key:ops")
    assert conversations.history(second, "key:ops") == []
    other = conversations.start("token:ana")
    assert conversations.history(other, "token:ana") == [], "one caller cannot evict another"


def test_each_job_is_claimed_by_one_worker(database: Database) -> None:
    queue = JobQueue(database)
    submitted = {queue.submit("ingest", {"n": n}, items=[f"f{n}.md"]).id for n in range(20)}
    claimed: list[str] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        mine = JobQueue(database)
        while (job := mine.claim(name)) is not None:
            with lock:
                claimed.append(job.id)
            mine.finish(job.id, {"by": name})

    workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(claimed) == sorted(submitted), "every job once, none twice"
    assert all(queue.get(i).status == "done" for i in submitted)  # type: ignore[union-attr]


def test_a_job_whose_worker_died_is_claimed_again(database: Database) -> None:
    queue = JobQueue(database, stale_after=0.2)
    job = queue.submit("ingest", {}, items=["a.md"])
    assert queue.claim("dead-worker") is not None
    assert queue.claim("other") is None, "a running job is not handed out twice"
    time.sleep(0.3)  # the dead worker's beat is now older than `stale_after`
    again = queue.claim("other")
    assert again is not None and again.id == job.id and again.attempts == 2
    for _ in range(MAX_ATTEMPTS - 2):
        time.sleep(0.3)
        assert queue.claim("other") is not None
    time.sleep(0.3)
    assert queue.claim("other") is None
    failed = queue.get(job.id)
    assert failed is not None and failed.status == "failed" and "stopped" in (failed.error or "")


def test_progress_is_visible_to_every_reader(database: Database) -> None:
    writer, reader = JobQueue(database), JobQueue(database)
    job = writer.submit("ingest", {}, items=["a.md", "b.md"])
    claimed = writer.claim("w")
    assert claimed is not None
    writer.progress(job.id, 1, 2, "b.md")
    seen = reader.get(job.id)
    assert seen is not None and (seen.status, seen.done, seen.total, seen.current) == (
        "running",
        1,
        2,
        "b.md",
    )


def test_the_rate_limit_holds_across_limiters(database: Database) -> None:
    """Two limiters over one database, as two nodes would have."""
    one = RateLimiter(database, per_minute=3, prefix="requests")
    two = RateLimiter(database, per_minute=3, prefix="requests")
    one.check("key:ops")
    two.check("key:ops")
    one.check("key:ops")
    with pytest.raises(RateLimitError) as refused:
        two.check("key:ops")
    assert 1 <= refused.value.retry_after <= 61
    one.check("key:other")  # each caller has its own window: no error


def test_old_rate_events_are_deleted(database: Database) -> None:
    with database.write() as session:
        session.add(RateEventRow(key="requests:old", at=time.time() - 3600))
    RateLimiter(database, per_minute=10, prefix="requests").check("key:new")
    with database.read() as session:
        keys = set(session.scalars(select(RateEventRow.key)))
    assert keys == {"requests:key:new"}


def test_api_keys_are_hashed_and_replaced_by_name(database: Database) -> None:
    keys = ApiKeys(database)
    first = keys.create("ops")
    second = keys.create("ops")
    assert keys.name_of(first) is None and keys.name_of(second) == "ops"
    assert keys.count() == 1


def test_a_shared_secret_is_made_once(database: Database) -> None:
    values: list[str] = []
    threads = [
        threading.Thread(target=lambda: values.append(shared_secret(database, "session")))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(values)) == 1 and len(values[0]) >= 48


def test_conversations_kept_before_titles_are_titled_by_their_first_question(
    state_settings: Settings,
) -> None:
    """A database at revision 0002 with a conversation in it, brought to the newest."""
    from alembic import command

    from rag.stores.schema import _alembic

    state_settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(state_settings.database_address)
    config = _alembic(database)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    with database.engine.begin() as connection:
        for conversation in ("c1", "c2"):
            connection.execute(
                text(
                    "INSERT INTO conversations (id, owner, created_at, updated_at) "
                    "VALUES (:id, 'key:ana', :now, :now)"
                ),
                {"id": conversation, "now": "2026-11-01T10:00:00+00:00"},
            )
        for role, content in [("user", "How long is probation?"), ("assistant", "6 months [1].")]:
            connection.execute(
                text(
                    "INSERT INTO messages (conversation_id, role, content) "
                    "VALUES ('c1', :role, :content)"
                ),
                {"role": role, "content": content},
            )
    upgraded = open_database(state_settings)
    listed = Conversations(upgraded).list("key:ana")
    assert [(c.id, c.title) for c in listed] == [("c1", "How long is probation?")]


def test_a_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """It holds the session-signing key: a new file and its WAL are 0600, an old 0644 one is
    made so, and a new data dir is 0700."""
    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    Database(f"sqlite:///{old}").dispose()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600

    settings = make_settings(tmp_path / "data")
    database = open_database(settings)
    shared_secret(database, "session")  # written: the WAL exists now
    files = [settings.data_dir / f"{settings.collection}.db{end}" for end in ("", "-wal", "-shm")]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
    database.dispose()
