"""The extractive answerer's learned weights: two logistic models (sentence, span) in one JSON
file, `answerer.v1.json` beside this module. `app.py eval --train-answerer` fits and rewrites
it (`rag/evaluation/training.py`). Loading is strict: the feature names in the file must be
the ones the code computes, in order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError
from rag.generators.features import SENTENCE_FEATURES, SPAN_FEATURES

__all__ = ["DEFAULT_MODEL_PATH", "AnswererModel", "Linear", "load_answerer_model", "untrained"]

DEFAULT_MODEL_PATH = Path(__file__).with_name("answerer.v1.json")


@dataclass(frozen=True)
class Linear:
    features: tuple[str, ...]
    weights: np.ndarray
    bias: float

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """P(positive) of each row (one feature vector a row)."""
        if not len(rows):
            return np.empty(0, dtype=np.float32)
        logits = np.asarray(rows @ self.weights + self.bias, dtype=np.float32)
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float32)

    def as_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
        }


@dataclass(frozen=True)
class AnswererModel:
    sentence: Linear
    span: Linear
    about: dict[str, Any]  # how it was trained: data, command, cross-validated scores

    def save(self, path: Path) -> None:
        data = {"sentence": self.sentence.as_dict(), "span": self.span.as_dict(), **self.about}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def untrained() -> AnswererModel:
    """All weights zero: for computing features before any model is fitted."""
    return AnswererModel(
        Linear(SENTENCE_FEATURES, np.zeros(len(SENTENCE_FEATURES), np.float32), 0.0),
        Linear(SPAN_FEATURES, np.zeros(len(SPAN_FEATURES), np.float32), 0.0),
        {"version": "untrained"},
    )


def _linear(data: Any, expected: tuple[str, ...], what: str, path: Path) -> Linear:
    try:
        features = tuple(str(name) for name in data["features"])
        weights = np.asarray([float(w) for w in data["weights"]], dtype=np.float32)
        bias = float(data["bias"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path.name}: the {what} model is malformed ({exc})") from exc
    if not (np.isfinite(weights).all() and np.isfinite(bias)):
        raise ConfigError(f"{path.name}: the {what} model has weights that are not numbers")
    if features != expected or len(weights) != len(expected):
        raise ConfigError(
            f"{path.name}: the {what} model was trained on other features; "
            "retrain it with `app.py eval --train-answerer`"
        )
    return Linear(features, weights, bias)


def load_answerer_model(path: Path = DEFAULT_MODEL_PATH) -> AnswererModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the answerer model {path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name} is not an answerer model")
    about = {k: v for k, v in data.items() if k not in ("sentence", "span")}
    return AnswererModel(
        _linear(data.get("sentence"), SENTENCE_FEATURES, "sentence", path),
        _linear(data.get("span"), SPAN_FEATURES, "span", path),
        about,
    )
