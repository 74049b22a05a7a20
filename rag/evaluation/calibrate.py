"""Calibrating the extractive generator's abstention threshold (`min_evidence`) on QA data.

Procedure: retrieve and score every question once; the answer's evidence is its best
sentence score. A threshold t abstains on every question whose evidence is below t. Among
the midpoints between observed evidence values, choose the t that abstains on the most
unanswerable questions while abstaining on at most `max_false_abstention` of the answerable
ones (ties go to the lower t). The chosen value is written to an env file as
DOCENT_MIN_EVIDENCE, where `Settings` reads it.
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
from rag.runtime import Runtime

__all__ = ["Calibration", "EvidencePoint", "choose_threshold", "measure_evidence", "write_env"]


@dataclass(frozen=True)
class EvidencePoint:
    question: QAQuestion
    evidence: float  # best sentence score; -inf when no sentence qualified (always abstains)


@dataclass
class Calibration:
    min_evidence: float
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
        scored = generator.score_sentences(question.question, hits)
        points.append(EvidencePoint(question, scored[0][0] if scored else -math.inf))
        if progress:
            progress()
    return points


def choose_threshold(
    points: Sequence[EvidencePoint], max_false_abstention: float = 0.10
) -> Calibration:
    answerable = [p.evidence for p in points if not p.question.is_impossible]
    impossible = [p.evidence for p in points if p.question.is_impossible]
    if not answerable or not impossible:
        raise ConfigError("calibration needs both answerable and unanswerable questions")
    values = sorted({p.evidence for p in points if math.isfinite(p.evidence)})
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
