"""Sentence spans, answerable units and content-word tokens: the write path stores a vector per
unit of each passage (`index/units.py`); the extractive answerer and the citation and support
checks read them."""

from __future__ import annotations

import re
from typing import NamedTuple

import Stemmer

from index.loaders import is_soft_wrap
from index.stopwords import STOPWORDS_EN

__all__ = ["Unit", "content_sequence", "content_tokens", "passage_units", "sentence_spans"]

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
    "why",
    "whom",
    "whose",
    "have",
    "has",
    "had",
    "did",
    "been",
    "would",
    "could",
    "should",
}
# Who is asking ("How much am I paid back…", "Who do we send…"): no content of its own.
_PERSONAL_WORDS = {
    "am", "me", "my", "mine", "myself", "we", "us", "our", "ours", "you", "your", "yours",
    "he", "him", "his", "she", "her", "hers", "them", "its", "were",
}  # fmt: skip
_STOPWORDS = STOPWORDS_EN | _QUESTION_WORDS | _PERSONAL_WORDS
_WORD = re.compile(r"\w\w+")


def _is_wrap(text: str, newline: re.Match[str]) -> bool:
    """A single line break inside a hard-wrapped paragraph, not the end of a line of its own."""
    if newline.group(0).count("\n") > 1:
        return False
    line_start = text.rfind("\n", 0, newline.start()) + 1
    return is_soft_wrap(text[line_start : newline.start()], text[newline.end() :])


# A full stop that ends an initial or an abbreviation, not a sentence: "J. Simon", "U.S. policy",
# "Dr. Lee", "e.g. Paris".
_ABBREVIATION = re.compile(
    r"(?:^|[\s(\"'“])(?:[A-Za-z]|(?:[A-Za-z]\.)+[A-Za-z]|Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|Mt|Gen|Gov|"
    r"Sen|Rep|Col|Lt|Capt|Inc|Ltd|Co|Corp|vs|approx|Fig|Jan|Feb|Aug|Sept|Oct|Nov|Dec)\.$"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line in `text`, whitespace trimmed, empty ones skipped.
    Hard-wrapped lines of one paragraph stay together; initials and abbreviations end none."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        if match.group(1) is None and _is_wrap(text, match):
            continue
        if match.group(1) == "" and _ABBREVIATION.search(
            text, max(0, match.start() - 12), match.start()
        ):
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


def content_sequence(text: str) -> list[str]:
    """Lower-cased, stemmed words of two or more characters, without stopwords, in order."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return list(_STEMMER.stemWords(words))


def content_tokens(text: str) -> set[str]:
    """The set of `content_sequence(text)`."""
    return set(content_sequence(text))


# A Markdown table row, and the rule row under its header (the reader reads tables too).
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_RULE = re.compile(r"^[\s|:\-]+$")


class Unit(NamedTuple):
    """One answerable unit of a passage: its span, the text it reads as, and the spans of the
    passage that text comes from (a table row reads with its caption)."""

    start: int
    end: int
    reading: str
    spans: tuple[tuple[int, int], ...]


def passage_units(text: str) -> list[Unit]:
    """The answerable units of a passage.

    Mostly sentences; a label line ending in ':' reads together with the line after it, and a
    Markdown table row reads after the sentence that introduces the table, so 'Berlin | €165'
    becomes 'Hotel bookings must not exceed these nightly caps: Berlin | €165' (header and rule
    rows are no units).
    """
    spans = sentence_spans(text)
    units: list[Unit] = []
    caption, caption_span = "", (0, 0)
    index = 0
    while index < len(spans):
        start, end = spans[index]
        segment = text[start:end]
        if TABLE_ROW.match(segment):
            following = (
                text[spans[index + 1][0] : spans[index + 1][1]] if index + 1 < len(spans) else ""
            )
            header = bool(TABLE_ROW.match(following) and TABLE_RULE.match(following))
            if not TABLE_RULE.match(segment) and not header:
                cells = " | ".join(c.strip() for c in segment.strip().strip("|").split("|"))
                read_from = (caption_span, (start, end)) if caption else ((start, end),)
                units.append(Unit(start, end, f"{caption} {cells}".strip(), read_from))
        elif (
            segment.endswith(":")
            and index + 1 < len(spans)
            and not TABLE_ROW.match(text[spans[index + 1][0] : spans[index + 1][1]])
        ):
            end = spans[index + 1][1]
            units.append(Unit(start, end, " ".join(text[start:end].split()), ((start, end),)))
            index += 1
        else:
            caption, caption_span = segment, (start, end)
            units.append(Unit(start, end, segment, ((start, end),)))
        index += 1
    return units
