"""The coverage-gaps tab, for the people who manage documents: questions Docent refused or
people rated wrong, grouped by meaning with their counts (`rag/gaps.py`), and a CSV export."""

from __future__ import annotations

import html
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import DocentError
from rag.gaps import GapGroup, coverage_gaps, gaps_csv
from rag.runtime import Runtime
from rag.stores.feedback import FeedbackStore
from rag.stores.unanswered import UnansweredLog
from rag.web.auth import Principal
from rag.web.errors import AccessError

__all__ = ["COLUMNS", "GapsUI"]

COLUMNS = [
    "Question",
    "Times asked",
    "Refused",
    "Marked wrong",
    "Last asked (UTC)",
    "Also asked as",
]
_HELP = (
    "Questions the documents did not answer (Docent said so, or people marked the answer "
    "wrong), grouped by meaning: the documents worth writing next."
)


_CELL_CHARS = 140  # of a table cell shown; a click shows the rest


class GapsUI:
    def __init__(
        self,
        runtime: Runtime,
        unanswered: UnansweredLog,
        feedback: FeedbackStore,
        principal: Callable[[gr.Request], Principal],
    ) -> None:
        self.runtime = runtime
        self.unanswered = unanswered
        self.feedback = feedback
        self.principal = principal
        self.folder = Path(tempfile.mkdtemp(prefix="docent-gaps-"))  # the CSV, rewritten

    def groups(self, request: gr.Request) -> list[GapGroup]:
        if not self.principal(request).may_manage:
            raise AccessError(
                "coverage gaps are for the people who manage documents", forbidden=True
            )
        return coverage_gaps(self.unanswered, self.feedback, self.runtime.embeddings)

    def _load(self, request: gr.Request) -> tuple[Any, Any, Any, str]:
        """The view, its table and the CSV to download, or why the caller may not see them."""
        try:
            groups = self.groups(request)
        except DocentError as exc:
            return gr.update(visible=False), [], None, html.escape(str(exc))
        rows = [
            [g.question, g.count, g.refused, g.marked_wrong, g.last_asked, " | ".join(g.examples)]
            for g in groups
        ]
        written = self.folder / f"coverage-gaps.{threading.get_ident()}.tmp"
        written.write_text(gaps_csv(groups), encoding="utf-8")
        path = self.folder / "coverage-gaps.csv"
        os.replace(written, path)  # whole, even when two managers export at once
        return gr.update(visible=True), rows, str(path), ""

    def render(self) -> tuple[Callable[[gr.Request], tuple[Any, Any, Any, str]], list[Any]]:
        """Lay out the tab; returns its loader (for when the tab is opened: the grouping
        embeds every question) and the components it fills."""
        status = gr.Markdown(elem_id="docent-gaps-status")
        with gr.Column(visible=False, elem_id="docent-gaps-view") as view:
            gr.Markdown(_HELP)
            table = gr.Dataframe(
                headers=COLUMNS,
                datatype=["str", "number", "number", "number", "str", "str"],
                interactive=False,
                wrap=True,
                max_chars=_CELL_CHARS,  # a pasted essay stays one readable row
                column_widths=["34%", "8%", "8%", "8%", "21%", "21%"],
                elem_id="docent-gaps",
            )
            with gr.Row():
                refresh = gr.Button("Refresh", size="sm", elem_id="docent-gaps-refresh")
                export = gr.DownloadButton("Export CSV", size="sm", elem_id="docent-gaps-export")
        filled = [view, table, export, status]
        refresh.click(self._load, None, filled, api_visibility="private")
        return self._load, filled
