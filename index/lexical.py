"""BM25 over the same chunks as the vector store (bm25s), persisted beside it.

The index is rebuilt after an ingestion changes the store, saved to disk, and reloaded by
readers when the saved copy is newer than the one in memory, so questions never rebuild it.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import bm25s
import numpy as np
import Stemmer

from index.types import EVERYTHING, Chunk, Scope, indexed_text

__all__ = ["LexicalIndex"]

_IDS_FILE = "chunk_ids.json"


@dataclass(frozen=True)
class _Snapshot:
    """One consistent state of the index; readers take a reference, writers swap in a new one."""

    bm25: bm25s.BM25 | None
    ids: list[str]
    documents: np.ndarray
    collections: np.ndarray
    stamp: float | None


_EMPTY = _Snapshot(None, [], np.array([], dtype=object), np.array([], dtype=object), None)


class LexicalIndex:
    def __init__(self, folder: Path) -> None:
        # bm25s sets its own logger to DEBUG when imported; its progress lines are not ours.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.folder = folder
        self._stemmer = Stemmer.Stemmer("english")
        self._snapshot = _EMPTY
        self._lock = threading.Lock()  # one writer or reloader at a time

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
        with self._lock:
            bm25 = None
            if self.folder.exists():
                shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)
            if chunks:
                bm25 = bm25s.BM25()
                bm25.index(self._tokenize([indexed_text(c) for c in chunks]), show_progress=False)
                bm25.save(str(self.folder), show_progress=False)
            payload = {
                "ids": [c.id for c in chunks],
                "documents": [c.document_id for c in chunks],
                "collections": [c.collection for c in chunks],
            }
            (self.folder / _IDS_FILE).write_text(json.dumps(payload))
            self._snapshot = _Snapshot(
                bm25,
                payload["ids"],
                np.array(payload["documents"], dtype=object),
                np.array(payload["collections"], dtype=object),
                self._stamp(),
            )

    def _current(self) -> _Snapshot:
        """The loaded snapshot, reloaded first when another process saved a newer one."""
        stamp = self._stamp()
        if stamp == self._snapshot.stamp:
            return self._snapshot
        with self._lock:
            stamp = self._stamp()
            if stamp != self._snapshot.stamp:
                self._snapshot = self._load(stamp)
            return self._snapshot

    def _load(self, stamp: float | None) -> _Snapshot:
        if stamp is None:
            return _EMPTY
        payload = json.loads((self.folder / _IDS_FILE).read_text())
        ids = payload["ids"]
        return _Snapshot(
            bm25s.BM25.load(str(self.folder)) if ids else None,
            ids,
            np.array(payload["documents"], dtype=object),
            np.array(payload["collections"], dtype=object),
            stamp,
        )

    def __len__(self) -> int:
        return len(self._current().ids)

    def search(self, query: str, k: int, scope: Scope = EVERYTHING) -> list[tuple[str, float]]:
        """Chunk ids and positive BM25 scores, best first, within `scope`."""
        snapshot = self._current()
        tokens = self._tokenize([query])
        if snapshot.bm25 is None or not tokens[0] or scope.empty:
            return []
        mask = None
        for allowed, values in (
            (scope.documents, snapshot.documents),
            (scope.collections, snapshot.collections),
        ):
            if allowed is not None:
                keep = np.isin(values, list(allowed)).astype(np.float32)
                mask = keep if mask is None else mask * keep
        found, scores = snapshot.bm25.retrieve(
            tokens, k=min(k, len(snapshot.ids)), show_progress=False, weight_mask=mask
        )
        return [
            (snapshot.ids[int(i)], float(s))
            for i, s in zip(found[0], scores[0], strict=True)
            if s > 0
        ]
