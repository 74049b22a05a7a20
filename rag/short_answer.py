"""The short answer: inside the passage sentences an answer quotes (its citations' highlights),
the span that answers the question (a number, a date, a name, a short phrase), chosen by the
learned span model of `answerer.v1.json`. It works for any generator, since it reads only the
checked citations."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from rag.citations import MARKER
from rag.generators.answerer_model import Linear
from rag.generators.features import span_candidates
from rag.generators.questions import analyse
from rag.types import Citation, ShortAnswer

__all__ = ["ShortAnswerFinder", "locate"]


_LATER = 0.5  # a span of each later quoted sentence counts this much less


class ShortAnswerFinder:
    def __init__(self, model: Linear) -> None:
        self.model = model

    def find(self, question: str, text: str, citations: Sequence[Citation]) -> ShortAnswer | None:
        """The best span of the sentences `text` (the answer) cites, earlier ones preferred
        (the answer leads with its best sentence); None when they hold no candidate."""
        analysed = analyse(question)
        cited_at = {c.n: text.find(f"[{c.n}]") for c in citations}
        in_answer_order = sorted(citations, key=lambda c: cited_at[c.n] % (len(text) + 1))
        best: ShortAnswer | None = None
        best_score, weight = -1.0, 1.0
        for citation in in_answer_order:
            for start, end in citation.highlights:
                spans = span_candidates(analysed, citation.passage, start, end)
                if not spans:
                    continue
                scores = weight * self.model.probability(np.stack([s.features for s in spans]))
                weight *= _LATER
                at = int(np.argmax(scores))
                if float(scores[at]) > best_score:
                    best_score = float(scores[at])
                    span = spans[at]
                    best = ShortAnswer(n=citation.n, start=span.start, end=span.end, text=span.text)
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
