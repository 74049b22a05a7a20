"""The English stopwords every tokeniser of Docent shares (BM25, the content words of sentences,
the words that name a document): bm25s' list, read from its `stopwords` module alone, since
importing the bm25s package imports scipy, which a query has no use for."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["STOPWORDS_EN"]


def _bm25s_stopwords() -> frozenset[str]:
    loaded = sys.modules.get("bm25s.stopwords")
    if loaded is None:
        package = importlib.util.find_spec("bm25s")  # finds it without running its __init__
        if package is None or not package.submodule_search_locations:
            raise ImportError("bm25s is not installed")
        path = Path(next(iter(package.submodule_search_locations))) / "stopwords.py"
        spec = importlib.util.spec_from_file_location("_docent_bm25s_stopwords", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot read {path}")
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
    return frozenset(loaded.STOPWORDS_EN)


STOPWORDS_EN = _bm25s_stopwords()
