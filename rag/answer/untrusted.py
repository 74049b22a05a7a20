"""Document text is untrusted data. Before a passage or an answer reaches anyone, the Markdown
and HTML in it that a client would render as a remote image, a link or raw HTML is neutralised,
so a client that renders Markdown loads nothing and links nowhere that a document chose:

- an image `![alt](url)` becomes its alt text, a link `[text](url)` its text;
- a reference definition `[1]: url` is removed (a reference `[x][1]` is then plain text);
- an autolink `<https://…>` becomes the bare address as text; a raw HTML tag, comment or
  declaration is shown as text, exactly as written but for an invisible zero-width space
  after its `<` (no client reads `<\u200bimg …>` as HTML);
- images, links and definitions whose address stays on the server that shows them (a relative
  path like `/api/v1/…` or `#part`) are kept; code spans are kept as they are.

The rewrite is a few exact regular expressions, repeated until nothing changes; the result is
then parsed with markdown-it (CommonMark) as a client would, and text that still renders a
remote image, a link or HTML is escaped bluntly instead. `neutralise` also maps offsets in the
old text to the new one (a passage's page breaks). `StreamNeutraliser` does the same to an
answer that arrives in pieces: it holds back only a construct that later text could complete.
"""

from __future__ import annotations

import html
import logging
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from index.types import Chunk, Hit

__all__ = [
    "Neutralised",
    "StreamNeutraliser",
    "is_local_url",
    "neutral_chunk",
    "neutral_hits",
    "neutralise",
    "neutralise_markdown",
    "renders_remote_content",
]

log = logging.getLogger(__name__)

_PASSES = 8  # nested constructs unwrap one level a pass; more is an attack: escaped bluntly
# The parts of a link. Bounded, and each alternative starts differently: linear time.
_ESCAPED = r"\\[\s\S]"
_PLAIN = r"[^\[\]\\\n]|\n(?![ \t]*\n)"  # anything but brackets; no blank line (a paragraph end)
_LABEL = rf"(?:{_PLAIN}|{_ESCAPED}|\[(?:{_PLAIN}|{_ESCAPED}){{0,1000}}\]){{0,1000}}"
_DEST_PART = r"[^\s()\\<]|\\[\s\S]"
_DEST = rf"<[^<>\n]{{0,2048}}>|(?:{_DEST_PART}|\((?:{_DEST_PART}){{0,2048}}\)){{0,2048}}"
_TITLE = (
    r"\"(?:[^\"\\]|\\[\s\S]){0,1000}\""
    r"|'(?:[^'\\]|\\[\s\S]){0,1000}'"
    r"|\((?:[^()\\]|\\[\s\S]){0,1000}\)"
)
_ATTRIBUTES = r"(?:[^<>\"']|\"[^\"]*\"|'[^']*'){0,2000}"
_CONSTRUCT = re.compile(
    rf"""
    (?P<code>(?P<ticks>`+)(?!`)[\s\S]{{1,2000}}?(?<!`)(?P=ticks)(?!`))
    | (?<!\\)(?P<image>!)?(?<!\\)\[(?P<label>{_LABEL})\]
      \([ \t]*\n?[ \t]*(?P<dest>{_DEST})(?:[ \t]*\n?[ \t]*(?:{_TITLE}))?[ \t]*\n?[ \t]*\)
    | (?m:^)[ ]{{0,3}}(?<!\\)\[(?P<defined>{_LABEL})\]:[ \t]*\n?[ \t]*(?P<target>{_DEST})
      (?:(?:[ \t]+|[ \t]*\n[ \t]*)(?:{_TITLE}))?[ \t]*(?=\n|\Z)
    | <(?P<autolink>[A-Za-z][A-Za-z0-9+.-]{{1,31}}:[^\s<>]{{0,2048}})>
    | <(?P<email>[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,256}}@[A-Za-z0-9.-]{{1,256}})>
    | (?P<html><!--[\s\S]{{0,4000}}?-->|<\?[\s\S]{{0,4000}}?\?>|<![A-Za-z][^>]{{0,4000}}>
      |<!\[CDATA\[[\s\S]{{0,4000}}?\]\]>|</?[A-Za-z][A-Za-z0-9-]{{0,64}}(?:[\s/]{_ATTRIBUTES})?>)
    """,
    re.VERBOSE,
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")  # browsers drop tabs and newlines in a URL

# How a client sees it: CommonMark with raw HTML, every link kept (markdown-it drops some).
_RENDERER = MarkdownIt("commonmark", {"html": True})
_RENDERER.validateLink = lambda url: True  # type: ignore[method-assign]


def is_local_url(url: str) -> bool:
    """Whether an address stays on the server that shows it: a path or a fragment, with no
    scheme, no host and no backslash (which browsers read as a slash)."""
    url = _BACKSLASH_ESCAPE.sub(r"\1", url.strip().removeprefix("<").removesuffix(">"))
    url = _IGNORED_IN_URLS.sub("", html.unescape(url))
    return not (url.startswith("//") or "\\" in url or _SCHEME.match(url))


@dataclass(frozen=True)
class _Edit:
    start: int  # the span [start, end) of the old text became `length` characters
    end: int
    length: int


@dataclass
class Neutralised:
    """The neutralised text, and how offsets of the old text map into it."""

    text: str
    _passes: list[list[_Edit]] = field(default_factory=list, repr=False)

    def position(self, offset: int) -> int:
        """Where the character at `offset` of the old text is now (the start of its
        replacement when it was rewritten)."""
        for edits in self._passes:
            shift = 0
            for edit in edits[: bisect_right([e.start for e in edits], offset)]:
                if offset < edit.end:  # inside a rewritten span
                    offset = edit.start
                    break
                shift += edit.length - (edit.end - edit.start)
            offset += shift
        return offset


def _apply(text: str, edits: list[tuple[int, int, str]]) -> tuple[str, list[_Edit]]:
    parts, at = [], 0
    for start, end, replacement in edits:
        parts += [text[at:start], replacement]
        at = end
    parts.append(text[at:])
    return "".join(parts), [_Edit(s, e, len(r)) for s, e, r in edits]


_TAG_BREAK = "<\u200b"  # a zero-width space after "<": shown as written, never a tag


def _replacement(match: re.Match[str]) -> tuple[int, int, str] | None:
    """The edit that neutralises `match`: (start, end, replacement); None to keep it."""
    whole = (match.start(), match.end())
    if match["code"] is not None:
        return None
    if match["label"] is not None:
        return None if is_local_url(match["dest"]) else (*whole, match["label"])
    if match["defined"] is not None:
        return None if is_local_url(match["target"]) else (*whole, "")
    if match["autolink"] is not None or match["email"] is not None:
        return (*whole, match["autolink"] or match["email"])
    return (match.start(), match.start() + 1, _TAG_BREAK)  # raw HTML


def _rewrite(text: str) -> tuple[str, list[_Edit]]:
    edits = [edit for match in _CONSTRUCT.finditer(text) if (edit := _replacement(match))]
    return _apply(text, edits)


def _rendered_remote(tokens: list[Token]) -> Iterator[str]:
    """What the parsed text would show from elsewhere: remote images and links, raw HTML."""
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            yield token.content
        elif token.type == "image" and not is_local_url(str(token.attrs.get("src", ""))):
            yield str(token.attrs.get("src", ""))
        elif token.type == "link_open" and not is_local_url(str(token.attrs.get("href", ""))):
            yield str(token.attrs.get("href", ""))
        yield from _rendered_remote(token.children or [])


def renders_remote_content(text: str) -> bool:
    """Whether a CommonMark client rendering `text` would show a remote image or link, or HTML."""
    return any(True for _ in _rendered_remote(_RENDERER.parse(text)))


def _blunt(text: str) -> tuple[str, list[_Edit]]:
    """Every backslash and bracket escaped, angle brackets as entities: plain text to any
    CommonMark client."""
    escapes = {"\\": "\\\\", "[": "\\[", "]": "\\]", "<": "&lt;", ">": "&gt;"}
    return _apply(
        text, [(m.start(), m.end(), escapes[m[0]]) for m in re.finditer(r"[\\\[\]<>]", text)]
    )


def neutralise(text: str) -> Neutralised:
    """`text` with its remote images, links and raw HTML neutralised, and the offset map."""
    result = Neutralised(text)
    for _ in range(_PASSES):
        rewritten, edits = _rewrite(result.text)
        if not edits:
            break
        result.text = rewritten
        result._passes.append(edits)
    if renders_remote_content(result.text):
        log.warning("text that the rewrite left renderable was escaped bluntly")
        result.text, edits = _blunt(result.text)
        result._passes.append(edits)
    return result


def neutralise_markdown(text: str) -> str:
    """`text` as `neutralise` leaves it."""
    return neutralise(text).text


def neutral_chunk(chunk: Chunk) -> Chunk:
    """The chunk as it may be shown: its text neutralised, its page breaks moved with it."""
    neutral = neutralise(chunk.text)
    if neutral.text == chunk.text:
        return chunk
    breaks = tuple(neutral.position(offset) for offset in chunk.page_breaks)
    return chunk.model_copy(update={"text": neutral.text, "page_breaks": breaks})


def neutral_hits(hits: list[Hit]) -> list[Hit]:
    """Retrieved passages as the model and every client may see them."""
    return [hit.model_copy(update={"chunk": neutral_chunk(hit.chunk)}) for hit in hits]


def _settled_until(text: str) -> int:
    """Where the first construct begins that text appended to `text` could still complete
    (an open bracket, a link address without its `)`, a `<` without its `>`, an open code
    span, a trailing backslash); len(text) if none."""
    opened: list[int] = []  # positions of the open brackets
    at = 0
    while at < len(text):
        char = text[at]
        if char == "\\":
            if at + 1 == len(text):
                return opened[0] if opened else at
            at += 2
            continue
        if char == "\n" and re.match(r"[ \t]*\n", text[at + 1 :]):
            opened = []  # a blank line ends the paragraph: nothing crosses it
        elif char == "`":
            run = re.match(r"`+", text[at:])
            assert run is not None
            ticks = len(run[0])
            closing = re.compile(rf"(?<!`)`{{{ticks}}}(?!`)").search(text, at + ticks)
            if closing is None:
                return opened[0] if opened else at
            at = closing.end()
            continue
        elif char == "<":
            if at + 1 == len(text):
                return opened[0] if opened else at
            if re.match(r"[A-Za-z/!?]", text[at + 1]):
                closing_at = text.find(">", at)
                if closing_at < 0:
                    return opened[0] if opened else at
                at = closing_at + 1
                continue
        elif char == "!" and at + 1 == len(text):
            return opened[0] if opened else at  # an image, when "[" comes next
        elif char == "[":
            opened.append(at - 1 if at and text[at - 1] == "!" else at)
        elif char == "]" and opened:
            start = opened.pop()
            if not opened:
                after = text[at + 1 : at + 2]
                if not after:
                    return start
                if after == "(":
                    closing_at = _closing_parenthesis(text, at + 1)
                    if closing_at < 0:
                        return start
                    at = closing_at + 1
                    continue
                if after == ":" and not re.search(r"\S[^\n]*\n|\n[ \t]*\n", text[at + 2 :]):
                    return start  # a definition, until its address's line ends
        at += 1
    return opened[0] if opened else len(text)


def _closing_parenthesis(text: str, opening: int) -> int:
    depth, at = 0, opening
    while at < len(text):
        char = text[at]
        if char == "\\":
            at += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return at
        at += 1
    return -1


def _completes_remote(sent: str, out: str) -> bool:
    """Whether `sent` (which renders nothing remote) followed by `out` does. Only the last
    paragraph is parsed, unless a reference definition may reach across paragraphs; its lines
    unindented, so that no container hides them as code."""
    text = sent + out
    if "]:" not in text:
        blank_lines = list(re.finditer(r"\n[ \t]*\n", sent))
        text = text[blank_lines[-1].end() :] if blank_lines else text
    return renders_remote_content("\n".join(line.lstrip() for line in text.split("\n")))


class StreamNeutraliser:
    """Neutralises an answer arriving in pieces: `feed` each piece and send what it returns,
    then what `close` returns. What it returned, joined, is the answer text; it never renders
    remote content, whatever the pieces."""

    def __init__(self) -> None:
        self._raw = ""
        self._done = 0  # characters of `_raw` already neutralised
        self._sent: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self._sent)

    def feed(self, piece: str) -> str:
        self._raw += piece
        until = self._done + _settled_until(self._raw[self._done :])
        return self._send(until)

    def close(self) -> str:
        return self._send(len(self._raw))

    def _send(self, until: int) -> str:
        if until <= self._done:
            return ""
        segment = self._raw[self._done : until]
        self._done = until
        sent = self.text
        out = neutralise_markdown(segment)
        if _completes_remote(sent, out):  # completes something sent earlier
            out = _blunt(out)[0]
            if _completes_remote(sent, out):
                log.warning("a piece of an answer that stayed renderable was left out")
                out = ""
        self._sent.append(out)
        return out
