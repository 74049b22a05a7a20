"""Coverage gaps: what people asked that the documents did not answer, so their owners know
which documents to write.

Two sources: questions Docent refused ("not in the documents", the standalone question, kept
by `rag.stores.unanswered`) and answers people rated 👎 or "wrong source".
The most recent `MAX_QUESTIONS` are grouped by meaning: agglomerative clustering of their
embeddings (cosine, average linkage, cut at `SIMILAR`), largest groups first.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.embeddings import Encoder
from rag.stores.feedback import FeedbackStore
from rag.stores.unanswered import UnansweredLog

__all__ = ["GapGroup", "coverage_gaps", "gaps_csv"]

MAX_QUESTIONS = 2000  # grouped at most (the clustering is quadratic in them)
SIMILAR = 0.35  # cosine distance under which two questions ask the same thing


@dataclass(frozen=True)
class GapGroup:
    question: str  # the group's most asked wording
    count: int
    refused: int
    marked_wrong: int
    last_asked: str
    examples: tuple[str, ...]  # other wordings, most asked first


def coverage_gaps(
    unanswered: UnansweredLog, feedback: FeedbackStore, encoder: Encoder
) -> list[GapGroup]:
    """Refused and badly rated questions, grouped by meaning, largest groups first."""
    asked = [(_squashed(q), when, "refused") for q, when in unanswered.recent(MAX_QUESTIONS)]
    asked += [
        (_squashed(f.standalone_query or f.question), f.created_at, "wrong")
        for f in feedback.recent(("down", "wrong_source"), MAX_QUESTIONS)
    ]
    asked = sorted(asked, key=lambda a: a[1], reverse=True)[:MAX_QUESTIONS]
    if not asked:
        return []
    grouped: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for question, label in zip(asked, _groups([q for q, _, _ in asked], encoder), strict=True):
        grouped[label].append(question)
    groups = []
    for members in grouped.values():
        wordings = Counter(q for q, _, _ in members).most_common()
        groups.append(
            GapGroup(
                question=wordings[0][0],
                count=len(members),
                refused=sum(kind == "refused" for _, _, kind in members),
                marked_wrong=sum(kind == "wrong" for _, _, kind in members),
                last_asked=max(when for _, when, _ in members)[:16].replace("T", " "),
                examples=tuple(w for w, _ in wordings[1:6]),
            )
        )
    return sorted(groups, key=lambda g: (-g.count, g.question))


def _squashed(question: str) -> str:
    return " ".join(question.split())


def _groups(questions: Sequence[str], encoder: Encoder) -> list[int]:
    if len(questions) == 1:
        return [0]
    from sklearn.cluster import AgglomerativeClustering  # ~1 s to import: not at start-up

    vectors = np.asarray(encoder.embed_documents(list(questions)))
    clustering = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=SIMILAR
    )
    return [int(label) for label in clustering.fit_predict(vectors)]


def _cell(text: str) -> str:
    """A question as a spreadsheet cell that stays text: one starting like a formula
    ("=HYPERLINK(…)") is quoted, since anybody may ask anything."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gaps_csv(groups: Sequence[GapGroup]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["question", "times asked", "refused", "marked wrong", "last asked", "also"])
    for g in groups:
        also = _cell(" | ".join(g.examples))
        row = [_cell(g.question), g.count, g.refused, g.marked_wrong, g.last_asked, also]
        writer.writerow(row)
    return out.getvalue()
