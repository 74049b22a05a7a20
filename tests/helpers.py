"""Helpers shared by the tests (fixtures live in conftest.py files; tests import helpers only
from here). The only stand-in is `ScriptedChatModel`, a deterministic chat model at the LLM
boundary that records what it was sent."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import httpx
import uvicorn
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from rag.answer.types import Answer, SentenceSupport
from rag.settings import Settings
from rag.stores.feedback import Feedback

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"


class ScriptedChatModel(BaseChatModel):
    """Replies with `reply(messages)` and records every message list it was sent."""

    reply: Callable[[list[BaseMessage]], str]
    received: list[list[BaseMessage]]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.reply(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.received.append(messages)
        for word in self.reply(messages).split(" "):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))


def answer_with(text: str, sentences: list[SentenceSupport]) -> Answer:
    """An answer as a chat model might give it, with the given sentence support."""
    return Answer(
        text=text,
        citations=[],
        retrieved=[],
        standalone_query="q",
        prompt_version="v1",
        generator="scripted",
        abstained=False,
        supported=True,
        sentences=sentences,
    )


def feedback_case(rating: str = "up", question: str = "q?", **fields: object) -> Feedback:
    """A stored rating with sensible defaults; `fields` override any of them."""
    values: dict[str, object] = {
        "rating": rating,
        "question": question,
        "standalone_query": question,
        "answer_text": "An answer [1].",
        "cited_chunk_ids": ["c1"],
        "cited_documents": ["/docs/a.md"],
        "generator": "extractive",
        "prompt_version": "reader.v1",
        **fields,
    }
    return Feedback.model_validate(values)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test: its own data dir, the bundled samples as demo documents, no .env."""
    values = {"data_dir": data_dir, "samples_dir": SAMPLES, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def create_key(settings: Settings, name: str) -> str:
    """An API key for `name` in the database of `settings` (as `app.py apikey create` makes)."""
    from rag.stores.credentials import ApiKeys
    from rag.stores.schema import open_database

    return ApiKeys(open_database(settings)).create(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn on a free 127.0.0.1 port, in a thread; yields its URL.
    As in `serve`, uvicorn believes no forwarding header (the app decides whom to trust)."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def run_cli(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`app.py ARGS` with `data` as its data dir, from a folder with no .env file in it."""
    return _run(data, [str(ROOT / "app.py"), *args], env)


def run_python(
    data: Path, script: str, _env: dict[str, str] | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -c SCRIPT` in a fresh interpreter, set up like `run_cli` (`_env` replaces the
    inherited environment)."""
    return _run(data, ["-c", script], {"PYTHONPATH": str(ROOT), **env}, _env)


def _run(
    data: Path, args: list[str], env: dict[str, str], base: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    data.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={**(os.environ if base is None else base), "DOCENT_DATA_DIR": str(data), **env},
        cwd=data.parent,
        timeout=600,
    )


def wait_for_job(server: str, job_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Poll a job until it is done or failed (two minutes at most)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = httpx.get(
            f"{server}/api/v1/jobs/{job_id}", headers=headers, timeout=10
        ).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} did not finish")


def portal_token(secret: str, lifetime: int = 300, **claims: Any) -> str:
    """A portal token signed now, as a portal's backend makes it: user `ana`, collections
    `["hr"]` unless `claims` say otherwise; a claim given as None is left out."""
    import jwt

    now = int(time.time())
    payload: dict[str, Any] = {"sub": "ana", "aud": "docent", "iat": now, "exp": now + lifetime}
    payload |= {"collections": ["hr"], **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, "HS256")


def flate_bomb_pdf() -> bytes:
    """A one-page PDF of about 200 KB whose content stream inflates to 200 MB (past pypdf's
    75 MB limit for one stream)."""
    stream = zlib.compress(b"BT /F1 12 Tf 72 712 Td (boom) Tj ET\n" + b" " * 200 * 10**6, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        table,
    )
    return bytes(pdf)


def ask(page: Page, question: str) -> None:
    """Type a question into the chat page and send it."""
    box = page.locator("#docent-question textarea")
    box.fill(question)
    box.press("Enter")


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """Where a browser test saves its screenshot: docs/ under `make screenshots`
    (DOCENT_UPDATE_SCREENSHOTS=1), else a temp dir, so tests never dirty the tree."""
    if os.environ.get("DOCENT_UPDATE_SCREENSHOTS") == "1":
        return ROOT / "docs" / name
    return tmp_path / name


# Ground truth for the bundled Northwind Labs samples.
# Ground-truth questions for the bundled Northwind Labs sample documents.
#
# ANSWERABLE rows are (question, expected source filename, fact substring); the
# fact appears verbatim in that file's extracted text and in exactly one
# document's answer-bearing passage. UNANSWERABLE questions concern topics that
# no sample document mentions, so Docent should say it does not know.
ANSWERABLE: Final[list[tuple[str, str, str]]] = [
    (
        "How many vacation days does a full-time employee get each year?",
        "leave-policy.md",
        "26 days",
    ),
    (
        "How many weeks of fully paid leave does the main carer get after a baby arrives?",
        "leave-policy.md",
        "18 weeks",
    ),
    (
        "What is the most I can pay for a hotel room per night on a trip to Berlin?",
        "expenses.md",
        "€165",
    ),
    (
        "How much am I paid back per km when I drive my own car for work?",
        "expenses.md",
        "€0.36",
    ),
    (
        "What is the minimum length for my Northwind account password?",
        "it-security.html",
        "14 characters",
    ),
    (
        "Who do I send a suspicious email to if I think it is a scam?",
        "it-security.html",
        "phishing@northwind.internal",
    ),
    (
        "How long is the probation period for new hires?",
        "onboarding.txt",
        "6 months",
    ),
    (
        "What is the street address of the Lisbon headquarters?",
        "office-locations.pdf",
        "Avenida da Liberdade 245",
    ),
    (
        "What number do I call to reach the front desk of the Dublin office?",
        "office-locations.pdf",
        "+353 1 555 0142",
    ),
    (
        "How many days a week am I allowed to work from home?",
        "remote-work.docx",
        "3 days",
    ),
    (
        "How much money does the company give me to set up a home workspace?",
        "remote-work.docx",
        "€600",
    ),
    (
        "From what flight length am I allowed to fly business class?",
        "travel-policy.pdf",
        "9 hours",
    ),
    (
        "Which travel agency do we have to use to book flights and hotels?",
        "travel-policy.pdf",
        "Meridian Travel",
    ),
    (
        "What is the maximum value of a single gift I'm allowed to accept?",
        "code-of-conduct.docx",
        "€75",
    ),
]

UNANSWERABLE: Final[list[str]] = [
    "What is the vesting schedule for employee stock options?",
    "What is on the cafeteria menu this week?",
    "Is there a dress code for the office?",
    "Am I allowed to bring my dog to work?",
    "Does the company pay for a gym membership?",
]


class PostgresCluster:
    """A throw-away PostgreSQL server (Debian's `postgresql`) in a temp dir on a free loopback
    port; as root, its processes run as the `postgres` user, which initdb requires."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        initdb = shutil.which("initdb") or (str(bins[-1] / "initdb") if bins else None)
        if initdb is None:
            raise RuntimeError("PostgreSQL is missing: run `make test`, which installs it")
        self.bin = Path(initdb).resolve().parent
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="docent-pg-"))
        self.data = self.folder / "data"
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_user:
            shutil.chown(self.folder, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "docent", "-A", "trust")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.folder} -c fsync=off -c max_connections=200"
        )
        log = str(self.folder / "server.log")  # the server must not hold our pipes open
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://docent@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"docent_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"postgresql://docent@127.0.0.1:{self.port}/postgres") as admin:
            admin.autocommit = True
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    """`chroma run` on a free loopback port over `folder`; yields its URL."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(folder)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, "/api/v2/heartbeat")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def start_app(data: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """`app.py ARGS` as a background process (a server or a worker) over `data`."""
    data.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), *args],
        env={**os.environ, "DOCENT_DATA_DIR": str(data), **env},
        cwd=data.parent,
        stdout=subprocess.DEVNULL,
        stderr=(data / "stderr.log").open("wb"),
    )


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], probe: str = "/api/health", timeout: float = 180
) -> None:
    """Poll `url + probe` until it answers 200; fails early if the process ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} ended with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}{probe}", timeout=5).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")
