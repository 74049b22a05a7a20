"""The web app: FastAPI with `/api/health`, the `/api/v1` API, the OpenAI-compatible `/v1`, the
widget, the sign-in page and the Gradio chat at `/`, all behind one access model
(`rag/web/auth.py`) and the request guards of `rag/web/protect.py`."""

from __future__ import annotations

import atexit
import ipaddress
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import gradio as gr
import uvicorn
from fastapi import Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from index.database import Database
from rag.errors import ConfigError, DocentError
from rag.jobs.worker import Worker
from rag.logs import configure_logging
from rag.metrics import CONTENT_TYPE, StateCollector, render
from rag.operations.model_switch import model_label
from rag.runtime import Runtime, build_runtime
from rag.settings import Settings
from rag.web.ask import ask_router
from rag.web.auth import Authenticator, Principal, document_manager, has_credentials
from rag.web.chat_ui import ChatUI
from rag.web.documents import documents_router
from rag.web.errors import add_error_handlers, unknown_endpoints_router
from rag.web.jobs import jobs_router
from rag.web.login import login_router
from rag.web.observe import RequestObserver
from rag.web.openai_compat import openai_router
from rag.web.pages import pages_router
from rag.web.protect import (
    BodyLimit,
    GradioGuard,
    OpenModeGuard,
    SameOriginCookieWrites,
    SecurityHeaders,
    SignInFirst,
)
from rag.web.uploads import Uploads
from rag.web.widget import STATIC, widget_router

__all__ = ["app_from_environment", "check_exposure", "create_app", "serve", "serve_workers"]

log = logging.getLogger(__name__)

_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _guard(app: FastAPI, settings: Settings, authenticator: Authenticator) -> None:
    """The request guards, innermost first (the last added runs first)."""

    def identify(scope: Scope) -> Principal:
        return authenticator.principal_of(Request(scope))

    upload_paths = ["/api/v1/documents", "/gradio_api/upload"]
    app.add_middleware(GradioGuard, identify=identify)
    app.add_middleware(
        SignInFirst,
        identify=identify,
        prefixes=["/gradio_api/", "/api/v1/documents"],
        upload_paths=upload_paths,
    )
    app.add_middleware(SameOriginCookieWrites)  # before any body is read or caller identified
    app.add_middleware(  # outside the guards, so their refusals carry CORS headers too
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    hosts = [*_LOOPBACK_NAMES, settings.host, *settings.allowed_hosts]
    app.add_middleware(OpenModeGuard, is_open=lambda: authenticator.open, hosts=hosts)
    upload_bytes = settings.max_upload_mb * settings.max_upload_files * 2**20 + 2**20
    app.add_middleware(
        BodyLimit,
        limit=settings.max_request_kb * 1024,
        upload_limit=upload_bytes,
        upload_paths=upload_paths,
    )
    app.add_middleware(SecurityHeaders, allowed_origins=settings.allowed_origins)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(RequestObserver)  # outermost: every request, refusals included


def _background(runtime: Runtime) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """While the app runs: its lexical index follows changes made by any process or node,
    and with DOCENT_RUN_JOBS it runs queued ingestion jobs itself (the embedded default)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.follow_changes()
        stop = threading.Event()
        worker = Worker(runtime, runtime.stores.jobs)
        jobs = threading.Thread(target=worker.run, args=(stop,), name="docent-jobs", daemon=True)
        if runtime.settings.run_jobs:
            jobs.start()
        try:
            yield
        finally:
            stop.set()
            if jobs.is_alive():  # answers in flight are done (uvicorn waited for them)
                worker.stop(jobs, runtime.settings.shutdown_grace_seconds)
            runtime.stop_following()

    return lifespan


def private_gradio_folder() -> Path:
    """Gradio keeps uploads and downloads in GRADIO_TEMP_DIR, by default a /tmp/gradio that
    every local user can read: unless the operator names one, this process gets its own, 0700,
    removed at exit. (Not under the data dir: Gradio serves no file from there.)"""
    if "GRADIO_TEMP_DIR" not in os.environ:
        folder = tempfile.mkdtemp(prefix="docent-gradio-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["GRADIO_TEMP_DIR"] = folder
    return Path(os.environ["GRADIO_TEMP_DIR"])


def create_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings
    private_gradio_folder()  # before Gradio's Blocks and routes read it
    app = FastAPIOffline(
        title="Docent",
        summary="Answers from your documents, with citations.",
        static_url="/_docent/docs",
        lifespan=_background(runtime),
    )
    add_error_handlers(app)
    authenticator = Authenticator(settings, runtime.database, runtime.stores.api_keys)
    app.state.authenticator = authenticator
    _guard(app, settings, authenticator)
    jobs = runtime.stores.jobs
    uploads = Uploads(settings, runtime.manifest, jobs)
    app.include_router(ask_router(runtime))
    app.include_router(openai_router(runtime))
    app.include_router(documents_router(lambda: runtime.ingestor, uploads))
    app.include_router(jobs_router(jobs))
    app.include_router(pages_router(runtime))
    app.include_router(widget_router(settings.allowed_origins))
    app.include_router(login_router(authenticator))
    app.include_router(unknown_endpoints_router())
    app.mount("/_docent", StaticFiles(directory=STATIC), name="docent-static")

    @app.get("/api/health")
    def health() -> dict[str, object]:
        """Cheap enough for a load balancer to poll (counts from the manifest, not the store)."""
        return {
            "status": "ok",
            "chunks": runtime.manifest.chunk_count(),
            "documents": runtime.manifest.count(),
            "generator": runtime.assistant.generator.name,
            "embedding_model": model_label(runtime.live.embedding_model),
        }

    state = StateCollector(runtime.manifest, runtime.stores.jobs, runtime.lexical)

    @app.get("/metrics", dependencies=[Depends(document_manager)], include_in_schema=False)
    def metrics() -> Response:
        """Prometheus text format; an admin surface like the document API (an API key)."""
        return Response(render(state), media_type=CONTENT_TYPE)

    @app.get("/api/health/live")
    def live() -> dict[str, str]:
        """Liveness: the process answers HTTP (restart it when this fails)."""
        return {"status": "ok"}

    @app.get("/api/health/ready", responses={503: {"description": "The database is down"}})
    def ready() -> JSONResponse:
        """Readiness: the app exists only once migrations ran, the models loaded and this
        node's lexical index caught up with the change log (`build_runtime`); ready while its
        database answers. `lexical_lag`: changes the index has yet to follow (it follows
        within a second, so a lag during an ingest is no reason to stop routing here)."""
        try:
            lag = max(runtime.manifest.latest_change() - runtime.lexical.watermark(), 0)
        except Exception:  # the database (or the index) cannot be read: not ready
            log.warning("readiness: the database or the lexical index cannot be read")
            return JSONResponse({"status": "unavailable", "reason": "database"}, status_code=503)
        return JSONResponse({"status": "ready", "lexical_lag": lag})

    def gradio_user(request: Request) -> str | None:
        """Gradio's own gate for `/`, `/config` and everything under `/gradio_api`."""
        try:
            return authenticator.principal_of(request).caller
        except DocentError:
            return None

    ui = ChatUI(runtime, uploads, authenticator)
    blocks = ui.create_app()
    mounted: FastAPI = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        css=ui.css(),
        js=ui.js(),
        max_file_size=f"{settings.max_upload_mb}mb",
        footer_links=["api"],
        auth_dependency=gradio_user,
        blocked_paths=[str(settings.data_dir.resolve())],
        enable_monitoring=False,
        run_history=False,
    )
    # Gradio checks that client file paths lie in its upload folder only once `launch()` ran;
    # a mounted app never launches, so the check is switched on here (GradioGuard checks too).
    blocks.has_launched = True
    return mounted


def check_exposure(settings: Settings, database: Database) -> None:
    """Open mode (no credentials) only on a loopback address, unless explicitly allowed."""
    host = settings.host
    if has_credentials(settings, database) or _is_loopback(host):
        return
    if not settings.allow_open:
        raise ConfigError(
            f"Docent has no API key or portal secret, so anyone reaching {host} could read and "
            "change every document. Create a key with `python app.py apikey create NAME` (or "
            "set DOCENT_JWT_SECRET), serve on 127.0.0.1, or set DOCENT_ALLOW_OPEN=true to "
            "accept the risk."
        )
    log.warning(
        "DOCENT_ALLOW_OPEN: serving on %s WITHOUT credentials; anyone who reaches it can read "
        "and change every document (requests must name one of DOCENT_ALLOWED_HOSTS)",
        host,
    )


def serve(runtime: Runtime) -> None:
    """Serve the app on the settings' host and port until interrupted (forwarding headers are
    believed only from DOCENT_TRUSTED_PROXIES)."""
    settings = runtime.settings
    check_exposure(settings, runtime.database)
    uvicorn.run(
        create_app(runtime),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
    )


def app_from_environment() -> FastAPI:
    """The app of one `serve --workers` process: settings from the environment its parent
    prepared (the same data dir, database and Chroma server for every process)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    runtime = build_runtime(settings)
    runtime.ensure_samples()
    return create_app(runtime)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_chroma(settings: Settings) -> tuple[subprocess.Popen[bytes], str]:
    """A Chroma server on loopback over the data dir's store, for processes to share."""
    port = _free_port()
    executable = Path(sys.executable).parent / "chroma"
    command = [str(executable), "run", "--path", str(settings.chroma_dir)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ConfigError(f"the Chroma server stopped at start (exit {server.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise ConfigError("the Chroma server did not start within 2 minutes")


def serve_workers(settings: Settings, workers: int) -> None:
    """`workers` API processes on one port, sharing the database, one Chroma server (started
    here over the data dir's store unless DOCENT_CHROMA_URL names one) and this node's lexical
    index. Each runs queued jobs too, unless DOCENT_RUN_JOBS is off."""
    chroma = None
    environment = {"DOCENT_HOST": settings.host, "DOCENT_PORT": str(settings.port)}
    # Every process counts into its own files here; a scrape of any one adds them up.
    metrics = settings.data_dir / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(mode=0o700, parents=True)
    environment["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    if not settings.chroma_url:
        chroma, environment["DOCENT_CHROMA_URL"] = _start_chroma(settings)
    os.environ.update(environment)  # read by the worker processes' Settings
    try:
        uvicorn.run(
            "rag.web.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=settings.log_level.lower(),
            proxy_headers=False,
            timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
        )
    finally:
        if chroma is not None:
            chroma.terminate()
            chroma.wait()
