"""The write path: files → text → chunks → vectors → Chroma, then the BM25 index.

Incremental by file hash: an unchanged file writes nothing; a changed file replaces exactly
its old chunks, re-embedding only passages whose text is new; `prune` drops files that are gone.
A document is stored under its absolute path (`source_key`) and shown by its name: the path
relative to the folder it was ingested from, or the file name when named directly. The report
lists names, never server paths.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Concatenate, NamedTuple, ParamSpec, TypeVar

from langchain_core.embeddings import Embeddings

from index.chunking import Chunker
from index.errors import LoadError
from index.lexical import LexicalIndex
from index.loaders import SUPPORTED_SUFFIXES, LoadedDocument, load_document
from index.store import ChunkStore
from index.types import DEFAULT_COLLECTION, indexed_text

__all__ = ["IngestReport", "Ingestor", "Progress", "source_key"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int, Path], None]  # (files done, files total, current file)

_DOCUMENT_BATCH = 64  # documents embedded together by `ingest_documents`


@dataclass
class IngestReport:
    """What an ingest did, by document name."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    chunks_written: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.unchanged)} unchanged, "
            f"{len(self.replaced)} replaced, {len(self.removed)} removed, "
            f"{len(self.failed)} failed; {self.chunks_written} chunks written "
            f"in {self.seconds:.1f} s"
        )


def source_key(path: Path) -> str:
    """How a file is named in the index: its absolute path."""
    return str(path.resolve())


def _expand(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """(file, display name): files named directly (whatever their type), by file name, and
    supported files under named folders, by their path relative to that folder."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                hidden = any(part.startswith(".") for part in relative.parts)
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES and not hidden:
                    yield child, relative.as_posix()
        else:
            yield path, path.name


P = ParamSpec("P")
R = TypeVar("R")


def _exclusive(
    method: Callable[Concatenate[Ingestor, P], R],
) -> Callable[Concatenate[Ingestor, P], R]:
    """Run the method holding the ingestor's lock: one writer at a time."""

    @functools.wraps(method)
    def locked(self: Ingestor, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            return method(self, *args, **kwargs)

    return locked


class _Changed(NamedTuple):
    """A document whose text differs from what the store holds for `key`."""

    key: str
    name: str
    document: LoadedDocument
    file_hash: str
    previous_hash: str | None


class Ingestor:
    def __init__(
        self,
        store: ChunkStore,
        lexical: LexicalIndex,
        embeddings: Embeddings,
        chunker: Chunker,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.embeddings = embeddings
        self.chunker = chunker
        # One writer at a time (UI uploads, API jobs and deletes share this ingestor).
        self.lock = threading.RLock()

    @_exclusive
    def ingest(
        self,
        paths: Iterable[Path],
        prune: bool = False,
        progress: Progress | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> IngestReport:
        """Index files and folders into `collection` (a label on their chunks)."""
        started = time.perf_counter()
        report = IngestReport()
        files = list(_expand(paths))
        for done, (path, name) in enumerate(files):
            if progress:
                progress(done, len(files), path)
            try:
                self._ingest_file(path, name, report, collection)
            except LoadError as exc:
                report.failed.append((name, exc.reason))
                log.warning("skipped %s: %s", name, exc.reason)
        if progress:
            progress(len(files), len(files), files[-1][0] if files else Path())
        if prune:
            for document in self.store.documents():
                if not Path(document["source"]).exists():
                    self.store.delete_source(document["source"])
                    report.removed.append(document["name"])
        if report.changed or len(self.lexical) != self.store.count():
            self.lexical.rebuild(self.store.all_chunks())
        report.seconds = time.perf_counter() - started
        log.info("ingest: %s", report.summary())
        return report

    @_exclusive
    def remove(self, source: str) -> int:
        """Delete one document from both indexes; returns the number of chunks removed."""
        removed = self.store.delete_source(source)
        if removed:
            self.lexical.rebuild(self.store.all_chunks())
        return removed

    @_exclusive
    def ingest_documents(
        self,
        documents: Iterable[tuple[str, LoadedDocument]],
        total: int,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Index (source key, document) pairs that are not files, such as evaluation corpora;
        the text's hash decides whether a document changed. Embedded in batches."""
        started = time.perf_counter()
        report = IngestReport()
        batch: list[_Changed] = []
        seen = 0
        for seen, (key, document) in enumerate(documents, start=1):
            text_hash = hashlib.sha256(document.text.encode()).hexdigest()
            previous_hash = self.store.file_hash(key)
            if previous_hash == text_hash:
                report.unchanged.append(key)
            else:
                batch.append(_Changed(key, key, document, text_hash, previous_hash))
            if len(batch) == _DOCUMENT_BATCH:
                self._write_batch(batch, report)
                batch = []
            if progress and seen % _DOCUMENT_BATCH == 0:
                progress(seen, total, Path(key))
        self._write_batch(batch, report)
        if progress:
            progress(seen, total, Path())
        if report.changed or len(self.lexical) != self.store.count():
            self.lexical.rebuild(self.store.all_chunks())
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_file(self, path: Path, name: str, report: IngestReport, collection: str) -> None:
        if not path.exists():
            raise LoadError(path, "no such file")
        if not path.is_file():
            raise LoadError(path, "not a regular file")
        try:
            file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise LoadError(path, f"cannot be read ({exc.strerror or exc})") from exc
        source = source_key(path)
        previous_hash = self.store.file_hash(source)
        if previous_hash == file_hash:
            report.unchanged.append(name)
            return
        changed = _Changed(source, name, load_document(path), file_hash, previous_hash)
        self._write_batch([changed], report, collection)

    def _write_batch(
        self,
        documents: list[_Changed],
        report: IngestReport,
        collection: str = DEFAULT_COLLECTION,
    ) -> None:
        """Replace the chunks of each changed document, embedding all new passages at once."""
        plans = []
        for key, name, document, file_hash, previous_hash in documents:
            chunks = [
                c.model_copy(update={"collection": collection})
                for c in self.chunker.split(document, key, name)
            ]
            old_ids = self.store.ids_for(key)
            plans.append((name, file_hash, previous_hash, chunks, old_ids))
        new = [c for *_, chunks, old_ids in plans for c in chunks if c.id not in old_ids]
        vectors = self.embeddings.embed_documents([indexed_text(c) for c in new]) if new else []
        by_id = dict(zip((c.id for c in new), vectors, strict=True))
        for name, file_hash, previous_hash, chunks, old_ids in plans:
            fresh = [c for c in chunks if c.id not in old_ids]
            self.store.delete(old_ids - {c.id for c in chunks})
            self.store.add(fresh, [by_id[c.id] for c in fresh], file_hash)
            self.store.update_metadata([c for c in chunks if c.id in old_ids], file_hash)
            report.chunks_written += len(fresh)
            (report.replaced if previous_hash else report.added).append(name)
