"""Checked citations, whoever wrote the answer: each sentence is checked against the passage it
cites before anyone sees the final answer.

- a sentence its cited passages support keeps the markers of those that do;
- one they do not support (or one that cites nothing) is cited to the retrieved passage that
  supports it best, when one does;
- one that no retrieved passage supports loses its markers, so it reaches every surface as an
  unsupported sentence, or is left out (`drop`, DOCENT_UNSUPPORTED_SENTENCES=drop).

Support is `SupportScorer`'s score against `min_support`. The extractive path quotes its
passage word for word, so its answers pass through unchanged without embedding anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from index.sentences import content_tokens
from index.types import Hit
from rag.answer.citations import MARKER, SPACE_BEFORE_PUNCTUATION
from rag.answer.support import SupportScorer, claims_of

__all__ = ["Grounded", "ground", "with_markers"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grounded:
    text: str
    moved: int  # sentences now citing another passage (or citing one where they cited none)
    unsupported: int  # sentences no retrieved passage supports (marked, or dropped)
    dropped: int  # of those, the ones left out


def with_markers(sentence: str, numbers: Sequence[int]) -> str:
    """`sentence` with its markers replaced by `numbers`, put before its closing punctuation:
    'It is 25 days [1].'"""
    bare = SPACE_BEFORE_PUNCTUATION.sub("", MARKER.sub("", sentence)).rstrip()
    if not numbers:
        return bare
    markers = "".join(f"[{n}]" for n in numbers)
    if bare and bare[-1] in ".!?":
        return f"{bare[:-1]} {markers}{bare[-1]}"
    return f"{bare} {markers}"


def ground(text: str, hits: Sequence[Hit], support: SupportScorer, drop: bool = False) -> Grounded:
    """`text` (markers 1..len(hits) only, as `check_citations` leaves it) with every citation
    checked against the passage it names."""
    passages = [(hit.chunk.id, hit.chunk.text) for hit in hits]
    threshold = support.threshold
    pieces: list[str] = []
    moved = unsupported = dropped = 0
    following: list[int] = []  # the final cites of the next sentence, for a piece before it
    end_of_next = len(text)
    for claim in reversed(claims_of(text)):
        sentence = text[claim.start : claim.end]
        gap = text[claim.end : end_of_next]
        end_of_next = claim.start
        cites = [n for n in claim.cites or following if 1 <= n <= len(passages)]
        if not content_tokens(claim.text):  # "[1]" alone, "Sure!": no claim, so no citation
            pieces += [gap, with_markers(sentence, []) if claim.cites else sentence]
            following = []
            continue
        scores = support.scores(claim.text, [passages[n - 1] for n in cites])
        backing = [n for n, score in zip(cites, scores, strict=True) if score >= threshold]
        if backing:
            if claim.cites and backing != claim.cites:
                sentence = with_markers(sentence, list(dict.fromkeys(backing)))
            pieces += [gap, sentence]
            following = backing
            continue
        everywhere = support.scores(claim.text, passages)
        best = max(range(len(passages)), key=everywhere.__getitem__, default=None)
        if best is not None and everywhere[best] >= threshold:
            moved += 1
            pieces += [gap, with_markers(sentence, [best + 1])]
            following = [best + 1]
            continue
        unsupported += 1
        following = []
        if drop:
            dropped += 1
            pieces.append(gap if gap.strip() else "")
            continue
        pieces += [gap, with_markers(sentence, []) if claim.cites else sentence]
    pieces.append(text[:end_of_next])
    grounded = "".join(reversed(pieces)).strip()
    if moved or unsupported:
        log.info(
            "citations checked: %d sentences cited anew, %d unsupported (%d left out)",
            moved,
            unsupported,
            dropped,
        )
    return Grounded(grounded, moved, unsupported, dropped)
