"""Every attack of the security review (../shared/reviews/security.md), replayed as requests
against a live server, each asserting the refusal."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.embeddings import Encoder
from index.types import Hit
from rag.answer.citations import check_citations
from rag.runtime import build_runtime
from rag.settings import Settings
from rag.web.app import create_app
from tests.helpers import (
    SAMPLES,
    create_key,
    flate_bomb_pdf,
    make_settings,
    portal_token,
    serving,
    wait_for_job,
)

SECRET_LINE = "DOCENT_JWT_SECRET=do-not-leak-this-secret-0123456789"


@pytest.fixture(scope="module")
def open_install(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[tuple[str, Settings]]:
    """A fresh `make run`: no credentials, loopback; beside it a .env holding a secret."""
    data = tmp_path_factory.mktemp("open-install")
    (data / ".env").write_text(SECRET_LINE + "\n")
    settings = make_settings(data / "data", rate_limit_per_minute=0)
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "expenses.md", SAMPLES / "onboarding.txt"])
    with serving(create_app(runtime)) as url:
        yield url, settings


def file_data(path: str) -> dict[str, Any]:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def gradio_call(url: str, api_name: str, data: list[Any]) -> str:
    """POST /gradio_api/call/NAME then read its event stream; returns everything received."""
    started = httpx.post(f"{url}/gradio_api/call/{api_name}", json={"data": data}, timeout=30)
    if started.status_code != 200:
        return f"{started.status_code} {started.text}"
    event_id = started.json()["event_id"]
    return httpx.get(f"{url}/gradio_api/call/{api_name}/{event_id}", timeout=60).text


def assert_no_secret(answer: str, settings: Settings) -> None:
    assert "do-not-leak-this-secret" not in answer
    assert str(settings.data_dir) not in answer


@pytest.mark.parametrize(
    "path",
    ["../.env", "/etc/passwd", "data/chroma/chroma.sqlite3", "https://example.com/x.png"],
)
def test_chat_payloads_never_read_a_server_file(
    open_install: tuple[str, Settings], path: str
) -> None:
    """H2: a file reference in any input of /ask (the old chat payload, or the question)."""
    url, settings = open_install
    chat_payload = [{"role": "user", "content": [{"type": "file", "file": file_data(path)}]}]
    for data in (["hi", chat_payload], [file_data(path)]):
        received = gradio_call(url, "ask", data)
        assert received.startswith("403 ") and "files can only come from an upload" in received
    joined = httpx.post(
        f"{url}/gradio_api/queue/join",
        json={"data": [file_data(path)], "fn_index": 0, "session_hash": "attacker"},
        timeout=10,
    )
    assert joined.status_code == 403
    assert_no_secret(joined.text, settings)


def test_the_upload_component_never_reads_a_server_file(
    open_install: tuple[str, Settings],
) -> None:
    url, settings = open_install
    for path in ("README.md", str(settings.data_dir / "uploads"), "/etc/hostname"):
        received = gradio_call(url, "upload", [[file_data(path)], "default", False])
        assert received.startswith("403 "), received
    assert "README" not in httpx.get(f"{url}/api/v1/documents", timeout=10).text


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file%3D/etc/passwd",
        "/gradio_api/file=https://example.com/logo.png",
        "/gradio_api/file/etc/passwd",
        "/gradio_api/proxy=https://example.com/x",
        "/monitoring",
    ],
)
def test_gradio_serves_no_server_file_and_proxies_nothing(
    open_install: tuple[str, Settings], path: str
) -> None:
    """H2, H3, L10: no local path outside Gradio's uploads, no remote URL, no proxy."""
    url, _ = open_install
    response = httpx.get(f"{url}{path}", timeout=10)
    assert response.status_code == 404
    assert "root:" not in response.text


def test_a_huge_body_is_refused_before_it_is_read(open_install: tuple[str, Settings]) -> None:
    """M2: 20 MB of JSON gets 413 (announced by Content-Length, or streamed without it)."""
    url, _ = open_install
    body = json.dumps({"question": "x", "history": [{"role": "user", "content": "a" * 20_000_000}]})
    announced = httpx.post(
        f"{url}/api/v1/ask", content=body, headers={"Content-Type": "application/json"}
    )
    assert announced.status_code == 413

    def chunks() -> Iterator[bytes]:
        for at in range(0, len(body), 1 << 20):
            yield body[at : at + (1 << 20)].encode()

    streamed = httpx.post(
        f"{url}/api/v1/ask", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    gradio = httpx.post(f"{url}/gradio_api/call/ask", content=body.encode(), timeout=30)
    assert gradio.status_code == 413


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/ask", {"question": "x", "history": [{"role": "user", "content": "a" * 100_000}]}),
        ("/api/v1/ask", {"question": "x", "history": [{"role": "user", "content": "a" * 2001}]}),
        ("/api/v1/ask", {"question": "x", "documents": ["a" * 1000]}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "a" * 100_000}]}),
    ],
    ids=["history", "history-user-message", "document-id", "openai-message"],
)
def test_long_messages_are_refused(
    open_install: tuple[str, Settings], path: str, body: dict[str, Any]
) -> None:
    """M2: history and chat messages are bounded like the question."""
    url, _ = open_install
    response = httpx.post(f"{url}{path}", json=body, timeout=10)
    assert response.status_code in (400, 422) and response.json()["error"]["type"] in (
        "invalid_request",
        "invalid_input",
    )


def test_no_absolute_server_path_leaves_the_server(open_install: tuple[str, Settings]) -> None:
    """M4: answers, streams, the OpenAI endpoint and listings name documents by id and name."""
    url, settings = open_install
    question = {"question": "How much is the mileage allowance per kilometre?"}
    responses = [
        httpx.post(f"{url}/api/v1/ask", json=question, timeout=60).text,
        httpx.post(f"{url}/api/v1/ask/stream", json=question, timeout=60).text,
        httpx.post(
            f"{url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": question["question"]}]},
            timeout=60,
        ).text,
        httpx.get(f"{url}/api/v1/documents", timeout=10).text,
        gradio_call(url, "ask", [question["question"]]),
    ]
    for text in responses:
        assert "expenses.md" in text
        assert str(SAMPLES) not in text and str(settings.data_dir) not in text
        assert '"source"' not in text


def test_dns_rebinding_is_refused_in_open_mode(open_install: tuple[str, Settings]) -> None:
    """M5: an open install answers only requests addressed to its own host names."""
    url, _ = open_install
    rebound = httpx.get(f"{url}/api/v1/documents", headers={"Host": "evil.example:7860"})
    assert rebound.status_code == 400 and rebound.json()["error"]["type"] == "invalid_input"
    port = url.rsplit(":", 1)[1]
    for host in ("localhost", f"LocalHost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        response = httpx.get(f"{url}/api/v1/documents", headers={"Host": host})
        assert response.status_code == 200, host
    for host in ("", "[::1", "127.0.0.1.evil.example"):
        assert httpx.get(f"{url}/api/health", headers={"Host": host}).status_code == 400, host


def test_cross_site_form_posts_are_refused_in_open_mode(
    open_install: tuple[str, Settings],
) -> None:
    """M5 (CSRF): a page elsewhere can post a form to a local Docent without a preflight."""
    url, _ = open_install
    files = {"files": ("vpn.md", b"# VPN\n\nSign in at https://evil.example/sso.")}
    from_browser = httpx.post(
        f"{url}/api/v1/documents", files=files, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert from_browser.status_code == 403
    without_header = httpx.post(f"{url}/api/v1/documents", files=files)
    assert without_header.status_code == 403
    assert "X-Requested-With" in without_header.json()["error"]["message"]
    reindex = httpx.post(f"{url}/api/v1/documents/anything/reindex")
    assert reindex.status_code == 403
    assert "vpn.md" not in httpx.get(f"{url}/api/v1/documents", timeout=10).text


def test_every_page_forbids_remote_content(open_install: tuple[str, Settings]) -> None:
    """M1, L9: scripts, styles and images only from Docent; nosniff everywhere."""
    url, _ = open_install
    for path in ("/", "/embed", "/docs", "/api/health"):
        headers = httpx.get(f"{url}{path}", timeout=10, follow_redirects=True).headers
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "img-src 'self' data:" in policy, path
        assert "http" not in policy.replace("frame-ancestors 'self'", ""), path
        assert headers["x-content-type-options"] == "nosniff", path
    assert "script-src 'self';" in httpx.get(f"{url}/embed").headers["content-security-policy"]


def test_a_huge_citation_marker_does_not_break_answers(tmp_path: Path, embeddings: Encoder) -> None:
    """L5: a sentence holding a 5,000-digit marker neither breaks answering nor is taken for
    a citation."""
    huge = f"[{'9' * 5000}]"
    document = tmp_path / "allowances.md"
    document.write_text(f"# Allowances\n\nTravel allowances are listed in table {huge}.\n")
    runtime = build_runtime(make_settings(tmp_path / "data"), embeddings=embeddings)
    runtime.ingestor.ingest([document])
    with serving(create_app(runtime)) as url:
        response = httpx.post(
            f"{url}/api/v1/ask",
            json={"question": "Where are travel allowances listed?"},
            timeout=60,
        )
    assert response.status_code == 200 and response.json()["retrieved"]
    hits = [Hit(chunk=c, score=1.0) for c in list(runtime.store.iter_chunks())]
    checked = check_citations(f"Allowances are listed in table {huge} [1].", hits)
    assert checked.dropped == [] and [c.n for c in checked.citations] == [1]


def test_forwarded_addresses_count_only_from_trusted_proxies(
    tmp_path: Path, embeddings: Encoder
) -> None:
    """M6: X-Forwarded-For cannot buy a fresh rate-limit window unless a proxy is trusted."""

    def statuses(settings: Settings) -> list[int]:
        runtime = build_runtime(settings, embeddings=embeddings)
        with serving(create_app(runtime)) as url:
            return [
                httpx.get(
                    f"{url}/v1/models", headers={"X-Forwarded-For": f"10.0.0.{n}"}, timeout=10
                ).status_code
                for n in range(3)
            ]

    direct = make_settings(tmp_path / "a", rate_limit_per_minute=2)
    assert statuses(direct) == [200, 200, 429]
    proxied = make_settings(tmp_path / "b", rate_limit_per_minute=2, trusted_proxies=["127.0.0.1"])
    assert statuses(proxied) == [200, 200, 200]


def test_the_ui_needs_credentials_once_keys_exist(tmp_path: Path, embeddings: Encoder) -> None:
    """H1: with an API key, everything under /gradio_api asks for a principal too."""
    settings = make_settings(tmp_path / "data")
    key = create_key(settings, "ops")
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "expenses.md"])
    with serving(create_app(runtime)) as url:
        anonymous = httpx.post(f"{url}/gradio_api/call/ask", json={"data": ["mileage?"]})
        upload = httpx.post(f"{url}/gradio_api/upload", files={"files": ("a.md", b"# A")})
        config = httpx.get(f"{url}/config")
        keyed = httpx.post(
            f"{url}/gradio_api/call/ask",
            json={"data": ["mileage?"]},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert [anonymous.status_code, upload.status_code, config.status_code] == [401, 401, 401]
    assert keyed.status_code == 200


def test_strangers_reach_no_gradio_route_and_send_no_upload_body(
    tmp_path: Path, embeddings: Encoder
) -> None:
    """H1, M2: with a key, every /gradio_api route asks for it, and an upload is refused from
    its headers alone: a stranger cannot make the server receive hundreds of megabytes."""
    secret = "portal-secret-for-the-security-tests-0123"
    settings = make_settings(tmp_path / "data", jwt_secret=secret)
    key = create_key(settings, "ops")
    runtime = build_runtime(settings, embeddings=embeddings)
    with serving(create_app(runtime)) as url:
        for path in ("/gradio_api/heartbeat/x", "/gradio_api/startup-events", "/gradio_api/info"):
            response = httpx.get(f"{url}{path}", timeout=10)
            assert response.status_code == 401, path
        keyed = httpx.get(
            f"{url}/gradio_api/info", headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        assert keyed.status_code == 200
        # (Gradio's own login check also guards /gradio_api/upload; /api/v1/documents has
        # only Docent's, since FastAPI parses a form before it runs dependencies.)
        portal_user = f"Authorization: Bearer {portal_token(secret)}\r\n"
        for path in ("/api/v1/documents", "/gradio_api/upload"):
            assert announce_upload(url, path) == b"HTTP/1.1 401 Unauthorized", path
            assert announce_upload(url, path, portal_user) == b"HTTP/1.1 403 Forbidden", path


def announce_upload(url: str, path: str, headers: str = "") -> bytes:
    """Announce a 400 MB upload without sending a byte of it; returns the status line."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{headers}"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {400 * 2**20}\r\n\r\n".encode()
        )
        return connection.recv(4096).split(b"\r\n", 1)[0]


def test_a_pdf_bomb_fails_alone_and_the_batch_goes_on(
    open_install: tuple[str, Settings],
) -> None:
    """M3: a 100 KB PDF whose page decompresses past pypdf's limit is refused in one line; the
    file uploaded with it is indexed."""
    url, _ = open_install
    files = [
        ("files", ("bomb.pdf", flate_bomb_pdf(), "application/pdf")),
        ("files", ("parking.md", b"# Parking\n\nVisitor parking is on level minus two.\n")),
    ]
    headers = {"X-Requested-With": "test"}
    accepted = httpx.post(f"{url}/api/v1/documents", files=files, headers=headers, timeout=30)
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(url, accepted.json()["job"]["id"])
    assert job["status"] == "done", job
    assert [f["name"] for f in job["result"]["failed"]] == ["bomb.pdf"]
    assert "not a readable PDF" in job["result"]["failed"][0]["reason"]
    listed = {d["name"]: d for d in httpx.get(f"{url}/api/v1/documents", timeout=10).json()}
    assert "bomb.pdf" not in listed and listed["parking.md"]["status"] == "indexed"
    deleted = httpx.delete(f"{url}/api/v1/documents/{listed['parking.md']['id']}", timeout=30)
    assert deleted.status_code == 200, "the module's other tests see the install as it was"


def test_https_behind_a_trusted_proxy_gets_hsts(tmp_path: Path, embeddings: Encoder) -> None:
    """L9: browsers are told to keep to https when Docent is served over it."""
    settings = make_settings(tmp_path / "data", trusted_proxies=["127.0.0.1"])
    runtime = build_runtime(settings, embeddings=embeddings)
    with serving(create_app(runtime)) as url:
        tls = httpx.get(f"{url}/api/health", headers={"X-Forwarded-Proto": "https"}, timeout=10)
        plain = httpx.get(f"{url}/api/health", timeout=10)
    assert tls.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in plain.headers
