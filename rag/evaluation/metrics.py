"""Metrics. Ranking metrics come from ir-measures (trec_eval underneath); answer exact match
and token F1 follow the official SQuAD 2.0 evaluation script's normalisation."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping

import ir_measures
from ir_measures import RR, R, nDCG

__all__ = ["RANKING_MEASURES", "contains_answer", "exact_match", "ranking_scores", "token_f1"]

RANKING_MEASURES = {
    "nDCG@10": nDCG @ 10,
    "R@1": R @ 1,
    "R@5": R @ 5,
    "R@10": R @ 10,
    "R@100": R @ 100,
    "MRR@10": RR @ 10,
}

Run = Mapping[str, Mapping[str, float]]  # query id → {document id: score}


def ranking_scores(qrels: Mapping[str, Mapping[str, int]], run: Run) -> dict[str, float]:
    """Mean of every measure over all judged queries (a query with no results scores 0)."""
    judged = [ir_measures.Qrel(q, d, rel) for q, docs in qrels.items() for d, rel in docs.items()]
    scored = [ir_measures.ScoredDoc(q, d, s) for q, docs in run.items() for d, s in docs.items()]
    per_query: dict[str, dict[str, float]] = {name: {} for name in RANKING_MEASURES}
    names = {measure: name for name, measure in RANKING_MEASURES.items()}
    for metric in ir_measures.iter_calc(list(RANKING_MEASURES.values()), judged, scored):
        per_query[names[metric.measure]][metric.query_id] = float(metric.value)
    return {
        name: sum(values.get(q, 0.0) for q in qrels) / len(qrels) if qrels else 0.0
        for name, values in per_query.items()
    }


def _normalize(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's normalize_answer)."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    return max((float(_normalize(prediction) == _normalize(g)) for g in golds), default=0.0)


def _f1(prediction: str, gold: str) -> float:
    predicted, wanted = _normalize(prediction).split(), _normalize(gold).split()
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if not predicted or not wanted:
        return float(predicted == wanted)
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def contains_answer(prediction: str, golds: Iterable[str]) -> bool:
    """Some accepted answer appears, normalised, as a phrase of the prediction."""
    padded = f" {_normalize(prediction)} "
    return any(_normalize(g) and f" {_normalize(g)} " in padded for g in golds)


def token_f1(prediction: str, golds: Iterable[str]) -> float:
    return max((_f1(prediction, g) for g in golds), default=0.0)
