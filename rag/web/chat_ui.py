"""The Gradio page: a thin client of `ChatService` (`rag/chat.py`), the stores, `Uploads` and
the gaps view, under the same access model as the API: every handler asks the `Authenticator` for
the caller's principal (API key or portal token, as a bearer header or the UI session cookie;
anonymous only in open mode), answers only from the collections that principal may read (the
ones picked, if any), and lets only managers change documents or see coverage gaps.

Tabs: Chat (past conversations to reopen, rename or delete; the collections searched; answers
whose [n] markers lead to their source cards, PDF and scan citations with their page), Library
(`library_ui.py`) and Coverage gaps (`gaps_ui.py`). Nothing the client sends is taken as a file
and conversations are kept server-side, per caller (`Conversations`).

Document text is HTML-escaped, or for Markdown documents rendered without raw HTML, images or
links (`passages.py`); the chat renders no Markdown, so markup inside a document or a model's
answer is shown as text and never rendered, loaded or run; our own markup (source cards, links
to them, the marking of weakly supported answer sentences) is added around escaped text.

Under the chat, 👍 / 👎 / "Wrong source" (with an optional correction) rate the last answer;
ratings go to `FeedbackStore` for `eval --feedback` and the coverage gaps.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, cast

import gradio as gr

from index.types import Scope
from rag.answer.citations import MARKER
from rag.answer.sources import describe_location, location_label
from rag.answer.suggestions import Suggestions
from rag.answer.types import (
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    Answer,
    Citation,
    Hit,
    Message,
    SentenceSupport,
    Token,
)
from rag.chat import Conversation
from rag.errors import DocentError, InputError
from rag.runtime import Runtime
from rag.stores.feedback import Feedback, Rating
from rag.web.auth import Authenticator, Principal, readable_collections
from rag.web.gaps_ui import GapsUI
from rag.web.library_ui import LibraryUI
from rag.web.page_images import PAGED_SUFFIXES
from rag.web.pages import page_url
from rag.web.passages import passage_html
from rag.web.uploads import Uploads

__all__ = ["ChatUI", "answer_html"]

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
#docent-question-count {font-size: 0.85em; opacity: 0.8; min-height: 0;}
#docent-question-count.docent-too-long {color: #cf222e; opacity: 1;}
"""

FEEDBACK_SAVED = "Thanks — feedback saved."
FEEDBACK_NO_ANSWER = "There is no answer to rate yet: ask a question first."
_RATING_BUTTONS: list[tuple[str, str, Rating]] = [
    ("👍 Helpful", "up", "up"),
    ("👎 Not helpful", "down", "down"),
    ("Wrong source", "wrong", "wrong_source"),
]


_NO_SOURCES = "<p>Sources appear here.</p>"
_SUGGESTED = 3  # questions an empty chat offers
_COUNTER_SHOWN_FROM = 1500  # characters: the counter shows past this
# Runs in the browser as the page loads: how long the question is, once that matters.
_COUNTER_JS = f"""() => {{
  document.addEventListener('input', (event) => {{
    if (!event.target.matches('#docent-question textarea')) return;
    const box = document.querySelector('#docent-question-count');
    const n = event.target.value.length, most = {MAX_QUESTION_CHARS};
    const shown = (k) => k.toLocaleString('en');
    box.textContent = n < {_COUNTER_SHOWN_FROM} ? '' : n > most
      ? `${{shown(n)}} / ${{shown(most)}} characters: too long, Docent reads at most `
        + `${{shown(most)}}; shorten it`
      : `${{shown(n)}} / ${{shown(most)}} characters`;
    box.classList.toggle('docent-too-long', n > most);
  }});
}}"""


def _card(
    hit_text: str,
    title: str,
    name: str,
    page: int | None,
    score: float,
    spans: list[tuple[int, int]],
    citation: tuple[str, int, str] | None = None,  # (turn, n, chunk id) of a cited passage
) -> str:
    label, anchor, picture = "", "", ""
    if citation is not None:
        turn, number, chunk_id = citation
        label, anchor = f"[{number}] ", f' id="docent-source-{turn}-{number}"'
        if page is not None and PurePosixPath(name).suffix.lower() in PAGED_SUFFIXES:
            where_on = html.escape(location_label(name, page) or "")
            picture = (
                f'<details class="docent-page"><summary>Show {where_on}</summary>'
                f'<img loading="lazy" alt="{where_on} of {html.escape(name)}, the passage '
                f'highlighted" src="{html.escape(page_url(chunk_id, spans))}"></details>'
            )
    where = html.escape(describe_location(name, page))
    return (
        f'<div class="docent-card"{anchor}>'
        f'<div class="docent-card-head">{label}{html.escape(title)}</div>'
        f'<div class="docent-card-meta">{where} · relevance {score:.2f}</div>'
        f"{passage_html(hit_text, name, spans)}{picture}</div>"
    )


def citation_card(citation: Citation, turn: str = "0") -> str:
    return _card(
        citation.passage,
        citation.title,
        citation.name,
        citation.page,
        citation.score,
        citation.highlights,
        (turn, citation.n, citation.chunk_id),
    )


def hit_card(hit: Hit) -> str:
    chunk = hit.chunk
    return _card(chunk.text, chunk.title, chunk.name, chunk.page, hit.score, [])


def sources_html(answer: Answer, turn: str = "0") -> str:
    if answer.citations:
        return "<h4>Sources</h4>" + "".join(citation_card(c, turn) for c in answer.citations)
    if answer.retrieved:
        closest = answer.retrieved[:3]
        return "<h4>Closest passages (not used)</h4>" + "".join(hit_card(h) for h in closest)
    return "<p>No documents are indexed yet.</p>"


def _support_title(sentence: SentenceSupport) -> str:
    if not sentence.cites:
        return "No passage Docent found supports this sentence"
    return f"Weakly supported by the cited passage (support {sentence.score:.2f})"


Decoration = tuple[int, int, str, str]  # start, end, opening tag, closing tag


def _decorated(text: str, decorations: list[Decoration]) -> str:
    """`text` escaped, each span wrapped in its tags; spans must nest or be apart (one that
    crosses another, or leaves the text, is left out)."""
    parts: list[str] = []
    at, open_ends = 0, [(len(text), "")]  # a stack of (end, closing tag)
    for start, end, opening, closing in sorted(decorations, key=lambda d: (d[0], -d[1])):
        while len(open_ends) > 1 and open_ends[-1][0] <= start:
            close_at, tag = open_ends.pop()
            parts += [html.escape(text[at:close_at]), tag]
            at = close_at
        if not at <= start < end <= open_ends[-1][0]:
            continue
        parts += [html.escape(text[at:start]), opening]
        open_ends.append((end, closing))
        at = start
    for close_at, tag in reversed(open_ends):
        parts += [html.escape(text[at:close_at]), tag]
        at = close_at
    return "".join(parts)


def _marked_text(answer: Answer, turn: str) -> str:
    """`answer.text` escaped, each weakly supported sentence in a span, the short answer bold,
    each citation marker a link to its source card."""
    decorations: list[Decoration] = [
        (
            s.start,
            s.end,
            f'<span class="docent-unsupported" title="{html.escape(_support_title(s))}">',
            "</span>",
        )
        for s in answer.sentences
        if not s.supported
    ]
    short = answer.short_answer
    if short and short.answer_span:
        decorations.append((*short.answer_span, '<strong class="docent-short">', "</strong>"))
    cited = {c.n for c in answer.citations}
    for marker in MARKER.finditer(answer.text):  # [n] leads to its source card
        numbers = [int(n) for n in re.findall(r"\d+", marker.group(0))]
        if numbers and numbers[0] in cited:
            link = f'<a class="docent-cite" href="#docent-source-{turn}-{numbers[0]}">'
            decorations.append((marker.start(), marker.end(), link, "</a>"))
    return _decorated(answer.text, decorations)


def answer_html(answer: Answer, turn: str = "0") -> str:
    """The answer as the chat shows it: escaped text (the chat renders no Markdown), weak
    sentences marked, markers linked to the source cards of `turn`, and a warning when no
    passage it was given backs it."""
    text = _marked_text(answer, turn)
    if not answer.abstained and not answer.supported:
        text += (
            "<br><br><em>This answer cites no passage it was given: treat it as unsupported.</em>"
        )
    return text


def _client(request: gr.Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class _ConversationList:
    """The chat tab's left column: past conversations and what acts on them."""

    new_chat: gr.Button
    past: gr.Radio
    title: gr.Textbox
    rename: gr.Button
    delete: gr.Button
    status: gr.Markdown
    delete_confirmed: gr.Checkbox  # the browser's answer to "Delete this conversation?"


@dataclass(frozen=True)
class _FeedbackRow:
    """The rating buttons under the chat, the correction box and their status line."""

    ratings: tuple[tuple[gr.Button, Rating], ...]
    correction: gr.Textbox
    status: gr.Markdown


@dataclass(frozen=True)
class _ChatTab:
    """The chat tab's components and session state."""

    conversation: gr.State  # the messages kept (`Message`s)
    shown: gr.State  # the chat as shown
    conversation_id: gr.State
    conversations: _ConversationList
    collections: gr.Dropdown
    chat: gr.Chatbot
    suggestion_row: gr.Row
    suggestions: tuple[gr.Button, ...]
    question: gr.Textbox
    feedback: _FeedbackRow
    searched: gr.HTML
    sources: gr.HTML
    last_question: gr.State
    last_answer: gr.State
    picked: gr.State  # the collections picked

    def answer_inputs(self) -> list[Any]:
        """What `respond` takes, in its order."""
        return [self.question, self.conversation, self.shown, self.conversation_id, self.picked]

    def answer_outputs(self) -> list[Any]:
        """What `respond` yields, in its order."""
        return [
            *(self.chat, self.shown, self.conversation, self.question, self.searched),
            *(self.sources, self.last_question, self.last_answer, self.conversation_id),
            self.conversations.past,
        ]


class ChatUI:
    """The page: the Chat tab (past conversations, the collections searched, answers with
    their source cards, ratings), the Library tab and the Coverage-gaps tab."""

    def __init__(
        self,
        runtime: Runtime,
        uploads: Uploads,
        authenticator: Authenticator,
    ) -> None:
        self.runtime = runtime
        self.uploads = uploads
        self.authenticator = authenticator
        self.feedback_store = runtime.stores.feedback
        self.conversations = runtime.stores.conversations
        self.library = LibraryUI(runtime, uploads, self.principal)
        self._suggestions = Suggestions(runtime.manifest, runtime.store, runtime.assistant)
        self.gaps = GapsUI(
            runtime, runtime.stores.unanswered, runtime.stores.feedback, self.principal
        )

    @property
    def suggestions(self) -> Suggestions:
        """Suggested questions from the node's current index (a model switch replaces it)."""
        if self._suggestions.store is not self.runtime.store:
            runtime = self.runtime
            self._suggestions = Suggestions(runtime.manifest, runtime.store, runtime.assistant)
        return self._suggestions

    def principal(self, request: gr.Request) -> Principal:
        """The caller, exactly as the API would see it (rate limit included)."""
        headers = {str(k).lower(): str(v) for k, v in dict(request.headers).items()}
        cookies = {str(k): str(v) for k, v in dict(request.cookies).items()}
        return self.authenticator.from_headers(headers, cookies, _client(request))

    def respond(
        self,
        question: str,
        conversation: list[Message],
        chat: list[dict[str, Any]],
        conversation_id: str,
        collections: list[str] | None,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer `question` for the caller from the collections picked (all they may read
        when none is) and keep the exchange in the conversation; yields (chat, chat state,
        conversation, question box, searched, sources, last question, last answer,
        conversation id, conversation list)."""
        question = str(question)
        skip = gr.skip()
        # Neither adds a bubble, and the box keeps what was typed; nothing is cut silently.
        if not question.strip():
            raise gr.Error("Type a question first.", title="Nothing to ask")
        if len(question) > MAX_QUESTION_CHARS:
            raise gr.Error(
                f"The question is {len(question):,} characters long; Docent reads at most "
                f"{MAX_QUESTION_CHARS:,}. Shorten it and ask again.",
                title="Question too long",
            )
        turn = str(len(chat))  # names this answer's source cards, for its [n] links
        chat = [*chat, {"role": "user", "content": html.escape(question)}]
        partial = ""
        try:
            principal = self.principal(request)
            wanted = [str(c)[:64] for c in collections or []][:100] or None
            scope = Scope.of(collections=readable_collections(principal, wanted))
            chat_service = self.runtime.chat
            # The session holds this chat's history; a conversation gone meanwhile (deleted in
            # another tab, or past the caller's limit) continues as a new one.
            asked_in = Conversation(conversation_id or None, tuple(conversation))
            for event in chat_service.stream(principal.caller, question, asked_in, scope):
                if isinstance(event, Token):
                    partial += event.text
                    chat_out = [*chat, {"role": "assistant", "content": html.escape(partial)}]
                    yield chat_out, skip, skip, "", skip, skip, skip, skip, skip, skip
                    continue
                item, conversation_id = event.answer, event.conversation_id or ""
                chat_out = [*chat, {"role": "assistant", "content": answer_html(item, turn)}]
                searched = (
                    f'<div class="docent-searched">Searched for: '
                    f"{html.escape(item.standalone_query)}</div>"
                )
                exchange = [
                    Message(role="user", content=question),
                    Message(role="assistant", content=item.text[:MAX_ANSWER_CHARS]),
                ]
                history = [*conversation, *exchange][-self.conversations.max_messages :]
                listed = self._listed(principal, conversation_id)
                sources = sources_html(item, turn)
                yield (
                    *(chat_out, chat_out, history, "", searched, sources, question, item),
                    *(conversation_id, listed),
                )
        except DocentError as exc:
            message = f"Sorry, I could not answer: {html.escape(str(exc))}"
            chat_out = [*chat, {"role": "assistant", "content": message}]
            yield chat_out, chat_out, conversation, question, "", "", "", None, skip, skip

    def _listed(self, principal: Principal, selected: str | None = None) -> Any:
        """The conversation list of the caller, `selected` picked."""
        choices = [
            (f"{c.title} · {c.updated_at[:16].replace('T', ' ')}", c.id)
            for c in self.conversations.list(principal.caller)
        ]
        return gr.update(choices=choices, value=selected or None)

    def reopen(self, conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        """A past conversation back in the chat, each answer with its [n] links and the last
        answer's source cards: chat, chat state, conversation, id, sources, searched, status,
        feedback status."""
        if not conversation_id:
            return (gr.skip(),) * 8
        try:
            owner = self.principal(request).caller
            turns = self.conversations.turns(conversation_id, owner)
        except DocentError as exc:
            return (*(gr.skip(),) * 6, html.escape(str(exc)), gr.skip())
        chat: list[dict[str, Any]] = []
        sources = "<p>This conversation's answers cite no passage.</p>"
        for turn in turns:
            message = turn.message
            if message.role == "user" or not turn.citations:
                chat.append({"role": message.role, "content": html.escape(message.content)})
                continue
            kept = Answer.kept(message.content, turn.citations)
            number = str(len(chat) - 1)  # as `respond` numbered it: its question's place
            chat.append({"role": "assistant", "content": answer_html(kept, number)})
            sources = sources_html(kept, number)
        history = [turn.message for turn in turns]
        return chat, chat, history, conversation_id, sources, "", "", ""

    def rename(self, conversation_id: str, title: str, request: gr.Request) -> tuple[Any, str]:
        """Rename the open conversation: the list, and a status line."""
        try:
            principal = self.principal(request)
            if not conversation_id:
                raise InputError("open or start a conversation first")
            self.conversations.rename(conversation_id, principal.caller, title)
        except DocentError as exc:
            return gr.skip(), html.escape(str(exc))
        return self._listed(principal, conversation_id), "Renamed."

    def delete(self, conversation_id: str, confirmed: bool, request: gr.Request) -> tuple[Any, ...]:
        """Delete the open conversation (unless the person cancelled) and start a new chat:
        chat, chat state, conversation, id, the list, sources, searched, status, feedback
        status."""
        if not confirmed:
            return (gr.skip(),) * 9
        try:
            principal = self.principal(request)
            if not conversation_id:
                raise InputError("open a conversation first")
            self.conversations.delete(conversation_id, principal.caller)
        except DocentError as exc:
            return (*(gr.skip(),) * 7, html.escape(str(exc)), gr.skip())
        return [], [], [], "", self._listed(principal), _NO_SOURCES, "", "Deleted.", ""

    def suggested(self, request: gr.Request) -> list[Any]:
        """The empty chat's suggestions for the caller: one update a button, hidden when
        there is none (or the caller is not signed in)."""
        try:
            principal = self.principal(request)
            questions = self.suggestions.for_collections(readable_collections(principal, None))
        except DocentError:
            questions = []
        shown = [gr.update(value=q, visible=True) for q in questions[:_SUGGESTED]]
        return shown + [gr.update(visible=False)] * (_SUGGESTED - len(shown))

    def _on_load(self, request: gr.Request) -> tuple[Any, ...]:
        """What the page shows its caller (who is asked once): collections to pick from, past
        conversations, the library's table."""
        try:
            principal = self.principal(request)
        except DocentError:
            hidden = gr.update(choices=[], value=None)
            return hidden, hidden, [], hidden, gr.update(visible=False)
        collections = gr.update(choices=self.library.collections_of(principal), value=[])
        return collections, self._listed(principal), *self.library.table_of(principal)

    def rate(
        self,
        rating: Rating,
        question: str,
        answer: Answer | None,
        correction: str,
        request: gr.Request,
    ) -> tuple[str, str]:
        """Store a rating of the last answer; returns the status line and the correction box."""
        if answer is None:
            return FEEDBACK_NO_ANSWER, correction
        try:
            self.principal(request)
            self.feedback_store.add(Feedback.from_answer(question, answer, rating, correction))
        except DocentError as exc:
            return f"Could not save feedback: {html.escape(str(exc))}", correction
        except OSError as exc:
            log.warning("could not save feedback: %s", exc)
            return "Could not save feedback: the feedback store cannot be written", correction
        return FEEDBACK_SAVED, ""

    def _rater(
        self, rating: Rating
    ) -> Callable[[str, Answer | None, str, gr.Request], tuple[str, str]]:
        def rate(
            question: str, answer: Answer | None, correction: str, request: gr.Request
        ) -> tuple[str, str]:
            return self.rate(rating, question, answer, correction, request)

        return rate

    def create_app(self) -> gr.Blocks:
        # Gradio's upload cache is emptied of files older than an hour (uploads are kept in
        # the database as soon as they are accepted).
        with gr.Blocks(title="Docent", delete_cache=(3600, 3600)) as app:
            gr.Markdown(
                "## Docent\nAsk a question about your documents. Answers cite their sources."
            )
            with gr.Tabs(elem_id="docent-tabs"):
                with gr.Tab("Chat", id="chat", elem_id="docent-tab-chat"):
                    chat_filled = self._chat_tab()
                with gr.Tab("Library", id="library", elem_id="docent-tab-library"):
                    library = self.library.render()
                with gr.Tab("Coverage gaps", id="gaps", elem_id="docent-tab-gaps") as gaps_tab:
                    load_gaps, gaps_filled = self.gaps.render()
            app.load(self._on_load, None, [*chat_filled, *library], api_visibility="private")
            app.load(self.suggested, None, self._suggestion_buttons, api_visibility="private")
            gaps_tab.select(load_gaps, None, gaps_filled, api_visibility="private")
        # Gradio runs one event of a kind at a time unless told: answers run side by side.
        app.queue(default_concurrency_limit=self.runtime.settings.chat_concurrency)
        return cast(gr.Blocks, app)

    def _chat_tab(self) -> list[Any]:
        """Lay out the chat tab and wire its events; returns what the page's load fills
        (collections, list)."""
        tab = self._chat_layout()
        self._wire_questions(tab)
        self._wire_new_chat(tab)
        self._suggestion_buttons = list(tab.suggestions)
        self._wire_conversation_list(tab)
        self._wire_feedback(tab)
        return [tab.collections, tab.conversations.past]

    def _chat_layout(self) -> _ChatTab:
        """Conversations | collections, chat, suggestions, question, ratings | sources."""
        conversation, shown, conversation_id = gr.State([]), gr.State([]), gr.State("")
        with gr.Row():
            with gr.Column(scale=1, min_width=220):
                conversations = self._conversation_list()
            with gr.Column(scale=3):
                collections = gr.Dropdown(
                    choices=[],
                    multiselect=True,
                    label="Search in (every collection you may read when none is picked)",
                    elem_id="docent-collections",
                )
                chat = self.chatbot()
                suggestion_row, suggestions = self._suggestion_row()
                question = self._question_box()
                feedback = self._feedback_row()
                searched = gr.HTML(elem_id="docent-searched")
            with gr.Column(scale=2):
                sources = gr.HTML(_NO_SOURCES, elem_id="docent-sources")
        return _ChatTab(
            conversation=conversation,
            shown=shown,
            conversation_id=conversation_id,
            conversations=conversations,
            collections=collections,
            chat=chat,
            suggestion_row=suggestion_row,
            suggestions=suggestions,
            question=question,
            feedback=feedback,
            searched=searched,
            sources=sources,
            # made after the layout, in this order (as components are numbered)
            last_question=gr.State(""),
            last_answer=gr.State(None),
            picked=gr.State([]),
        )

    @staticmethod
    def _conversation_list() -> _ConversationList:
        """A new chat; past conversations to reopen, rename or delete; their status line."""
        new_chat = gr.Button("New chat", size="sm", elem_id="docent-new-chat")
        past = gr.Radio(choices=[], label="Conversations", elem_id="docent-conversations")
        title = gr.Textbox(
            placeholder="New title",
            show_label=False,
            max_length=200,
            elem_id="docent-conversation-title",
        )
        with gr.Row():
            rename = gr.Button("Rename", size="sm", elem_id="docent-conversation-rename")
            delete = gr.Button(
                "Delete", size="sm", variant="stop", elem_id="docent-conversation-delete"
            )
        status = gr.Markdown(elem_id="docent-conversation-status")
        # what the browser's "Delete this conversation?" was answered (a State's value never
        # reaches the browser, so the answer travels beside it)
        delete_confirmed = gr.Checkbox(False, visible=False)
        return _ConversationList(new_chat, past, title, rename, delete, status, delete_confirmed)

    @staticmethod
    def _suggestion_row() -> tuple[gr.Row, tuple[gr.Button, ...]]:
        """The empty chat's suggested questions: hidden until the page's load fills them."""
        with gr.Row(elem_id="docent-suggestions") as row:
            buttons = tuple(
                gr.Button(
                    visible=False,
                    size="sm",
                    variant="secondary",
                    elem_classes=["docent-suggestion"],
                )
                for _ in range(_SUGGESTED)
            )
        return row, buttons

    @staticmethod
    def _question_box() -> gr.Textbox:
        """The question box and, under it, its length counter (filled by `_COUNTER_JS`)."""
        question = gr.Textbox(
            placeholder="Ask about your documents…",
            show_label=False,
            elem_id="docent-question",
            submit_btn=True,
        )
        gr.HTML("", elem_id="docent-question-count", container=False)
        return question

    @staticmethod
    def _feedback_row() -> _FeedbackRow:
        """The rating buttons and the correction box in a row, the status line under it."""
        with gr.Row(equal_height=True, elem_id="docent-feedback"):
            ratings = tuple(
                (
                    gr.Button(
                        label, size="sm", scale=0, min_width=120, elem_id=f"docent-feedback-{name}"
                    ),
                    rating,
                )
                for label, name, rating in _RATING_BUTTONS
            )
            correction = gr.Textbox(
                placeholder="Correction: the right answer or source (optional)",
                show_label=False,
                container=False,
                lines=1,
                max_lines=3,
                max_length=1000,
                scale=1,
                elem_id="docent-feedback-correction",
            )
        status = gr.Markdown(elem_id="docent-feedback-status")
        return _FeedbackRow(ratings, correction, status)

    def _wire_questions(self, tab: _ChatTab) -> None:
        """A submitted question, or a suggestion clicked, is answered from the collections
        picked; either hides the suggestions, and a submit clears the rating status."""
        # The picked collections are kept in a State, so that `/ask` over the API still takes
        # the question alone (every other input is session state).
        collections = tab.collections
        collections.change(lambda chosen: chosen, collections, tab.picked, api_visibility="private")
        outputs = tab.answer_outputs()
        tab.question.submit(self.respond, tab.answer_inputs(), outputs, api_name="ask")
        tab.question.submit(lambda: "", None, tab.feedback.status, api_visibility="private")

        # Suggestions show in an empty chat only; a click asks the question.
        def hide() -> Any:
            return gr.update(visible=False)

        tab.question.submit(hide, None, tab.suggestion_row, api_visibility="private")
        for button in tab.suggestions:
            button.click(lambda text: text, button, tab.question, api_visibility="private").then(
                self.respond, tab.answer_inputs(), outputs, api_visibility="private"
            ).then(hide, None, tab.suggestion_row, api_visibility="private")

    @staticmethod
    def _wire_new_chat(tab: _ChatTab) -> None:
        """A new chat empties the chat, its state and the sources, and shows the suggestions."""
        tab.conversations.new_chat.click(
            lambda: ([], [], [], "", "", _NO_SOURCES, "", None, "", gr.update(value=None), ""),
            None,
            [*tab.answer_outputs(), tab.feedback.status],
            api_visibility="private",
        ).then(lambda: gr.update(visible=True), None, tab.suggestion_row, api_visibility="private")

    def _wire_conversation_list(self, tab: _ChatTab) -> None:
        """Picking a past conversation reopens it; rename and delete act on the open one (a
        deletion is confirmed in the browser first: a cancelled one changes nothing)."""
        listed = tab.conversations
        listed.past.input(
            self.reopen,
            [listed.past],
            [
                *(tab.chat, tab.shown, tab.conversation, tab.conversation_id, tab.sources),
                *(tab.searched, listed.status, tab.feedback.status),
            ],
            api_visibility="private",
        )
        listed.rename.click(
            self.rename,
            [tab.conversation_id, listed.title],
            [listed.past, listed.status],
            api_visibility="private",
        )
        listed.delete.click(
            self.delete,
            [tab.conversation_id, listed.delete_confirmed],
            [
                *(tab.chat, tab.shown, tab.conversation, tab.conversation_id, listed.past),
                *(tab.sources, tab.searched, listed.status, tab.feedback.status),
            ],
            api_visibility="private",
            js="(id) => [id, confirm('Delete this conversation? This cannot be undone.')]",
        )

    def _wire_feedback(self, tab: _ChatTab) -> None:
        """Each rating button rates the last answer, with the correction typed, if any."""
        feedback = tab.feedback
        for button, rating in feedback.ratings:
            button.click(
                self._rater(rating),
                [tab.last_question, tab.last_answer, feedback.correction],
                [feedback.status, feedback.correction],
                api_visibility="private",
            )

    @staticmethod
    def css() -> str:
        return _CSS

    @staticmethod
    def js() -> str:
        """Run by the page as it loads (the question's length counter)."""
        return _COUNTER_JS

    @staticmethod
    def chatbot(messages: list[dict[str, str]] | None = None) -> gr.Chatbot:
        """The conversation: our escaped HTML, never Markdown (no images, no links)."""
        return gr.Chatbot(
            cast(Any, messages),
            label="Conversation",
            height=420,
            elem_id="docent-chat",
            render_markdown=False,
        )
