"""The short answer: inside the passage sentences an answer quotes (its citations' highlights),
the span that answers the question (a number, a date, a name, a short phrase), as the reader
(`rag/reader/`) finds it. It works for any generator, since it reads only the checked
citations; for the extractive one it is the span the quote was chosen by (the reader caches
the passages it read)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.citations import MARKER
from rag.answer.types import Citation, ShortAnswer
from rag.reader.model import Reader, blanked

__all__ = ["ShortAnswerFinder", "locate"]


class ShortAnswerFinder:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def find(self, question: str, text: str, citations: Sequence[Citation]) -> ShortAnswer | None:
        """The reader's best span inside the sentences `text` (the answer) cites, the
        earlier-cited one on a tie; None when they hold none."""
        if not citations:
            return None
        cited_at = {c.n: text.find(f"[{c.n}]") for c in citations}
        ordered = sorted(citations, key=lambda c: cited_at[c.n] % (len(text) + 1))
        readings = self.reader.read(
            question, [c.passage for c in ordered], within=[c.highlights for c in ordered]
        )
        best: ShortAnswer | None = None
        best_score = -float("inf")
        for citation, reading in zip(ordered, readings, strict=True):
            if reading is not None and reading.score > best_score:
                best_score = reading.score
                span = blanked(citation.passage[reading.start : reading.end])
                text = " ".join(span.split())  # as the answer quotes it: no marks, one space
                best = ShortAnswer(n=citation.n, start=reading.start, end=reading.end, text=text)
        return best


def locate(short: ShortAnswer, text: str) -> ShortAnswer:
    """`short` with the span of `text` (the answer) that quotes it, if one does: the first
    occurrence in a sentence citing its passage, else the first anywhere. Spacing may differ,
    since a quote squashes the passage's line breaks."""
    words = [re.escape(word) for word in short.text.split()]
    if not words:
        return short
    found = list(re.finditer(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", text))

    def cites_it(match: re.Match[str]) -> bool:
        marker = MARKER.search(text, match.end())
        return marker is not None and str(short.n) in marker.group(1).replace(" ", "").split(",")

    best = next((m for m in found if cites_it(m)), found[0] if found else None)
    return short.model_copy(update={"answer_span": best.span() if best else None})
