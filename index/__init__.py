"""Docent's write path: file → text (loaders) → chunks with exact offsets (chunking) → vectors
(embeddings) → Chroma (store), recorded in the document manifest (manifest, in the relational
database of `database`), whose change log each node's BM25 index (lexical, tantivy) follows;
`Ingestor` (ingest) drives it. Its errors are in `errors`.

It takes plain arguments (never the read path's `Settings`) and imports nothing from `rag`.
Heavy modules (Chroma, models) load on first use of the names that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from index.errors import ConfigError, DocentError, IndexMismatchError, LoadError, StoreBusyError
from index.types import DEFAULT_COLLECTION, Chunk, Hit

if TYPE_CHECKING:
    from index.ingest import Ingestor, IngestReport
    from index.lexical import LexicalIndex
    from index.store import ChunkStore

__all__ = [
    "DEFAULT_COLLECTION",
    "Chunk",
    "ChunkStore",
    "ConfigError",
    "DocentError",
    "Hit",
    "IndexMismatchError",
    "IngestReport",
    "Ingestor",
    "LexicalIndex",
    "LoadError",
    "StoreBusyError",
]

_LAZY = {
    "ChunkStore": "index.store",
    "IngestReport": "index.ingest",
    "Ingestor": "index.ingest",
    "LexicalIndex": "index.lexical",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'index' has no attribute {name!r}")
