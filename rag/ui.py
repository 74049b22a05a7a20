"""The Gradio chat: a thin client of `Assistant` and `Ingestor`.

All document text is HTML-escaped before it reaches the page, so markup inside a document
is shown as text and never rendered or run.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import gradio as gr

from index.errors import DocentError
from index.loaders import SUPPORTED_SUFFIXES
from rag.runtime import Runtime
from rag.types import Answer, Citation, Hit, Message

__all__ = ["ChatUI", "display_source", "safe_filename"]

log = logging.getLogger(__name__)

_CSS = """
.docent-card {border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; margin: 8px 0; background: var(--background-fill-secondary);}
.docent-card-head {font-weight: 600; margin-bottom: 4px;}
.docent-card-meta {font-size: 0.85em; opacity: 0.75; margin-bottom: 6px;}
.docent-card-text {white-space: pre-wrap; font-size: 0.92em; margin: 0;}
.docent-card-text mark {background: #fde68a; color: inherit; padding: 0 1px;}
.docent-searched {font-size: 0.9em; opacity: 0.8;}
"""


_NO_SOURCES = "<p>Sources appear here.</p>"


def display_source(source: str) -> str:
    """A source path as people read it: relative to the working folder when inside it."""
    path = Path(source)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return path.name if path.parent.name == "uploads" else source


def safe_filename(name: str) -> str:
    """A file name without folders or unusual characters, keeping its suffix."""
    base = Path(name).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._") or "upload"
    return cleaned[:120]


def _highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` escaped, with each span wrapped in <mark>."""
    parts, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        parts += [html.escape(text[at:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        at = end
    return "".join([*parts, html.escape(text[at:])])


def _card(
    number: int | None,
    hit_text: str,
    title: str,
    source: str,
    page: int | None,
    score: float,
    spans: list[tuple[int, int]],
) -> str:
    body = _highlighted(hit_text, spans)
    label = f"[{number}] " if number is not None else ""
    where = html.escape(display_source(source)) + (f", page {page}" if page is not None else "")
    return (
        '<div class="docent-card">'
        f'<div class="docent-card-head">{label}{html.escape(title)}</div>'
        f'<div class="docent-card-meta">{where} · relevance {score:.2f}</div>'
        f'<p class="docent-card-text">{body}</p></div>'
    )


def citation_card(citation: Citation) -> str:
    return _card(
        citation.n,
        citation.passage,
        citation.title,
        citation.source,
        citation.page,
        citation.score,
        citation.highlights,
    )


def hit_card(hit: Hit) -> str:
    chunk = hit.chunk
    return _card(None, chunk.text, chunk.title, chunk.source, chunk.page, hit.score, [])


def sources_html(answer: Answer) -> str:
    if answer.citations:
        return "<h4>Sources</h4>" + "".join(citation_card(c) for c in answer.citations)
    if answer.retrieved:
        closest = answer.retrieved[:3]
        return "<h4>Closest passages (not used)</h4>" + "".join(hit_card(h) for h in closest)
    return "<p>No documents are indexed yet.</p>"


def answer_markdown(answer: Answer) -> str:
    text = html.escape(answer.text)
    if not answer.abstained and not answer.supported:
        text += "\n\n*This answer cites no passage it was given: treat it as unsupported.*"
    return text


class ChatUI:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def respond(
        self, question: str, conversation: list[dict[str, str]], chat: list[dict[str, Any]]
    ) -> Iterator[tuple[Any, ...]]:
        history = [Message.model_validate(m) for m in conversation]
        chat = [*chat, {"role": "user", "content": html.escape(question)}]
        partial = ""
        try:
            for item in self.runtime.assistant.stream(question, history):
                if isinstance(item, Answer):
                    chat_out = [*chat, {"role": "assistant", "content": answer_markdown(item)}]
                    searched = (
                        f'<div class="docent-searched">Searched for: '
                        f"{html.escape(item.standalone_query)}</div>"
                    )
                    turn = [
                        {"role": "user", "content": question},
                        {"role": "assistant", "content": item.text},
                    ]
                    yield chat_out, [*conversation, *turn], "", searched, sources_html(item)
                else:
                    partial += item
                    chat_out = [*chat, {"role": "assistant", "content": html.escape(partial)}]
                    yield chat_out, conversation, "", gr.skip(), gr.skip()
        except DocentError as exc:
            message = f"Sorry, I could not answer: {html.escape(str(exc))}"
            yield [*chat, {"role": "assistant", "content": message}], conversation, question, "", ""

    def upload(self, files: list[str] | None, progress: gr.Progress | None = None) -> str:
        if not files:
            return "No files were given."
        target = self.runtime.settings.uploads_dir
        target.mkdir(parents=True, exist_ok=True)
        paths, refused = [], []
        for name in files:
            path = Path(name)
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                refused.append(f"{html.escape(path.name)}: unsupported file type")
                continue
            destination = target / safe_filename(path.name)
            shutil.copyfile(path, destination)
            paths.append(destination)

        def report(done: int, total: int, current: Path) -> None:
            if progress is not None and total:
                progress(done / total, desc=f"Indexing {current.name} ({done}/{total})")

        lines = []
        if paths:
            result = self.runtime.ingestor.ingest(paths, progress=report)
            lines.append(f"**Indexed:** {html.escape(result.summary())}")
            lines += [f"- {html.escape(Path(p).name)}: {html.escape(r)}" for p, r in result.failed]
        lines += [f"- {r}" for r in refused]
        return "\n".join(lines)

    def create_app(self) -> gr.Blocks:
        with gr.Blocks(title="Docent") as app:
            gr.Markdown(
                "## Docent\nAsk a question about your documents. Answers cite their sources."
            )
            conversation = gr.State([])
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(label="Conversation", height=420, elem_id="docent-chat")
                    with gr.Row():
                        question = gr.Textbox(
                            placeholder="Ask about your documents…",
                            show_label=False,
                            scale=5,
                            elem_id="docent-question",
                            submit_btn=True,
                        )
                    new_chat = gr.Button("New chat", size="sm", elem_id="docent-new-chat")
                    searched = gr.HTML(elem_id="docent-searched")
                with gr.Column(scale=2):
                    sources = gr.HTML(_NO_SOURCES, elem_id="docent-sources")
            with gr.Accordion("Add documents", open=False):
                files = gr.File(
                    file_count="multiple",
                    file_types=sorted(SUPPORTED_SUFFIXES),
                    label="PDF, Word, HTML, Markdown or text files",
                )
                upload_status = gr.Markdown()
            outputs = [chat, conversation, question, searched, sources]
            question.submit(self.respond, [question, conversation, chat], outputs, api_name="ask")
            new_chat.click(
                lambda: ([], [], "", "", _NO_SOURCES),
                None,
                outputs,
                api_visibility="private",
            )
            files.upload(self._upload_with_progress, files, upload_status, api_name="upload")
        return cast(gr.Blocks, app)

    def _upload_with_progress(
        self,
        files: list[str] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio injects progress this way)
    ) -> str:
        try:
            return self.upload(files, progress)
        except DocentError as exc:
            return f"Upload failed: {html.escape(str(exc))}"

    @staticmethod
    def css() -> str:
        return _CSS
