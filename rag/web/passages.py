"""A passage as a source card shows it: escaped text, or for a Markdown document its Markdown
rendered safely, with the cited sentences marked.

Safe means: raw HTML in the document is shown as text (markdown-it with `html` off), images
are shown as their alt text and links as their text (nothing is loaded or followed), and the
only tags are the ones markdown-it makes and our <mark>. Highlights are placed as private-use
characters in the source text before rendering and turned into <mark> after it.
"""

from __future__ import annotations

import html
import re
from pathlib import PurePosixPath
from typing import Any

from markdown_it import MarkdownIt

__all__ = ["passage_html"]

_MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
_OPEN, _CLOSE = "\ue000", "\ue001"
_BLOCK_MARKER = re.compile(r"(?:\s*(?:[-*+]|\d{1,9}[.)]|#{1,6}|>|\|))+\s+")  # list, heading …


def _text_only(renderer: Any, tokens: Any, index: int, options: Any, env: Any) -> str:
    """An image as its alt text."""
    return html.escape(str(tokens[index].content))


def _nothing(renderer: Any, tokens: Any, index: int, options: Any, env: Any) -> str:
    return ""


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_MARKDOWN.add_render_rule("image", _text_only)
_MARKDOWN.add_render_rule("link_open", _nothing)  # a link shows its text, and goes nowhere
_MARKDOWN.add_render_rule("link_close", _nothing)


def _escaped(text: str, spans: list[tuple[int, int]]) -> str:
    parts, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        parts += [html.escape(text[at:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        at = end
    return "".join([*parts, html.escape(text[at:])])


def _rendered(text: str, spans: list[tuple[int, int]]) -> str:
    text = text.replace(_OPEN, " ").replace(_CLOSE, " ")  # the markers are ours alone
    marked, at = [], 0
    for start, end in sorted(spans):
        if start < at or not 0 <= start < end <= len(text):
            continue
        marker = _BLOCK_MARKER.match(text, start)  # "- item": mark the item, keep the list
        start = marker.end() if marker and marker.end() < end else start
        marked += [text[at:start], _OPEN, text[start:end], _CLOSE]
        at = end
    source = "".join([*marked, text[at:]]).replace(_OPEN + _CLOSE, "")
    rendered = str(_MARKDOWN.render(source.replace("\x00", "")))
    return rendered.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def passage_html(text: str, name: str, spans: list[tuple[int, int]]) -> str:
    """`text` of the document `name` as card HTML, each span in <mark>."""
    if PurePosixPath(name).suffix.lower() in _MARKDOWN_SUFFIXES:
        return f'<div class="docent-card-text docent-markdown">{_rendered(text, spans)}</div>'
    return f'<p class="docent-card-text">{_escaped(text, spans)}</p>'
