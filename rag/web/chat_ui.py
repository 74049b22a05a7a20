"""The Gradio chat: a thin client of `Assistant` and `Ingestor`.

All document text is HTML-escaped before it reaches the page, so markup inside a document
is shown as text and never rendered or run; our own markup (source cards, the marking of weakly
supported answer sentences) is added around text that is already escaped.

Under the chat, 👍 / 👎 / "Wrong source" (with an optional correction) rate the last answer;
ratings go to `FeedbackStore(settings.feedback_path)` for `eval --feedback`. Files added here
take the same path as API uploads (`Uploads`: checks, `uploads/<collection>/`, a background job).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, cast

import gradio as gr

from index.loaders import SUPPORTED_SUFFIXES
from index.types import DEFAULT_COLLECTION
from rag.errors import DocentError
from rag.feedback import Feedback, FeedbackStore, Rating
from rag.runtime import Runtime
from rag.sources import describe_location
from rag.types import Answer, Citation, Hit, Message, SentenceSupport
from rag.web.jobs import Job
from rag.web.uploads import Uploads

__all__ = ["ChatUI", "answer_markdown"]

log = logging.getLogger(__name__)

_CSS = """
.docent-card {border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; margin: 8px 0; background: var(--background-fill-secondary);}
.docent-card-head {font-weight: 600; margin-bottom: 4px;}
.docent-card-meta {font-size: 0.85em; opacity: 0.75; margin-bottom: 6px;}
.docent-card-text {white-space: pre-wrap; font-size: 0.92em; margin: 0;}
.docent-card-text mark {background: #fde68a; color: inherit; padding: 0 1px;}
.docent-searched {font-size: 0.9em; opacity: 0.8;}
.docent-unsupported {text-decoration: underline dotted; text-decoration-thickness: 1px;
  text-underline-offset: 3px; opacity: 0.75; cursor: help;}
#docent-feedback button {white-space: nowrap;}
#docent-feedback-status {font-size: 0.9em; opacity: 0.85;}
"""

FEEDBACK_SAVED = "Thanks — feedback saved."
FEEDBACK_NO_ANSWER = "There is no answer to rate yet: ask a question first."
_RATING_BUTTONS: list[tuple[str, str, Rating]] = [
    ("👍 Helpful", "up", "up"),
    ("👎 Not helpful", "down", "down"),
    ("Wrong source", "wrong", "wrong_source"),
]


_NO_SOURCES = "<p>Sources appear here.</p>"


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
    where = html.escape(describe_location(source, page))
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


def _support_title(sentence: SentenceSupport) -> str:
    if not sentence.cites:
        return "Cites no passage"
    return f"Weakly supported by the cited passage (support {sentence.score:.2f})"


def _marked_text(answer: Answer) -> str:
    """`answer.text` escaped, with each weakly supported sentence wrapped in a span."""
    text, parts, at = answer.text, [], 0
    for sentence in sorted(answer.sentences, key=lambda s: s.start):
        start, end = sentence.start, sentence.end
        if sentence.supported or start < at or not start < end <= len(text):
            continue
        title = html.escape(_support_title(sentence))
        parts += [
            html.escape(text[at:start]),
            f'<span class="docent-unsupported" title="{title}">'
            f"{html.escape(text[start:end])}</span>",
        ]
        at = end
    return "".join([*parts, html.escape(text[at:])])


def answer_markdown(answer: Answer) -> str:
    text = _marked_text(answer)
    if not answer.abstained and not answer.supported:
        text += "\n\n*This answer cites no passage it was given: treat it as unsupported.*"
    return text


class ChatUI:
    def __init__(self, runtime: Runtime, uploads: Uploads) -> None:
        self.runtime = runtime
        self.uploads = uploads
        self.feedback_store = FeedbackStore(runtime.settings.feedback_path)

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
                    yield (
                        chat_out,
                        [*conversation, *turn],
                        "",
                        searched,
                        sources_html(item),
                        question,
                        item,
                    )
                else:
                    partial += item
                    chat_out = [*chat, {"role": "assistant", "content": html.escape(partial)}]
                    yield chat_out, conversation, "", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        except DocentError as exc:
            message = f"Sorry, I could not answer: {html.escape(str(exc))}"
            chat_out = [*chat, {"role": "assistant", "content": message}]
            yield chat_out, conversation, question, "", "", "", None

    def rate(
        self, rating: Rating, question: str, answer: Answer | None, correction: str = ""
    ) -> tuple[str, str]:
        """Store a rating of the last answer; returns the status line and the correction box."""
        if answer is None:
            return FEEDBACK_NO_ANSWER, correction
        try:
            self.feedback_store.add(Feedback.from_answer(question, answer, rating, correction))
        except OSError as exc:
            log.warning("could not save feedback: %s", exc)
            return f"Could not save feedback: {html.escape(str(exc))}", correction
        return FEEDBACK_SAVED, ""

    def _rater(self, rating: Rating) -> Callable[[str, Answer | None, str], tuple[str, str]]:
        def rate(question: str, answer: Answer | None, correction: str) -> tuple[str, str]:
            return self.rate(rating, question, answer, correction)

        return rate

    def upload(self, files: list[str] | None, progress: gr.Progress | None = None) -> str:
        """Index files Gradio received, the way the API does; waits for the job to finish."""
        if not files:
            return "No files were given."
        with ExitStack() as stack:
            streams = [(Path(f).name, stack.enter_context(Path(f).open("rb"))) for f in files]
            accepted = self.uploads.accept(streams, DEFAULT_COLLECTION)
        job: Job | None = accepted.job
        while job is not None and job.status in ("queued", "running"):
            if progress is not None and job.total:
                progress(
                    job.done / job.total, desc=f"Indexing {job.current} ({job.done}/{job.total})"
                )
            job = self.uploads.jobs.wait(job.id, timeout=1.0)
        lines = []
        if job is None or job.status == "failed":
            lines.append(f"**Indexing failed:** {html.escape(job.error or '') if job else ''}")
        else:
            result = job.result
            lines.append(f"**Indexed:** {html.escape(result['summary'])}")
            lines += [
                f"- {html.escape(f['name'])}: {html.escape(f['reason'])}" for f in result["failed"]
            ]
        lines += [f"- {html.escape(r.reason)}" for r in accepted.refused]
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
                    with gr.Row(equal_height=True, elem_id="docent-feedback"):
                        ratings: list[tuple[gr.Button, Rating]] = [
                            (
                                gr.Button(
                                    label,
                                    size="sm",
                                    scale=0,
                                    min_width=120,
                                    elem_id=f"docent-feedback-{name}",
                                ),
                                rating,
                            )
                            for label, name, rating in _RATING_BUTTONS
                        ]
                        correction = gr.Textbox(
                            placeholder="Correction: the right answer or source (optional)",
                            show_label=False,
                            container=False,
                            lines=1,
                            max_lines=3,
                            scale=1,
                            elem_id="docent-feedback-correction",
                        )
                    feedback_status = gr.Markdown(elem_id="docent-feedback-status")
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
            last_question = gr.State("")
            last_answer = gr.State(None)
            outputs = [chat, conversation, question, searched, sources, last_question, last_answer]
            question.submit(self.respond, [question, conversation, chat], outputs, api_name="ask")
            question.submit(lambda: "", None, feedback_status, api_visibility="private")
            new_chat.click(
                lambda: ([], [], "", "", _NO_SOURCES, "", None, ""),
                None,
                [*outputs, feedback_status],
                api_visibility="private",
            )
            for button, rating in ratings:
                button.click(
                    self._rater(rating),
                    [last_question, last_answer, correction],
                    [feedback_status, correction],
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
