"""Documents, jobs and collections over HTTP, on a live server with its own index."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from index.embeddings import Encoder
from index.manifest import Manifest
from rag.runtime import build_runtime
from rag.settings import Settings
from rag.stores.schema import open_database
from rag.web.app import create_app
from tests.helpers import SAMPLES, make_settings, serving, wait_for_job


@pytest.fixture(scope="module")
def server_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("documents-api"), max_upload_mb=1)


@pytest.fixture(scope="module")
def server(server_settings: Settings, embeddings: Encoder) -> Iterator[str]:
    runtime = build_runtime(server_settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "expenses.md"])
    with serving(create_app(runtime)) as url:
        yield url


# An install without credentials takes form posts only with this header (CSRF guard).
FORM = {"X-Requested-With": "tests"}
VACATION = "How many vacation days does a full-time employee get?"


def upload(
    server: str,
    files: list[tuple[str, bytes]],
    collection: str | None = None,
    replace: bool = False,
) -> httpx.Response:
    data = {"collection": collection} if collection else {}
    return httpx.post(
        f"{server}/api/v1/documents",
        files=[("files", (name, content)) for name, content in files],
        data={**data, "replace": "true"} if replace else data,
        headers=FORM,
        timeout=60,
    )


def test_upload_indexes_in_the_background(server: str) -> None:
    leave = (SAMPLES / "leave-policy.md").read_bytes()
    response = upload(
        server,
        [("../../HR leave.md", leave), ("notes.exe", b"MZ"), ("big.txt", b"x" * (1024 * 1024 + 1))],
        collection="hr",
    )
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == ["HR_leave.md"]
    assert {r["name"]: r["reason"] for r in body["refused"]} == {
        "notes.exe": "notes.exe: unsupported file type",
        "big.txt": "big.txt: larger than 1 MB",
    }
    job = wait_for_job(server, body["job"]["id"])
    assert job["status"] == "done" and job["result"]["added"] == ["HR_leave.md"]
    assert job["done"] == job["total"] == 1

    documents = httpx.get(
        f"{server}/api/v1/documents", params={"collection": "hr"}, timeout=10
    ).json()
    assert [(d["name"], d["collection"], d["status"]) for d in documents] == [
        ("HR_leave.md", "hr", "indexed")
    ]
    assert documents[0]["chunks"] > 0
    assert {"name": "hr", "documents": 1} in httpx.get(
        f"{server}/api/v1/collections", timeout=10
    ).json()

    in_hr = httpx.post(
        f"{server}/api/v1/ask",
        json={"question": VACATION, "collections": ["hr"]},
        timeout=60,
    ).json()
    assert "26 days" in in_hr["text"]
    elsewhere = httpx.post(
        f"{server}/api/v1/ask",
        json={"question": VACATION, "collections": ["default"]},
        timeout=60,
    ).json()
    assert elsewhere["retrieved"], "the default collection still answers from expenses.md"
    assert all(h["chunk"]["name"] == "expenses.md" for h in elsewhere["retrieved"])


def test_delete_removes_the_document_everywhere(server: str, server_settings: Settings) -> None:
    body = upload(
        server, [("onboarding.txt", (SAMPLES / "onboarding.txt").read_bytes())], "tmp"
    ).json()
    assert wait_for_job(server, body["job"]["id"])["status"] == "done"
    (document,) = httpx.get(
        f"{server}/api/v1/documents", params={"collection": "tmp"}, timeout=10
    ).json()

    deleted = httpx.delete(f"{server}/api/v1/documents/{document['id']}", timeout=30).json()
    assert deleted == {"id": document["id"], "removed_chunks": document["chunks"]}
    assert "source" not in document, "no server path leaves the server"
    manifest = Manifest(open_database(server_settings))
    assert manifest.stored_file("upload:tmp/onboarding.txt") is None, "its bytes are gone too"
    assert (
        httpx.get(f"{server}/api/v1/documents", params={"collection": "tmp"}, timeout=10).json()
        == []
    )
    answer = httpx.post(
        f"{server}/api/v1/ask", json={"question": "How long is the probation period?"}, timeout=60
    ).json()
    assert answer["retrieved"], "other documents are still searched"
    assert all(h["chunk"]["name"] != "onboarding.txt" for h in answer["retrieved"])
    again = httpx.delete(f"{server}/api/v1/documents/{document['id']}", timeout=10)
    assert again.status_code == 404 and again.json()["error"]["type"] == "not_found"


def test_reindex_runs_as_a_job(server: str) -> None:
    (expenses,) = [
        d
        for d in httpx.get(f"{server}/api/v1/documents", timeout=10).json()
        if d["name"] == "expenses.md"
    ]
    job = httpx.post(
        f"{server}/api/v1/documents/{expenses['id']}/reindex", headers=FORM, timeout=10
    )
    assert job.status_code == 202 and job.json()["kind"] == "reindex"
    finished = wait_for_job(server, job.json()["id"])
    assert finished["status"] == "done" and finished["result"]["replaced"] == ["expenses.md"]


@pytest.mark.parametrize(
    ("files", "collection", "message"),
    [
        ([("a.exe", b"x")], None, "no file was accepted: a.exe: unsupported file type"),
        ([("a.txt", b"hello there")], "../etc", "invalid collection name '../etc'"),
    ],
)
def test_bad_uploads_are_refused(
    server: str, files: list[tuple[str, bytes]], collection: str | None, message: str
) -> None:
    response = upload(server, files, collection)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_unknown_job_is_404(server: str) -> None:
    response = httpx.get(f"{server}/api/v1/jobs/nope", timeout=10)
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"


def test_a_name_in_use_is_replaced_only_when_asked(server: str) -> None:
    first = upload(server, [("desks.txt", b"Desk booking opens at 07:00.")], "facilities")
    assert wait_for_job(server, first.json()["job"]["id"])["status"] == "done"
    again = upload(server, [("desks.txt", b"Desk booking opens at 06:00.")], "facilities")
    assert again.status_code == 400
    assert "desks.txt: a document of this name exists" in again.json()["error"]["message"]
    replaced = upload(
        server, [("desks.txt", b"Desk booking opens at 06:00.")], "facilities", replace=True
    )
    job = wait_for_job(server, replaced.json()["job"]["id"])
    assert job["status"] == "done" and job["result"]["replaced"] == ["desks.txt"]
