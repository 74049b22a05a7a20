"""BM25 over the same chunks as the vector store (bm25s), persisted beside it.

The index is rebuilt after an ingestion changes the store, saved to disk, and reloaded by
readers when the saved copy is newer than the one in memory, so questions never rebuild it.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

import bm25s
import numpy as np
import Stemmer

from index.types import DEFAULT_COLLECTION, Chunk

__all__ = ["LexicalIndex"]

_IDS_FILE = "chunk_ids.json"

logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25: bm25s.BM25 | None = None
        self._ids: list[str] = []
        self._sources: np.ndarray = np.array([], dtype=object)
        self._collections: np.ndarray = np.array([], dtype=object)
        self._loaded_stamp: float | None = None

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        tokens = bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        return cast(list[list[str]], tokens)

    def _stamp(self) -> float | None:
        ids_file = self.folder / _IDS_FILE
        return ids_file.stat().st_mtime if ids_file.exists() else None

    def rebuild(self, chunks: Sequence[Chunk]) -> None:
        """Index `chunks` (all chunks of the collection) and save to disk."""
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        self._bm25, self._ids = None, []
        if chunks:
            bm25 = bm25s.BM25()
            bm25.index(
                self._tokenize([f"{c.title}\n{c.text}" for c in chunks]), show_progress=False
            )
            bm25.save(str(self.folder), show_progress=False)
            self._bm25 = bm25
        self._ids = [c.id for c in chunks]
        self._sources = np.array([c.source for c in chunks], dtype=object)
        self._collections = np.array([c.collection for c in chunks], dtype=object)
        payload = {
            "ids": self._ids,
            "sources": self._sources.tolist(),
            "collections": self._collections.tolist(),
        }
        (self.folder / _IDS_FILE).write_text(json.dumps(payload))
        self._loaded_stamp = self._stamp()

    def _refresh(self) -> None:
        stamp = self._stamp()
        if stamp == self._loaded_stamp:
            return
        self._bm25, self._ids = None, []
        self._sources = np.array([], dtype=object)
        self._collections = np.array([], dtype=object)
        if stamp is not None:
            payload = json.loads((self.folder / _IDS_FILE).read_text())
            self._ids = payload["ids"]
            self._sources = np.array(payload["sources"], dtype=object)
            default = [DEFAULT_COLLECTION] * len(self._ids)  # saved before collections existed
            self._collections = np.array(payload.get("collections", default), dtype=object)
            if self._ids:
                self._bm25 = bm25s.BM25.load(str(self.folder))
        self._loaded_stamp = stamp

    def __len__(self) -> int:
        self._refresh()
        return len(self._ids)

    def search(
        self,
        query: str,
        k: int,
        sources: Iterable[str] | None = None,
        collections: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Chunk ids and positive BM25 scores, best first, optionally only from `sources` and
        only in `collections`."""
        self._refresh()
        tokens = self._tokenize([query])
        if self._bm25 is None or not tokens[0]:
            return []
        mask = None
        for allowed, values in ((sources, self._sources), (collections, self._collections)):
            if allowed is not None:
                keep = np.isin(values, list(allowed)).astype(np.float32)
                mask = keep if mask is None else mask * keep
        found, scores = self._bm25.retrieve(
            tokens, k=min(k, len(self._ids)), show_progress=False, weight_mask=mask
        )
        return [
            (self._ids[int(i)], float(s)) for i, s in zip(found[0], scores[0], strict=True) if s > 0
        ]
