"""BM25 over the chunks (tantivy), one index per node beside its data, following the manifest.

Upkeep does not grow with the corpus: `sync` reads the manifest's change log after the index's
watermark and, per changed document, deletes its chunks and adds the ones Chroma now holds
(documents still being written are left until their change arrives). The watermark is a
document of the index itself, so it commits atomically with the chunks: a kill at any point
leaves the index at a committed watermark, and the next sync replays from there.

One process of a node owns the tantivy writer (a lock file, released when the process dies);
the others only read, and see each commit on their next reload. Tokens are the ones the
previous bm25s index used: words of two or more characters, lower case, English stopwords
removed, Snowball English stems.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import tantivy
from filelock import FileLock

from index.stopwords import STOPWORDS_EN
from index.types import EVERYTHING, Chunk, Scope, indexed_text

__all__ = ["LexicalIndex"]

log = logging.getLogger(__name__)

_ANALYZER = "docent"
_WRITER_HEAP = 128 * 2**20
_REBUILD_AFTER = 2000  # changes behind: reading the whole store is faster than one by one
_BATCH = 5000


class ChangeLog(Protocol):
    """What `sync` reads of the manifest."""

    def latest_change(self) -> int: ...

    def changes_since(self, seq: int, limit: int = ...) -> list[tuple[int, str]]: ...

    def get_many(self, doc_ids: Sequence[str]) -> dict[str, Any]: ...


class ChunkSource(Protocol):
    """What `sync` reads of the vector store."""

    def chunks_of_documents(self, documents: Sequence[str]) -> list[Chunk]: ...

    def iter_chunks(self, where: Any = ...) -> Iterable[Chunk]: ...


def _analyzer() -> Any:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"\b\w\w+\b"))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.custom_stopword(sorted(STOPWORDS_EN)))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _schema() -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", tokenizer_name=_ANALYZER, index_option="freq")
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("document", tokenizer_name="raw")
    builder.add_text_field("collection", tokenizer_name="raw")
    builder.add_text_field("kind", tokenizer_name="raw")  # "meta": the watermark document
    builder.add_unsigned_field("watermark", stored=True)
    return builder.build()


class LexicalIndex:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._schema = _schema()
        with FileLock(str(folder) + ".create.lock"):  # processes may start together
            self._index = tantivy.Index(self._schema, path=str(folder), reuse=True)
        self._analyzer = _analyzer()
        self._index.register_tokenizer(_ANALYZER, _analyzer())
        self._writer: Any = None
        self._lock = threading.Lock()  # one sync at a time in this process

    # --- reading ---------------------------------------------------------------------------

    def search(self, query: str, k: int, scope: Scope = EVERYTHING) -> list[tuple[str, float]]:
        """Chunk ids and positive BM25 scores, best first, within `scope`."""
        tokens = self._analyzer.analyze(query)
        if not tokens or scope.empty:
            return []
        words = [
            (tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "body", t))
            for t in dict.fromkeys(tokens)
        ]
        clauses = [(tantivy.Occur.Must, tantivy.Query.boolean_query(words))]
        for field, allowed in (("collection", scope.collections), ("document", scope.documents)):
            if allowed is not None:
                terms = tantivy.Query.term_set_query(self._schema, field, sorted(allowed))
                clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(terms, 0.0)))
        searcher = self._index.searcher()
        hits = searcher.search(tantivy.Query.boolean_query(clauses), limit=k, count=False).hits
        return [
            (str(searcher.doc(address).get_first("chunk_id")), float(score))
            for score, address in hits
            if score > 0
        ]

    def __len__(self) -> int:
        """Chunks in the index (the watermark document aside)."""
        searcher = self._index.searcher()
        return int(searcher.num_docs) - (1 if self.watermark() else 0)

    def chunk_ids(self) -> set[str]:
        """Every chunk id in the index (for checks and maintenance, not for requests)."""
        searcher = self._index.searcher()
        everything = tantivy.Query.all_query()
        hits = searcher.search(everything, limit=max(int(searcher.num_docs), 1), count=False)
        found = (searcher.doc(address).get_first("chunk_id") for _, address in hits.hits)
        return {str(chunk_id) for chunk_id in found if chunk_id}

    def watermark(self) -> int:
        """The last change of the manifest this index has applied."""
        searcher = self._index.searcher()
        meta = tantivy.Query.term_query(self._schema, "kind", "meta")
        hits = searcher.search(meta, limit=1).hits
        return int(searcher.doc(hits[0][1]).get_first("watermark") or 0) if hits else 0

    # --- following the manifest -----------------------------------------------------------

    def sync(self, changes: ChangeLog, chunks: ChunkSource, since: int | None = None) -> int:
        """Apply the manifest's changes since the watermark (or since `since`, if earlier: a
        node that switched stores reads again what it may have read from the old one);
        returns the new watermark. A process that does not own the writer only reloads what
        its owner committed."""
        with self._lock:
            self._index.reload()
            watermark, latest = self.watermark(), changes.latest_change()
            if since is not None and since < watermark and self._own_writer():
                watermark = since
            if latest <= watermark or not self._own_writer():
                return watermark
            if latest - watermark > _REBUILD_AFTER:
                self._rebuild(latest, chunks)
            else:
                self._replay(watermark, changes, chunks)
            self._index.reload()
            return self.watermark()

    def _own_writer(self) -> bool:
        if self._writer is None:
            try:
                self._writer = self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
            except ValueError:  # another process of this node holds it and syncs
                return False
        return True

    def _replay(self, watermark: int, changes: ChangeLog, chunks: ChunkSource) -> None:
        while batch := changes.changes_since(watermark):
            documents = list(dict.fromkeys(doc for _, doc in batch))
            records = changes.get_many(documents)
            indexed = []
            for document in documents:
                record = records.get(document)
                if record is not None and record.status != "indexed":
                    continue  # being written: its own change comes when it is done
                self._writer.delete_documents_by_term("document", document)
                if record is not None:
                    indexed.append(document)
            self._add(chunks.chunks_of_documents(indexed))
            watermark = batch[-1][0]
            self._commit(watermark)

    def _rebuild(self, latest: int, chunks: ChunkSource) -> None:
        """Index every chunk of the store afresh (a new node, or one far behind)."""
        log.info("lexical index: rebuilding from the store (change %d)", latest)
        self._writer.delete_all_documents()
        batch: list[Chunk] = []
        for chunk in chunks.iter_chunks():
            batch.append(chunk)
            if len(batch) == _BATCH:
                self._add(batch)
                batch = []
        self._add(batch)
        self._commit(latest)

    def _add(self, chunks: Sequence[Chunk]) -> None:
        for chunk in chunks:
            document = tantivy.Document()
            document.add_text("chunk_id", chunk.id)
            document.add_text("document", chunk.document_id)
            document.add_text("collection", chunk.collection)
            document.add_text("body", indexed_text(chunk))
            self._writer.add_document(document)

    def _commit(self, watermark: int) -> None:
        """Commit the pending changes together with the watermark they reach."""
        self._writer.delete_documents_by_term("kind", "meta")
        meta = tantivy.Document()
        meta.add_text("kind", "meta")
        meta.add_unsigned("watermark", watermark)
        self._writer.add_document(meta)
        self._writer.commit()

    def close(self) -> None:
        """Give up the writer (so another process of this node may take it)."""
        with self._lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()
                self._writer = None
