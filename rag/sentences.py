"""Sentence spans and content-word tokens, shared by the extractive answerer and citation checks."""

from __future__ import annotations

import re

import bm25s
import Stemmer

from index.loaders import is_soft_wrap

__all__ = ["content_tokens", "sentence_spans"]

# A sentence ends after . ! ? (plus closing quotes and [n] citation markers) before a capital
# or a digit, or at a line break.
_BOUNDARY = re.compile(
    r"(?<=[.!?])([\"'”’)]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*)\s+(?=[\"'“‘(]?[A-Z0-9])|\n+"
)
_STEMMER = Stemmer.Stemmer("english")
_QUESTION_WORDS = {
    "what",
    "how",
    "when",
    "where",
    "who",
    "which",
    "do",
    "does",
    "can",
    "get",
    "much",
    "many",
}
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN) | _QUESTION_WORDS
_WORD = re.compile(r"\w\w+")


def _is_wrap(text: str, newline: re.Match[str]) -> bool:
    """A single line break inside a hard-wrapped paragraph, not the end of a line of its own."""
    if newline.group(0).count("\n") > 1:
        return False
    line_start = text.rfind("\n", 0, newline.start()) + 1
    return is_soft_wrap(text[line_start : newline.start()], text[newline.end() :])


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line in `text`, whitespace trimmed, empty ones skipped.
    Hard-wrapped lines of one paragraph stay together."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        if match.group(1) is None and _is_wrap(text, match):
            continue
        spans.append((start, match.start() + len(match.group(1) or "")))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        segment = text[s:e]
        left, right = len(segment) - len(segment.lstrip()), len(segment.rstrip())
        if right > left:
            trimmed.append((s + left, s + right))
    return trimmed


def content_tokens(text: str) -> set[str]:
    """Lower-cased, stemmed words of two or more characters, without stopwords."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return set(_STEMMER.stemWords(words))


_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^[\s|:\-]+$")


def passage_units(text: str) -> list[tuple[int, int, str]]:
    """The answerable units of a passage as (start, end, reading text).

    Mostly sentences; a label line ending in ':' reads together with the line after it, and a
    Markdown table row reads after the sentence that introduces the table, so 'Berlin | €165'
    becomes 'Hotel bookings must not exceed these nightly caps: Berlin | €165'.
    """
    spans = sentence_spans(text)
    units: list[tuple[int, int, str]] = []
    caption = ""
    index = 0
    while index < len(spans):
        start, end = spans[index]
        segment = text[start:end]
        if _TABLE_ROW.match(segment):
            if not _TABLE_RULE.match(segment):
                cells = " | ".join(c.strip() for c in segment.strip().strip("|").split("|"))
                units.append((start, end, f"{caption} {cells}".strip()))
        elif (
            segment.endswith(":")
            and index + 1 < len(spans)
            and not _TABLE_ROW.match(text[spans[index + 1][0] : spans[index + 1][1]])
        ):
            end = spans[index + 1][1]
            units.append((start, end, " ".join(text[start:end].split())))
            index += 1
        else:
            caption = segment
            units.append((start, end, segment))
        index += 1
    return units
