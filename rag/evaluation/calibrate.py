"""Calibrating the refusal decision on QA data: `min_evidence`, `relevance_weight` and
`coverage_weight` (`rag/reader/evidence.py`), which both answer paths use.

Procedure: retrieve and read every question once (`ReaderEvidence.assess`). For each
(relevance weight, coverage weight) of `RELEVANCE_WEIGHTS` × `COVERAGE_WEIGHTS`, a question's
evidence is its best passage's; a threshold t refuses every question whose evidence is below
t. Among the midpoints between observed evidence values, choose the t that refuses the most
unanswerable questions while refusing at most `max_false_abstention` of the answerable ones
(ties go to the lower t); then the weights whose t refuses most (ties to the lower weights:
the reader alone where retrieval evidence adds nothing). All three are written to an env file
as DOCENT_MIN_EVIDENCE, DOCENT_RELEVANCE_WEIGHT and DOCENT_COVERAGE_WEIGHT, where `Settings`
reads them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from rag.errors import ConfigError
from rag.evaluation.datasets import QAQuestion
from rag.reader.evidence import Assessment
from rag.runtime import Runtime

__all__ = [
    "COVERAGE_WEIGHTS",
    "RELEVANCE_WEIGHTS",
    "Calibration",
    "EvidencePoint",
    "calibrate",
    "choose_threshold",
    "measure_evidence",
    "write_env",
]

RELEVANCE_WEIGHTS = (0.0, 2.0, 5.0, 10.0, 20.0)
COVERAGE_WEIGHTS = (0.0, 2.0, 5.0, 10.0, 20.0)


@dataclass(frozen=True)
class EvidencePoint:
    question: QAQuestion
    assessment: Assessment

    def evidence(self, relevance_weight: float, coverage_weight: float) -> float:
        return self.assessment.evidence(relevance_weight, coverage_weight)


@dataclass
class Calibration:
    min_evidence: float
    relevance_weight: float
    coverage_weight: float
    abstention: float
    false_abstention: float
    separability: float  # ROC AUC: chance an answerable question out-scores an unanswerable one
    curve: list[dict[str, float]] = field(default_factory=list)  # every candidate threshold


def measure_evidence(
    runtime: Runtime, questions: Sequence[QAQuestion], progress: Callable[[], None] | None = None
) -> list[EvidencePoint]:
    evidence = runtime.evidence
    points = []
    for question in questions:
        hits = runtime.assistant.retriever.retrieve(question.question)
        points.append(EvidencePoint(question, evidence.assess(question.question, hits)))
        if progress:
            progress()
    return points


def calibrate(
    points: Sequence[EvidencePoint],
    max_false_abstention: float = 0.10,
    relevance_weights: Sequence[float] = RELEVANCE_WEIGHTS,
    coverage_weights: Sequence[float] = COVERAGE_WEIGHTS,
) -> Calibration:
    """The weights and threshold that refuse most within the false-abstention bound."""
    chosen = [
        choose_threshold(points, max_false_abstention, r, c)
        for r in relevance_weights
        for c in coverage_weights
    ]
    return max(chosen, key=lambda c: (c.abstention, -c.relevance_weight, -c.coverage_weight))


def choose_threshold(
    points: Sequence[EvidencePoint],
    max_false_abstention: float = 0.10,
    relevance_weight: float = 0.0,
    coverage_weight: float = 0.0,
) -> Calibration:
    def evidence(point: EvidencePoint) -> float:
        return point.evidence(relevance_weight, coverage_weight)

    answerable = [evidence(p) for p in points if not p.question.is_impossible]
    impossible = [evidence(p) for p in points if p.question.is_impossible]
    if not answerable or not impossible:
        raise ConfigError("calibration needs both answerable and unanswerable questions")
    values = sorted({e for e in answerable + impossible if math.isfinite(e)})
    thresholds = [-math.inf] + [(a + b) / 2 for a, b in pairwise(values)]
    curve = []
    for t in thresholds:
        curve.append(
            {
                "threshold": t,
                "abstention": sum(e < t for e in impossible) / len(impossible),
                "false_abstention": sum(e < t for e in answerable) / len(answerable),
            }
        )
    allowed = [c for c in curve if c["false_abstention"] <= max_false_abstention]
    if not allowed:
        raise ConfigError(
            f"no threshold keeps false abstention within {max_false_abstention:.0%} on this data"
        )
    best = max(allowed, key=lambda c: (c["abstention"], -c["threshold"]))
    wins = sum((a > i) + 0.5 * (a == i) for a in answerable for i in impossible)
    return Calibration(
        best["threshold"],
        relevance_weight,
        coverage_weight,
        best["abstention"],
        best["false_abstention"],
        wins / (len(answerable) * len(impossible)),
        curve,
    )


def write_env(path: Path, values: dict[str, str]) -> None:
    """Set `KEY=value` lines in a dotenv file, keeping every other line as it was."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for key, value in values.items():
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        line = f"{key}={value}"
        at = next((i for i, existing in enumerate(lines) if pattern.match(existing)), None)
        if at is None:
            lines.append(line)
        else:
            lines[at] = line
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
