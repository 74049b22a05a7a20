"""The Library tab: every document the caller may read (name, collection, status, chunks,
when indexed), uploads into a collection with per-file (and per-page) progress, and delete and
re-index, under the API's permissions: managers (API keys, an open install) change documents,
portal tokens only see the collections they may read.

Uploads take the API's path (`Uploads`: checks, the bytes in the database, a queued job);
only files inside Gradio's own upload folder are taken, never a path the client names.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import gradio as gr

from index.loaders import SUPPORTED_SUFFIXES
from index.manifest import DocumentRecord
from index.types import DEFAULT_COLLECTION
from rag.errors import DocentError, InputError, NotFoundError
from rag.jobs.queue import Job
from rag.operations.model_switch import SWITCH_JOB, model_label
from rag.runtime import Runtime
from rag.web.auth import Principal, require_manager
from rag.web.protect import inside_uploads
from rag.web.uploads import Uploads

__all__ = ["COLUMNS", "LibraryUI"]

COLUMNS = ["Name", "Collection", "Status", "Chunks", "Indexed (UTC)"]
_SHOWN = 1000  # documents listed at most (the API pages through all of them)
_JOB_WAIT = 600.0  # seconds a handler follows its job
_FORMATS = "PDF (scans too), Word, PowerPoint, Excel, CSV, HTML, Markdown, text or images"

Progress = Callable[..., Any]


class LibraryUI:
    def __init__(
        self, runtime: Runtime, uploads: Uploads, principal: Callable[[gr.Request], Principal]
    ) -> None:
        self.runtime = runtime
        self.uploads = uploads
        self.principal = principal

    # --- handlers (each checks the caller itself) ------------------------------------------

    def documents(self, request: gr.Request) -> list[DocumentRecord]:
        """The documents the caller may read, by name (the first `_SHOWN`)."""
        return self.documents_of(self.principal(request))

    def documents_of(self, principal: Principal) -> list[DocumentRecord]:
        return self.runtime.manifest.documents(principal.collections, limit=_SHOWN)

    def collections(self, request: gr.Request) -> list[str]:
        """The collections the caller may search (the default one even when empty)."""
        return self.collections_of(self.principal(request))

    def collections_of(self, principal: Principal) -> list[str]:
        if principal.collections is not None:
            return sorted(set(principal.collections))
        return sorted(set(self.runtime.manifest.collections()) | {DEFAULT_COLLECTION})

    def upload(
        self,
        files: list[str] | None,
        collection: str,
        replace: bool,
        request: gr.Request,
        progress: Progress | None = None,
    ) -> str:
        """Index files Gradio received, the way the API does; waits for the job to finish."""
        principal = require_manager(self.principal(request))
        if not files:
            return "No files were given."
        if not all(inside_uploads(f) for f in files):  # Gradio checked it too
            raise InputError("only files uploaded through this page can be added")
        try:
            with ExitStack() as stack:
                streams = [(Path(f).name, stack.enter_context(Path(f).open("rb"))) for f in files]
                accepted = self.uploads.accept(
                    streams,
                    collection.strip() or DEFAULT_COLLECTION,
                    replace=bool(replace),
                    owner=principal.caller,
                )
        finally:
            for file in files:  # kept in the database once accepted; Gradio's copy goes now
                Path(file).unlink(missing_ok=True)
        lines = self._follow(accepted.job, progress)
        lines += [f"- {html.escape(r.reason)}" for r in accepted.refused]
        return "\n".join(lines)

    def delete(self, doc_id: str | None, request: gr.Request) -> str:
        record = self._readable(doc_id, require_manager(self.principal(request)))
        removed = self.runtime.ingestor.remove_document(record.id)
        if removed is None:
            raise NotFoundError("that document is already gone")
        return f"**Deleted** {html.escape(record.name)} ({removed} chunks)."

    def reindex(
        self, doc_id: str | None, request: gr.Request, progress: Progress | None = None
    ) -> str:
        principal = require_manager(self.principal(request))
        record = self._readable(doc_id, principal)
        return "\n".join(self._follow(self.uploads.reindex(record.id, principal.caller), progress))

    def _readable(self, doc_id: str | None, principal: Principal) -> DocumentRecord:
        if not doc_id:
            raise InputError("pick a document first")
        record = self.runtime.manifest.get(doc_id)
        if record is None or not principal.may_read(record.collection):
            raise NotFoundError("no such document")
        return record

    def _follow(self, job: Job | None, progress: Progress | None) -> list[str]:
        """Wait for the job, showing which file (and page) it is at; its outcome as lines."""
        deadline = time.monotonic() + _JOB_WAIT
        while job is not None and job.status in ("queued", "running"):
            if time.monotonic() > deadline:
                return ["**Still indexing**: the table shows each document's status."]
            if progress is not None and job.total:
                current = job.current or "waiting for a worker"
                progress(job.done / job.total, desc=f"{current} ({job.done}/{job.total} files)")
            job = self.uploads.jobs.wait(job.id, timeout=1.0)
        if job is None:
            return ["**Indexing:** the job is no longer tracked; see the table"]
        if job.status == "failed":
            return [f"**Indexing failed:** {html.escape(job.error or '')}"]
        return [f"**Indexed:** {html.escape(job.result['summary'])}"] + [
            f"- {html.escape(f['name'])}: {html.escape(f['reason'])}" for f in job.result["failed"]
        ]

    # --- the tab ----------------------------------------------------------------------------

    def _table(self, request: gr.Request) -> tuple[Any, Any, Any, Any]:
        try:
            return self.table_of(self.principal(request))
        except DocentError:
            return [], gr.update(choices=[], value=None), gr.update(visible=False), ""

    def index_state(self, principal: Principal) -> str:
        """For a manager: the live embedding model, and a model switch's progress."""
        if not principal.may_manage:
            return ""
        line = f"Index: **{html.escape(model_label(self.runtime.live.embedding_model))}**"
        for job in self.uploads.jobs.active():
            if job.kind == SWITCH_JOB:
                target = html.escape(", ".join(job.items))
                line += f" · switching to **{target}** ({job.status}) {html.escape(job.current)}"
        return line

    def table_of(self, principal: Principal) -> tuple[Any, Any, Any, Any]:
        """The table, the document picker, whether the managing controls show, and the
        index's state."""
        documents = self.documents_of(principal)
        manager = principal.may_manage
        rows = [
            [d.name, d.collection, d.status, d.chunks, d.ingested_at.replace("T", " ")[:16]]
            for d in documents
        ]
        choices = [(f"{d.name} ({d.collection})", d.id) for d in documents]
        index = self.index_state(principal)
        return rows, gr.update(choices=choices, value=None), gr.update(visible=manager), index

    def render(self) -> list[Any]:
        """Lay out the tab inside the current Blocks; returns the components `table_of`
        fills (for the page's load event)."""
        table = gr.Dataframe(
            headers=COLUMNS,
            datatype=["str", "str", "str", "number", "str"],
            interactive=False,
            label="Documents",
            elem_id="docent-library",
        )
        with gr.Column(visible=False, elem_id="docent-library-manage") as manage:
            with gr.Row():
                picked = gr.Dropdown(
                    label="Document", choices=[], scale=3, elem_id="docent-library-pick"
                )
                reindex = gr.Button("Re-index", scale=0, elem_id="docent-library-reindex")
                delete = gr.Button(
                    "Delete", variant="stop", scale=0, elem_id="docent-library-delete"
                )
            with gr.Row():
                collection = gr.Textbox(
                    DEFAULT_COLLECTION,
                    label="Collection",
                    max_length=64,
                    elem_id="docent-upload-collection",
                )
                replace = gr.Checkbox(
                    label="Replace files of the same name", elem_id="docent-upload-replace"
                )
            files = gr.File(
                file_count="multiple",
                file_types=sorted(SUPPORTED_SUFFIXES),
                label=f"Add documents: {_FORMATS}",
                elem_id="docent-upload",
            )
        status = gr.Markdown(elem_id="docent-library-status")
        index = gr.Markdown(elem_id="docent-library-index")
        refresh = gr.Button("Refresh", size="sm", elem_id="docent-library-refresh")
        filled = [table, picked, manage, index]

        def guarded(action: Callable[..., str]) -> Callable[..., str]:
            def run(*args: Any) -> str:
                try:
                    return action(*args)
                except DocentError as exc:
                    return f"**Failed:** {html.escape(str(exc))}"

            return run

        def upload(
            files: list[str] | None,
            collection: str,
            replace: bool,
            request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio injects progress this way)
        ) -> str:
            return guarded(self.upload)(files, collection, replace, request, progress)

        def reindex_picked(
            doc_id: str | None,
            request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008
        ) -> str:
            return guarded(self.reindex)(doc_id, request, progress)

        files.upload(upload, [files, collection, replace], status, api_name="upload").then(
            self._table, None, filled, api_visibility="private"
        )

        def delete_picked(doc_id: str | None, request: gr.Request) -> str:
            return guarded(self.delete)(doc_id, request)

        delete.click(delete_picked, [picked], status, api_visibility="private").then(
            self._table, None, filled, api_visibility="private"
        )
        reindex.click(reindex_picked, [picked], status, api_visibility="private").then(
            self._table, None, filled, api_visibility="private"
        )
        refresh.click(self._table, None, filled, api_visibility="private")
        return filled
