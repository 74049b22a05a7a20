"""Citation checking: `[n]` markers are parsed, bounds-checked against the retrieved passages,
and resolved to the passage sentence they support. Markers are never trusted: an out-of-range
one is removed from the text and logged."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from index.sentences import content_tokens, passage_units, sentence_spans
from index.types import Hit
from rag.answer.sources import location_label
from rag.answer.types import Citation

__all__ = ["MARKER", "SPACE_BEFORE_PUNCTUATION", "CheckedText", "check_citations"]

log = logging.getLogger(__name__)

MARKER = re.compile(r"\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]")  # [1] or [1, 2]; no huge numbers
# Spaces a removed marker leaves before punctuation (anchored at a run's start: linear time).
SPACE_BEFORE_PUNCTUATION = re.compile(r"(?<![ \t])[ \t]+(?=[.,;:!?])")


class CheckedText:
    def __init__(self, text: str, citations: list[Citation], dropped: list[int]) -> None:
        self.text = text
        self.citations = citations
        self.dropped = dropped


def _best_sentence(claim: str, passage: str) -> tuple[int, int]:
    """Span of the passage unit sharing most content words with `claim`."""
    claim_tokens = content_tokens(claim)
    units = passage_units(passage)
    if not units:
        return 0, len(passage)
    best = max(units, key=lambda unit: len(claim_tokens & content_tokens(unit.reading)))
    return best.start, best.end


def check_citations(text: str, hits: Sequence[Hit]) -> CheckedText:
    """Keep markers 1..len(hits), drop the rest, and build one `Citation` per cited passage."""
    dropped: list[int] = []
    claims: dict[int, list[str]] = {}  # passage number → the answer sentences citing it

    for start, end in sentence_spans(text):
        sentence = text[start:end]
        claim = MARKER.sub("", sentence)
        for match in MARKER.finditer(sentence):
            for number in (int(n) for n in match.group(1).split(",")):
                if 1 <= number <= len(hits):
                    claims.setdefault(number, []).append(claim)
                else:
                    dropped.append(number)

    def keep_valid(match: re.Match[str]) -> str:
        valid = [n for n in match.group(1).split(",") if 1 <= int(n) <= len(hits)]
        return "".join(f"[{int(n)}]" for n in valid)

    cleaned = SPACE_BEFORE_PUNCTUATION.sub("", MARKER.sub(keep_valid, text)).strip()
    if dropped:
        log.warning("dropped citation markers outside 1..%d: %s", len(hits), dropped)

    citations = []
    for number, numbered_claims in sorted(claims.items()):
        hit = hits[number - 1]
        highlights = list(dict.fromkeys(_best_sentence(c, hit.chunk.text) for c in numbered_claims))
        page = hit.chunk.page_at(highlights[0][0])  # the cited sentence's, not the passage's
        citations.append(
            Citation(
                n=number,
                chunk_id=hit.chunk.id,
                document_id=hit.chunk.document_id,
                name=hit.chunk.name,
                title=hit.chunk.title,
                page=page,
                location=location_label(hit.chunk.name, page),
                start=hit.chunk.start,
                end=hit.chunk.end,
                passage=hit.chunk.text,
                highlights=highlights,
                score=hit.score,
            )
        )
    return CheckedText(cleaned, citations, dropped)
