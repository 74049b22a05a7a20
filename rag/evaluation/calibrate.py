"""Calibrating the extractive generator's abstention on QA data: `min_evidence`,
`coverage_weight` and `type_mismatch`.

Procedure: retrieve and score every question once; its evidence is the answering sentences'
best probability times coverage^w, times m when the question wants a number or a date they do
not hold (`ExtractiveGenerator.assess`). A threshold t abstains on every question whose
evidence is below t. For each (w, m) of `COVERAGE_WEIGHTS` × `TYPE_MISMATCH`, among the
midpoints between observed evidence values, choose the t that abstains on the most unanswerable
questions while abstaining on at most `max_false_abstention` of the answerable ones (ties go to
the lower t); then the (w, m) whose t abstains most (ties to the lower w, then to the lower m:
a "how many" answered without a number is refused for a reason anyone can check). All three
are written to an env file as DOCENT_MIN_EVIDENCE, DOCENT_COVERAGE_WEIGHT and
DOCENT_TYPE_MISMATCH, where `Settings` reads them.
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
from rag.generators import ExtractiveGenerator
from rag.generators.extractive import evidence
from rag.runtime import Runtime

__all__ = [
    "COVERAGE_WEIGHTS",
    "TYPE_MISMATCH",
    "Calibration",
    "EvidencePoint",
    "calibrate",
    "choose_threshold",
    "measure_evidence",
    "write_env",
]

# Squaring the coverage refused 2.5 points more of the in-domain set's unanswerable questions
# but also "How many vacation days do I get?" (no sample says "vacation"): not on offer.
COVERAGE_WEIGHTS = (0.0, 1.0)
TYPE_MISMATCH = (1.0, 0.5, 0.25, 0.1, 0.0)


@dataclass(frozen=True)
class EvidencePoint:
    question: QAQuestion
    best: float  # the chosen sentences' best probability; -inf when none qualified (abstains)
    coverage: float = 1.0  # share of the question's content words the passages contain
    type_missing: bool = False  # the chosen sentences lack the type of value asked for

    def evidence(self, coverage_weight: float, type_mismatch: float = 1.0) -> float:
        return evidence(self.best, self.coverage, self.type_missing, coverage_weight, type_mismatch)


@dataclass
class Calibration:
    min_evidence: float
    coverage_weight: float
    type_mismatch: float
    abstention: float
    false_abstention: float
    separability: float  # ROC AUC: chance an answerable question out-scores an unanswerable one
    curve: list[dict[str, float]] = field(default_factory=list)  # every candidate threshold


def measure_evidence(
    runtime: Runtime, questions: Sequence[QAQuestion], progress: Callable[[], None] | None = None
) -> list[EvidencePoint]:
    generator = runtime.assistant.generator
    if not isinstance(generator, ExtractiveGenerator):
        raise ConfigError(
            "calibration tunes the extractive generator: set DOCENT_GENERATOR=extractive"
        )
    points = []
    for question in questions:
        hits = runtime.assistant.retriever.retrieve(question.question)
        assessment = generator.assess(question.question, hits)
        points.append(
            EvidencePoint(question, assessment.best, assessment.coverage, assessment.type_missing)
        )
        if progress:
            progress()
    return points


def calibrate(
    points: Sequence[EvidencePoint],
    max_false_abstention: float = 0.10,
    weights: Sequence[float] = COVERAGE_WEIGHTS,
    mismatches: Sequence[float] = TYPE_MISMATCH,
) -> Calibration:
    """The coverage weight, type-mismatch factor and threshold that abstain most within the
    false-abstention bound."""
    chosen = [
        choose_threshold(points, max_false_abstention, w, m) for w in weights for m in mismatches
    ]
    return max(chosen, key=lambda c: (c.abstention, -c.coverage_weight, -c.type_mismatch))


def choose_threshold(
    points: Sequence[EvidencePoint],
    max_false_abstention: float = 0.10,
    coverage_weight: float = 0,
    type_mismatch: float = 1,
) -> Calibration:
    def evidence(point: EvidencePoint) -> float:
        return point.evidence(coverage_weight, type_mismatch)

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
        coverage_weight,
        type_mismatch,
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
