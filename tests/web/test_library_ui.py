"""The Library, conversation and coverage-gaps handlers of the page over a real runtime, under
the access model: an API key manages everything, a portal token sees only its collections and
changes nothing (the browser tests cover the page itself)."""

from __future__ import annotations

import shutil
import stat
import tempfile
import uuid
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio.utils import get_upload_folder

from index.embeddings import Encoder
from rag.answer.types import Answer
from rag.errors import InputError, NotFoundError
from rag.gaps import coverage_gaps, gaps_csv
from rag.runtime import Runtime, build_runtime
from rag.stores.feedback import Feedback, FeedbackStore
from rag.stores.unanswered import UnansweredLog
from rag.web.app import create_app
from rag.web.auth import Authenticator
from rag.web.chat_ui import ChatUI
from rag.web.errors import AccessError
from rag.web.uploads import Uploads
from tests.helpers import SAMPLES, create_key, make_settings, portal_token
from tests.web.test_chat_ui import worker

SECRET = "s" * 40


@pytest.fixture
def runtime(tmp_path: Path, embeddings: Encoder) -> Runtime:
    """HR and finance documents in two collections, portal tokens accepted."""
    settings = make_settings(tmp_path / "data", jwt_secret=SECRET)
    runtime = build_runtime(settings, embeddings=embeddings)
    for collection, names in {
        "hr": ["leave-policy.md", "onboarding.txt"],
        "finance": ["expenses.md"],
    }.items():
        folder = tmp_path / collection
        folder.mkdir()
        for name in names:
            shutil.copy(SAMPLES / name, folder)
        runtime.ingestor.ingest([folder], collection=collection)
    return runtime


def ui_of(runtime: Runtime) -> ChatUI:
    database = runtime.database
    uploads = Uploads(runtime.settings, runtime.manifest, runtime.stores.jobs)
    authenticator = Authenticator(runtime.settings, database, runtime.stores.api_keys)
    return ChatUI(runtime, uploads, authenticator)


def caller(authorization: str) -> gr.Request:
    headers = {"authorization": f"Bearer {authorization}"}
    return gr.Request(headers=headers, cookies={}, client={"host": "127.0.0.1"})


def answer_of(
    ui: ChatUI,
    question: str,
    request: gr.Request,
    conversation_id: str = "",
    collections: list[str] | None = None,
) -> tuple[Any, ...]:
    """The last update `respond` yields: (…, last answer, conversation id, conversation list)."""
    *_, last = ui.respond(question, [], [], conversation_id, collections or [], request)
    return tuple(last)


def test_a_portal_token_sees_its_collections_and_changes_nothing(runtime: Runtime) -> None:
    ui = ui_of(runtime)
    token = caller(portal_token(SECRET))  # user ana, collections ["hr"]
    assert {d.name for d in ui.library.documents(token)} == {"leave-policy.md", "onboarding.txt"}
    assert ui.library.collections(token) == ["hr"]
    finance = runtime.manifest.documents(["finance"])[0]
    with pytest.raises(AccessError, match="may ask questions but not manage"):
        ui.library.delete(finance.id, token)
    with pytest.raises(AccessError):
        ui.library.reindex(finance.id, token)
    with pytest.raises(AccessError):
        ui.library.upload(["/etc/passwd"], "hr", False, token)
    with pytest.raises(AccessError, match="manage documents"):
        ui.gaps.groups(token)
    assert runtime.manifest.get(finance.id) is not None


def test_a_manager_deletes_and_reindexes_documents(runtime: Runtime) -> None:
    ui = ui_of(runtime)
    admin = caller(create_key(runtime.settings, "admin"))
    assert {d.collection for d in ui.library.documents(admin)} == {"hr", "finance"}
    assert ui.library.collections(admin) == ["default", "finance", "hr"]
    expenses = runtime.manifest.documents(["finance"])[0]
    assert ui.library.delete(expenses.id, admin).startswith("**Deleted** expenses.md (")
    assert runtime.manifest.get(expenses.id) is None
    assert runtime.store.ids_of(expenses.id) == set()
    with pytest.raises(NotFoundError):
        ui.library.delete(expenses.id, admin)
    with pytest.raises(InputError, match="pick a document"):
        ui.library.delete(None, admin)

    leave = next(d for d in runtime.manifest.documents(["hr"]) if d.name == "leave-policy.md")
    seen: list[str] = []
    with worker(runtime):
        status = ui.library.reindex(leave.id, admin, lambda share, desc: seen.append(desc))
    assert status.startswith("**Indexed:** 0 added, 0 unchanged, 1 replaced")
    assert seen[0] == "waiting for a worker (0/1 files)"  # then the file and page at hand
    assert runtime.manifest.get(leave.id).status == "indexed"  # type: ignore[union-attr]


def test_the_collections_picked_are_the_ones_searched(runtime: Runtime) -> None:
    ui = ui_of(runtime)
    admin = caller(create_key(runtime.settings, "admin"))
    question = "How many days of paid annual leave do I get?"
    answer = answer_of(ui, question, admin, collections=["hr"])[7]
    assert isinstance(answer, Answer) and "26 days" in answer.text
    finance_only = answer_of(ui, question, admin, collections=["finance"])[7]
    assert {h.chunk.collection for h in finance_only.retrieved} == {"finance"}
    token = caller(portal_token(SECRET))  # may read hr only: picking finance searches nothing
    nothing = answer_of(ui, question, token, collections=["finance"])[7]
    assert nothing.abstained and nothing.retrieved == []
    assert "26 days" in answer_of(ui, question, token)[7].text


def test_conversations_are_kept_listed_renamed_and_deleted_per_caller(runtime: Runtime) -> None:
    ui = ui_of(runtime)
    ana, bob = caller(portal_token(SECRET)), caller(portal_token(SECRET, sub="bob"))
    first = answer_of(ui, "How long is the probation period?", ana)
    conversation_id = first[8]
    assert conversation_id and [c.title for c in ui.conversations.list("token:ana")] == [
        "How long is the probation period?"
    ]
    again = answer_of(ui, "And who is my buddy?", ana, conversation_id=conversation_id)
    assert again[8] == conversation_id

    chat, _shown, history, reopened, sources, searched, status, feedback = ui.reopen(
        conversation_id, ana
    )
    assert searched == "" and feedback == ""
    assert reopened == conversation_id and status == ""
    assert "onboarding.txt" in sources and 'id="docent-source-2-' in sources  # kept, linked
    assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]
    assert history[2].content == "And who is my buddy?"

    assert ui.reopen(conversation_id, bob)[-2].startswith("unknown or expired conversation")
    assert ui.rename(conversation_id, "Not mine", bob)[1].startswith("unknown")
    assert ui.rename(conversation_id, "  Probation  ", ana)[1] == "Renamed."
    assert [c.title for c in ui.conversations.list("token:ana")] == ["Probation"]
    assert ui.conversations.list("token:bob") == []

    assert ui.delete(conversation_id, True, bob)[-2].startswith("unknown")
    assert ui.delete(conversation_id, False, ana) == (gr.skip(),) * 9, "cancelled: nothing"
    assert ui.delete(conversation_id, True, ana)[-2] == "Deleted."
    assert ui.conversations.list("token:ana") == []


def test_coverage_gaps_group_refused_and_wrongly_answered_questions(runtime: Runtime) -> None:
    ui = ui_of(runtime)
    admin = caller(create_key(runtime.settings, "admin"))
    for question in (
        "Who won the 1998 football World Cup?",
        "Which team won the World Cup in 1998?",
        "Who was the winner of the 1998 football World Cup?",
        "What is the boiling point of mercury?",
    ):
        assert answer_of(ui, question, admin)[7].abstained
    wrong = runtime.assistant.answer("How long is the probation period?")
    ui.feedback_store.add(Feedback.from_answer("How long is the probation period?", wrong, "down"))

    groups = ui.gaps.groups(admin)
    assert [(g.count, g.refused, g.marked_wrong) for g in groups] == [
        (3, 3, 0),
        (1, 0, 1),
        (1, 1, 0),
    ]
    assert "1998" in groups[0].question and len(groups[0].examples) == 2
    assert "probation" in groups[1].question
    lines = gaps_csv(groups).splitlines()
    assert lines[0] == "question,times asked,refused,marked wrong,last asked,also"
    assert len(lines) == 4
    assert (
        coverage_gaps(
            UnansweredLog(runtime.database), FeedbackStore(runtime.database), runtime.embeddings
        )
        == groups
    )


def test_gradio_files_are_private_and_an_upload_is_removed_once_accepted(
    runtime: Runtime,
) -> None:
    """Gradio's folder (uploads, exported CSVs) is this process's own, 0700, not a /tmp/gradio
    every local user reads; an uploaded file is deleted once the database holds it."""
    create_app(runtime)  # sets the folder up before Gradio reads it
    folder = Path(get_upload_folder())
    assert folder != Path(tempfile.gettempdir()) / "gradio"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    received = folder / uuid.uuid4().hex / "desk-note.txt"
    received.parent.mkdir(parents=True)
    received.write_text("Desk 14 is the quiet desk on the third floor.")
    admin = caller(create_key(runtime.settings, "admin"))
    with worker(runtime):
        status = ui_of(runtime).library.upload([str(received)], "hr", False, admin)
    assert status.startswith("**Indexed:** 1 added"), status
    assert not received.exists()
    assert any(d.name == "desk-note.txt" for d in runtime.manifest.documents(["hr"]))
