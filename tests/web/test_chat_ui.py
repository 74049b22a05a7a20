"""The UI's handlers over a real runtime (the browser test covers the page itself)."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import gradio as gr
import pytest
from gradio.utils import get_upload_folder

from rag.answer.types import Answer, SentenceSupport
from rag.errors import InputError
from rag.jobs.queue import JobQueue
from rag.jobs.worker import Worker
from rag.runtime import Runtime, Stores
from rag.stores.schema import open_database
from rag.web.auth import Authenticator
from rag.web.chat_ui import (
    FEEDBACK_NO_ANSWER,
    FEEDBACK_SAVED,
    ChatUI,
    answer_html,
    sources_html,
)
from rag.web.uploads import Uploads, safe_filename
from tests.helpers import answer_with


def chat_ui(runtime: Runtime) -> ChatUI:
    database = runtime.database
    uploads = Uploads(runtime.settings, runtime.manifest, runtime.stores.jobs)
    authenticator = Authenticator(runtime.settings, database, runtime.stores.api_keys)
    return ChatUI(runtime, uploads, authenticator)


@contextmanager
def worker(runtime: Runtime) -> Iterator[None]:
    """A real worker thread running queued jobs, as `serve` runs one."""
    stop = threading.Event()
    thread = threading.Thread(target=Worker(runtime, JobQueue(runtime.database)).run, args=(stop,))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def request(authorization: str | None = None) -> gr.Request:
    """What Gradio hands a handler: the caller's headers, cookies and address."""
    headers = {"authorization": authorization} if authorization else {}
    return gr.Request(headers=headers, cookies={}, client={"host": "127.0.0.1"})


VACATION = "How many vacation days does a full-time employee get each year?"


def uploaded(name: str, content: bytes) -> str:
    """A file as Gradio's upload route leaves it: inside its upload folder."""
    folder = Path(get_upload_folder()) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    (folder / name).write_bytes(content)
    return str(folder / name)


def test_upload_indexes_files_and_reports_failures(fresh_runtime: Runtime) -> None:
    files = [
        uploaded("Team notes (final).md", b"# Team notes\n\nThe offsite is in Porto on 12 June.\n"),
        uploaded("tool.exe", b"MZ"),
        uploaded("empty.txt", b""),
    ]
    with worker(fresh_runtime):
        status = chat_ui(fresh_runtime).library.upload(files, "teams", False, request())
    assert "1 added" in status and "1 failed" in status
    assert "tool.exe: unsupported file type" in status and "empty.txt: no text" in status
    (document,) = fresh_runtime.manifest.documents(["teams"])
    assert (document.name, document.status) == ("Team_notes_final_.md", "indexed")
    answer = fresh_runtime.assistant.answer("Where is the offsite?")
    assert "Porto" in answer.text
    cited = answer.citations[0]
    assert cited.name == "Team_notes_final_.md"
    assert answer.retrieved[cited.n - 1].chunk.collection == "teams"


def test_upload_takes_no_server_path_and_no_token(fresh_runtime: Runtime, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("# Secret\n\nThe vault code is 1234.\n")
    ui = chat_ui(fresh_runtime)
    with pytest.raises(InputError, match="only files uploaded through this page"):
        ui.library.upload([str(outside)], "default", False, request())
    traversal = str(Path(get_upload_folder()) / ".." / outside.name)
    with pytest.raises(InputError):
        ui.library.upload([traversal], "default", False, request())
    assert fresh_runtime.store.count() == 0


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("Q3 report <draft>.pdf") == "Q3_report_draft_.pdf"
    assert safe_filename("...") == "upload"


def test_source_cards_escape_document_text(sample_runtime: Runtime) -> None:
    answer = sample_runtime.assistant.answer(
        "Which example strings are used in the Docent security regression tests?"
    )
    cards = sources_html(answer)
    shown = cards.replace("\u200b", "")  # raw HTML keeps a zero-width space after "<"
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in shown
    assert "<script>" not in cards and "<img" not in cards


def feedback_ui(sample_runtime: Runtime, tmp_path: Path) -> ChatUI:
    """The sample runtime with a database of its own under `tmp_path` (for the ratings)."""
    settings = sample_runtime.settings.model_copy(update={"data_dir": tmp_path / "data"})
    database = open_database(settings)
    stores = Stores.open(settings, database)
    own = dataclasses.replace(sample_runtime, settings=settings, database=database, stores=stores)
    return chat_ui(own)


def test_rating_the_last_answer_stores_it(sample_runtime: Runtime, tmp_path: Path) -> None:
    ui = feedback_ui(sample_runtime, tmp_path)
    *_, last = ui.respond(VACATION, [], [], "", [], request())
    chat, shown, conversation, box, _searched, _sources, question, answer, *_ = last
    assert isinstance(answer, Answer) and question == VACATION and box == "" and shown == chat
    assert '<strong class="docent-short">26</strong> days' in chat[-1]["content"]
    assert conversation[-1].content == answer.text

    assert ui.rate("down", question, answer, " It is 30 days ", request()) == (FEEDBACK_SAVED, "")
    assert ui.rate("up", question, answer, "", request()) == (FEEDBACK_SAVED, "")
    stored = [f.model_dump() for f in ui.feedback_store.all()]
    assert sorted(s["rating"] for s in stored) == ["down", "up"]
    stored.sort(key=lambda s: s["rating"])
    assert [s["correction"] for s in stored] == ["It is 30 days", None]
    assert stored[0]["question"] == VACATION and stored[0]["answer_text"] == answer.text
    assert stored[0]["cited_chunk_ids"] == [c.chunk_id for c in answer.citations]
    assert stored[0]["cited_documents"] == ["leave-policy.md"]


def test_a_chat_whose_conversation_was_deleted_elsewhere_goes_on_in_a_new_one(
    sample_runtime: Runtime, tmp_path: Path
) -> None:
    ui = feedback_ui(sample_runtime, tmp_path)
    *_, first = ui.respond(VACATION, [], [], "", [], request())
    history, conversation_id = first[2], first[8]
    assert conversation_id
    ui.conversations.delete(conversation_id, "anonymous:127.0.0.1")  # in another tab
    *_, again = ui.respond(
        "And can unused days be carried over?", history, [], conversation_id, [], request()
    )
    answer, new_id = again[7], again[8]
    assert isinstance(answer, Answer) and not answer.abstained
    assert "carr" in answer.standalone_query, "the session's history still condenses"
    assert new_id and new_id != conversation_id
    kept = ui.conversations.history(new_id, "anonymous:127.0.0.1")
    assert [m.content for m in kept if m.role == "user"] == ["And can unused days be carried over?"]


def test_rating_without_an_answer_says_so(sample_runtime: Runtime, tmp_path: Path) -> None:
    ui = feedback_ui(sample_runtime, tmp_path)
    assert ui.rate("wrong_source", "", None, "leave-policy.md", request()) == (
        FEEDBACK_NO_ANSWER,
        "leave-policy.md",
    )
    with pytest.raises(gr.Error, match="Type a question first"):  # no bubble, no answer
        list(ui.respond("   ", [], [], "", [], request()))
    with pytest.raises(gr.Error, match="50,000 characters long; Docent reads at most 2,000"):
        list(ui.respond("x" * 50_000, [], [], "", [], request()))  # said, never cut
    assert ui.rate("up", "", None, "", request())[0] == FEEDBACK_NO_ANSWER
    assert ui.feedback_store.all() == []


def test_weakly_supported_sentences_are_marked_and_escaped() -> None:
    first = "Leave is 26 days [1]."
    second = 'Run <script>alert("x")</script> & <img src=x onerror=alert(1)> [2].'
    third = "Ask HR."
    text = f"{first} {second} {third}"
    at_second, at_third = len(first) + 1, len(first) + len(second) + 2
    answer = answer_with(
        text,
        [
            SentenceSupport(start=0, end=len(first), cites=[1], score=0.82, supported=True),
            SentenceSupport(
                start=at_second,
                end=at_second + len(second),
                cites=[2],
                score=0.314,
                supported=False,
            ),
            SentenceSupport(start=at_third, end=len(text), cites=[], score=0.0, supported=False),
            SentenceSupport(start=5, end=len(text) + 40, cites=[1], score=0.1, supported=False),
        ],
    )
    assert answer_html(answer) == (
        "Leave is 26 days [1]. "
        '<span class="docent-unsupported" title="Weakly supported by the cited passage '
        '(support 0.31)">Run &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; '
        "&lt;img src=x onerror=alert(1)&gt; [2].</span> "
        '<span class="docent-unsupported" '
        'title="No passage Docent found supports this sentence">Ask HR.</span>'
    )
    plain = answer.model_copy(update={"sentences": []})
    assert answer_html(plain) == (
        "Leave is 26 days [1]. Run &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
        "&lt;img src=x onerror=alert(1)&gt; [2]. Ask HR."
    )
    assert "<script" not in answer_html(answer) and "<img" not in answer_html(answer)
