"""The write path: files → text → chunks → vectors → Chroma, recorded in the manifest; the
lexical index follows the manifest's change log.

Incremental by content hash: an unchanged file writes nothing; a changed file replaces exactly
its old chunks, re-embedding only passages whose text is new; `prune` drops files that are gone.
A document is stored under its source key (its absolute path, or `upload:<collection>/<name>`
for uploads) and shown by its name: the path relative to the folder it was ingested from, or
the file name. Reports list names, never server paths.

Crash safety: a document is marked `indexing` before its chunks change and `indexed` (with its
hash, in the same commit as its change-log entry) only after Chroma holds exactly them. A kill
at any point leaves it `indexing` with its old hash, so the next ingest of the same files
redoes it, adding only chunks still missing, and the result equals a clean ingest.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Concatenate, NamedTuple, ParamSpec, TypeVar

from index.chunking import Chunker
from index.embeddings import Encoder
from index.errors import LoadError
from index.lexical import LexicalIndex
from index.loaders import SUPPORTED_SUFFIXES, LoadedDocument, load_document
from index.manifest import Manifest
from index.store import ChunkStore
from index.types import DEFAULT_COLLECTION, Chunk, document_id
from index.units import UnitVectors, encode_chunks

__all__ = ["IngestReport", "Ingestor", "Progress", "SourceFile", "source_key"]

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


class SourceFile(NamedTuple):
    """A file to read, the key it is stored under, and the name it is shown by."""

    path: Path
    source: str
    name: str


def source_key(path: Path) -> str:
    """How a file from disk is keyed in the index: its absolute path."""
    return str(path.resolve())


def _expand(paths: Iterable[Path]) -> Iterator[SourceFile]:
    """Files named directly (whatever their type), by file name, and supported files under
    named folders, by their path relative to that folder."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                hidden = any(part.startswith(".") for part in relative.parts)
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES and not hidden:
                    yield SourceFile(child, source_key(child), relative.as_posix())
        else:
            yield SourceFile(path, source_key(path), path.name)


P = ParamSpec("P")
R = TypeVar("R")


def _exclusive(
    method: Callable[Concatenate[Ingestor, P], R],
) -> Callable[Concatenate[Ingestor, P], R]:
    """Run the method holding the ingestor's lock: one writer at a time in a process."""

    @functools.wraps(method)
    def locked(self: Ingestor, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            return method(self, *args, **kwargs)

    return locked


class _Changed(NamedTuple):
    """A document whose content differs from what the manifest records as indexed."""

    source: str
    name: str
    document: LoadedDocument
    file_hash: str
    existed: bool


class Ingestor:
    def __init__(
        self,
        store: ChunkStore,
        lexical: LexicalIndex,
        embeddings: Encoder,
        chunker: Chunker,
        manifest: Manifest,
        units: UnitVectors,
        keep_lexical: bool = True,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.embeddings = embeddings
        self.units = units
        self.chunker = chunker
        self.manifest = manifest
        self.keep_lexical = keep_lexical  # a worker that answers no questions keeps none
        # One writer at a time in this process (UI uploads, jobs and deletes share it).
        self.lock = threading.RLock()

    def sync_lexical(self) -> None:
        """Bring this node's lexical index up to the manifest's change log."""
        if self.keep_lexical:
            self.lexical.sync(self.manifest, self.store)

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
        report = self._ingest_files(list(_expand(paths)), collection, progress)
        if prune:
            for document in self.manifest.all_documents():
                if document.source.startswith("/") and not Path(document.source).exists():
                    self._remove(document.id)
                    report.removed.append(document.name)
        self.sync_lexical()
        report.seconds = time.perf_counter() - started
        log.info("ingest: %s", report.summary())
        return report

    @_exclusive
    def ingest_files(
        self,
        files: Sequence[SourceFile],
        collection: str = DEFAULT_COLLECTION,
        progress: Progress | None = None,
        force: bool = False,
    ) -> IngestReport:
        """Index files under the source keys and names given (uploads: a temporary copy);
        `force` reads them anew even when their content is unchanged."""
        started = time.perf_counter()
        report = self._ingest_files(files, collection, progress, force)
        self.sync_lexical()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_files(
        self,
        files: Sequence[SourceFile],
        collection: str,
        progress: Progress | None,
        force: bool = False,
    ) -> IngestReport:
        report = IngestReport()
        for done, file in enumerate(files):
            if progress:
                progress(done, len(files), file.path)
            try:
                self._ingest_file(file, report, collection, force)
            except LoadError as exc:
                report.failed.append((file.name, exc.reason))
                log.warning("skipped %s: %s", file.name, exc.reason)
                record = self.manifest.get(document_id(file.source))
                if record is not None and not record.indexed_before:
                    self.manifest.remove(record.id)  # an upload that cannot be read: gone
        if progress:
            progress(len(files), len(files), files[-1].path if files else Path())
        return report

    @_exclusive
    def rebuild(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Index everything anew into an emptied store: the files and folders given, and every
        uploaded document the manifest keeps; documents neither covers are forgotten."""
        started = time.perf_counter()
        self.manifest.forget_hashes()
        self.units.clear()
        report = self._ingest_files(list(_expand(paths)), DEFAULT_COLLECTION, progress)
        with tempfile.TemporaryDirectory(prefix="docent-rebuild-") as folder:
            for document in self.manifest.unfinished():
                stored = self.manifest.stored_file(document.source)
                if stored is None:
                    self._remove(document.id)
                    report.removed.append(document.name)
                    continue
                path = Path(folder) / document.id / Path(stored.name).name
                path.parent.mkdir()
                path.write_bytes(stored.content)
                file = SourceFile(path, document.source, document.name)
                self._ingest_file(file, report, document.collection)
        self.sync_lexical()
        report.seconds = time.perf_counter() - started
        return report

    @_exclusive
    def remove_document(self, doc_id: str) -> int | None:
        """Delete one document everywhere; the number of chunks removed, None if unknown."""
        removed = self._remove(doc_id)
        self.sync_lexical()
        return removed

    def _remove(self, doc_id: str) -> int | None:
        if self.manifest.mark_deleting(doc_id) is None:
            return None
        removed = self.store.delete_document(doc_id)
        self.units.delete_document(doc_id)
        self.manifest.remove(doc_id)
        return removed

    @_exclusive
    def resume(self) -> int:
        """Finish deletions a crash interrupted; returns how many were finished (documents
        left `indexing` are redone by the next ingest of their file or by their job)."""
        unfinished = [d for d in self.manifest.unfinished() if d.status == "deleting"]
        for document in unfinished:
            self._remove(document.id)
        if unfinished:
            self.sync_lexical()
        return len(unfinished)

    @_exclusive
    def ingest_documents(
        self,
        documents: Iterable[tuple[str, LoadedDocument]],
        total: int,
        progress: Progress | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> IngestReport:
        """Index (source key, document) pairs that are not files, such as evaluation corpora;
        the text's hash decides whether a document changed. Embedded in batches."""
        started = time.perf_counter()
        report = IngestReport()
        batch: list[_Changed] = []
        seen = 0
        for seen, (key, document) in enumerate(documents, start=1):
            text_hash = hashlib.sha256(document.text.encode()).hexdigest()
            if self.manifest.indexed_hash(key) == text_hash:
                report.unchanged.append(key)
            else:
                existed = self._indexed_before(key)
                batch.append(_Changed(key, key, document, text_hash, existed))
            if len(batch) == _DOCUMENT_BATCH:
                self._write_batch(batch, report, collection)
                batch = []
            if progress and seen % _DOCUMENT_BATCH == 0:
                progress(seen, total, Path(key))
        self._write_batch(batch, report, collection)
        if progress:
            progress(seen, total, Path())
        self.sync_lexical()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_file(
        self, file: SourceFile, report: IngestReport, collection: str, force: bool = False
    ) -> None:
        path = file.path
        if not path.exists():
            raise LoadError(path, "no such file")
        if not path.is_file():
            raise LoadError(path, "not a regular file")
        try:
            file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise LoadError(path, f"cannot be read ({exc.strerror or exc})") from exc
        if self.manifest.indexed_hash(file.source) == file_hash and not force:
            report.unchanged.append(file.name)
            return
        existed = self._indexed_before(file.source)
        changed = _Changed(file.source, file.name, load_document(path), file_hash, existed)
        self._write_batch([changed], report, collection)

    def _indexed_before(self, source: str) -> bool:
        """Whether the document was indexed before (with any content): a replacement."""
        record = self.manifest.get(document_id(source))
        return record is not None and record.indexed_before

    def _write_batch(
        self, documents: list[_Changed], report: IngestReport, collection: str
    ) -> None:
        """Replace the chunks of each changed document, embedding all new passages at once."""
        plans: list[tuple[_Changed, list[Chunk], set[str]]] = []
        for changed in documents:
            self.manifest.begin(changed.source, changed.name, changed.document.title, collection)
            chunks = [
                c.model_copy(update={"collection": collection})
                for c in self.chunker.split(changed.document, changed.source, changed.name)
            ]
            plans.append((changed, chunks, self.store.ids_of(document_id(changed.source))))
        new = [c for _, chunks, old_ids in plans for c in chunks if c.id not in old_ids]
        vectors, unit_vectors = encode_chunks(self.embeddings, new) if new else ([], [])
        by_id = dict(zip((c.id for c in new), zip(vectors, unit_vectors, strict=True), strict=True))
        for changed, chunks, old_ids in plans:
            fresh = [c for c in chunks if c.id not in old_ids]
            gone = old_ids - {c.id for c in chunks}
            self.store.delete(gone)
            self.units.delete(gone)
            self.units.put(fresh, [by_id[c.id][1] for c in fresh])
            self.store.add(fresh, [by_id[c.id][0] for c in fresh], changed.file_hash)
            self.store.update_metadata([c for c in chunks if c.id in old_ids], changed.file_hash)
            self.manifest.finish(changed.source, changed.file_hash, len(chunks))
            report.chunks_written += len(fresh)
            (report.replaced if changed.existed else report.added).append(changed.name)
