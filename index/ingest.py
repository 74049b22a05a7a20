"""The write path: files → text → chunks → vectors → Chroma, recorded in the manifest; the
lexical index follows the manifest's change log.

Incremental by content hash: an unchanged file writes nothing; a changed file replaces exactly
its old chunks, re-embedding only passages whose text is new; `prune` drops files that are gone.
A document is stored under its source key (its absolute path, or `upload:<collection>/<name>`
for uploads) and shown by its name: the path relative to the folder it was ingested from, or
the file name. Reports list names, never server paths.

Which files of a folder are read, and how they are opened, is `index/paths.py`'s rule: only
files whose real path is inside the folder named, opened without following links; links that
lead out are skipped (`IngestReport.skipped`). Files named directly are the operator's choice.

Crash safety: a document is marked `indexing` before its chunks change and `indexed` (with its
hash, in the same commit as its change-log entry) only after Chroma holds exactly them. A kill
at any point leaves it `indexing` with its old hash, so the next ingest of the same files
redoes it, adding only chunks still missing, and the result equals a clean ingest.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Concatenate, NamedTuple, ParamSpec, TypeVar, cast

import numpy as np

from index.chunking import Chunker
from index.embeddings import Encoder
from index.errors import LoadError
from index.lexical import LexicalIndex
from index.loaders import LoadedDocument, PageProgress, load_document
from index.manifest import DocumentRecord, Manifest
from index.ocr import OcrBudget, OcrLimits
from index.paths import (
    SourceFile,
    is_gone,
    list_folder,
    read_source,
    read_through_link,
    source_key,
)
from index.store import ChunkStore
from index.types import DEFAULT_COLLECTION, Chunk, document_id
from index.units import UnitVectors, encode_chunks

__all__ = [
    "IngestProgress",
    "IngestReport",
    "Ingestor",
    "Progress",
    "SourceFile",
    "source_key",
]

log = logging.getLogger(__name__)

_DOCUMENT_BATCH = 64  # documents embedded together by `ingest_documents`
_BATCH_CHUNKS = 256  # new chunks encoded together: across small files, in slices of big ones
_FIRST_BATCH_CHUNKS = 32  # ... but the first batch is sent to the encoder as soon as this many
_READ_AHEAD = 256  # files read and parsed ahead of the encoder at most ...
_READ_AHEAD_CHARS = 4_000_000  # ... and characters of their text (bounds memory)


class IngestProgress(NamedTuple):
    """Where an ingest is: files done of all, and the file at hand, page by page if it has
    pages (`stage` says whether they are being read or indexed)."""

    files_done: int
    files_total: int
    current: Path
    stage: str = ""  # "reading" | "indexing" | "" (between files)
    pages_done: int = 0
    pages_total: int = 0

    @property
    def fraction_done(self) -> float:
        """Files done, counting the pages of the file being indexed."""
        if self.stage == "indexing" and self.pages_total:
            return self.files_done + self.pages_done / self.pages_total
        return float(self.files_done)

    def describe(self) -> str:
        if not self.pages_total:
            return self.current.name
        return f"{self.current.name} · {self.stage} page {self.pages_done}/{self.pages_total}"


Progress = Callable[[IngestProgress], None]


@dataclass
class IngestReport:
    """What an ingest did, by document name."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # links not followed
    partial: list[tuple[str, str]] = field(default_factory=list)  # (name, what was read)
    chunks_written: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)

    def summary(self) -> str:
        done = (
            f"{len(self.added)} added, {len(self.unchanged)} unchanged, "
            f"{len(self.replaced)} replaced, {len(self.removed)} removed, "
            f"{len(self.failed)} failed; {self.chunks_written} chunks written "
            f"in {self.seconds:.1f} s"
        )
        for what, items in (("partly read", self.partial), ("skipped", self.skipped)):
            if items:
                shown = "; ".join(f"{name}: {reason}" for name, reason in items[:5])
                more = f"; and {len(items) - 5} more" if len(items) > 5 else ""
                done += f"; {len(items)} {what} ({shown}{more})"
        return done


def _expand(
    paths: Iterable[Path], skipped: list[tuple[str, str]] | None = None
) -> Iterator[SourceFile]:
    """Files named directly (whatever their type: the operator's choice, read wherever a link
    leads), by their real file name, and the files `list_folder` finds under named folders,
    by their path relative to that folder; the links it skips go to `skipped`."""
    for path in paths:
        if path.is_dir():
            listing = list_folder(path, [path])
            if skipped is not None:
                skipped += listing.skipped
            yield from listing.files
        else:
            source = source_key(path)
            yield SourceFile(path, source, Path(source).name)


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
    known: bool  # the manifest has a record: the store may hold chunks of it
    existed: bool  # it was indexed before: a replacement
    chunks: list[Chunk]


class _Plan(NamedTuple):
    """A batch about to be written: its documents, their chunks with the ids the store holds
    of them now, and the chunks that are new (to encode)."""

    documents: list[_Changed]
    chunks: list[tuple[_Changed, list[Chunk], set[str]]]
    fresh: list[tuple[_Changed, Chunk]]


BatchProgress = Callable[[int, _Changed, int, int], None]  # (done, document, page, pages)

_DONE = object()  # the end of the read-ahead queue


class _ReadAhead:
    """Reads files on a thread, up to `_READ_AHEAD` files or `_READ_AHEAD_CHARS` characters
    ahead of the consumer (one file always); yields (file, outcome) in order, where the outcome
    is what `read` returned or the `LoadError` it raised. Page progress is passed on only for
    the file the consumer waits for."""

    def __init__(
        self,
        files: Sequence[SourceFile],
        read: Callable[[SourceFile, PageProgress], _Changed | None],
        on_page: Callable[[SourceFile, int, int], None],
    ) -> None:
        self.files = files
        self.read = read
        self.on_page = on_page
        self.waiting_for = 0  # index of the file the consumer waits for
        self.queue: queue.Queue[object] = queue.Queue(maxsize=_READ_AHEAD)
        self.queued_chars = 0
        self.room = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="docent-read-ahead", daemon=True)

    def _run(self) -> None:
        for index, file in enumerate(self.files):
            if self.stop.is_set():
                return

            def page(done: int, pages: int, index: int = index, file: SourceFile = file) -> None:
                if index == self.waiting_for:
                    self.on_page(file, done, pages)

            outcome: object
            try:
                outcome = self.read(file, page)
            except Exception as exc:  # LoadError for the report; anything else re-raised there
                outcome = exc
            size = len(outcome.document.text) if isinstance(outcome, _Changed) else 0
            with self.room:
                self.room.wait_for(functools.partial(self._has_room, size))
                self.queued_chars += size
            self._put((file, outcome, size))
        self._put(_DONE)

    def _has_room(self, size: int) -> bool:
        return (
            self.stop.is_set()
            or self.queued_chars == 0
            or self.queued_chars + size <= _READ_AHEAD_CHARS
        )

    def _put(self, item: object) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def __enter__(self) -> Iterator[tuple[SourceFile, _Changed | LoadError | None]]:
        self.thread.start()
        return self._items()

    def _items(self) -> Iterator[tuple[SourceFile, _Changed | LoadError | None]]:
        while (item := self.queue.get()) is not _DONE:
            file, outcome, size = cast(tuple[SourceFile, _Changed | Exception | None, int], item)
            with self.room:
                self.queued_chars -= size
                self.room.notify()
            self.waiting_for += 1
            if isinstance(outcome, Exception) and not isinstance(outcome, LoadError):
                raise outcome
            yield file, outcome

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        with self.room:
            self.room.notify()
        self.thread.join()


@dataclass
class _IngestRun:
    """One `Ingestor._ingest_files` call: its state, and its steps. Each file's outcome is
    taken in order (`take`); the documents read go to the encoder in batches (`write`), a
    batch being stored on the writer thread while the next is encoded (`wait_for_store` joins
    it); a file counts as done once it is stored, unchanged or failed (`tell`)."""

    ingestor: Ingestor
    files: Sequence[SourceFile]
    collection: str
    progress: Progress | None
    report: IngestReport
    pending: list[_Changed] = field(default_factory=list)  # read, not yet sent to the encoder
    files_read: int = 0  # files whose outcome has been taken
    started: bool = False  # the first (small) batch has gone to the encoder
    storing: Future[None] | None = None  # the previous batch, written while this encodes
    storing_sources: set[str] = field(default_factory=set)  # ... and its documents
    furthest: float = 0.0  # the progress told so far: never backwards

    def tell(
        self, current: Path, stage: str = "", page: int = 0, pages: int = 0, extra: int = 0
    ) -> None:
        """Progress, if it is no step back: `extra` documents of the batch at hand are done."""
        done = self.files_read - len(self.pending) - len(self.storing_sources) + extra
        status = IngestProgress(done, len(self.files), current, stage, page, pages)
        if self.progress and status.fraction_done >= self.furthest:
            self.furthest = status.fraction_done
            self.progress(status)

    def reading(self, file: SourceFile, page: int, pages: int) -> None:
        """The pages read of the file the loop waits for (called on the read-ahead thread)."""
        self.tell(file.path, "reading", page, pages)

    def indexing(self, finished: int, changed: _Changed, page: int, pages: int) -> None:
        """A batch's progress as it is encoded and stored (`BatchProgress`)."""
        self.tell(changed.document.path, "indexing" if pages else "", page, pages, finished)

    def take(
        self, file: SourceFile, outcome: _Changed | LoadError | None, writer: ThreadPoolExecutor
    ) -> None:
        """One file's outcome: failed, unchanged, or pending, written once enough is pending
        (a small first batch sets the encoder going while the reader runs ahead)."""
        self.files_read += 1
        if isinstance(outcome, LoadError):
            self.ingestor._failed(file, outcome, self.report)
        elif outcome is None:
            self.report.unchanged.append(file.name)
        else:
            self.pending.append(outcome)
            enough = _BATCH_CHUNKS if self.started else _FIRST_BATCH_CHUNKS
            if sum(len(c.chunks) for c in self.pending) >= enough:
                self.write(writer)
                self.started = True
        self.tell(file.path)

    def write(self, writer: ThreadPoolExecutor) -> None:
        """Encode the pending documents here, then store them on the writer thread once the
        previous batch is stored."""
        batch = list(self.pending)
        if self.storing_sources & {d.source for d in batch}:
            self.wait_for_store()  # the same document twice: its writes must not overlap
        plan = self.ingestor._plan(batch, self.collection)
        encoded = self.ingestor._encode(plan, self.indexing)
        self.wait_for_store()
        self.pending.clear()
        self.storing_sources.update(d.source for d in batch)
        self.storing = writer.submit(
            self.ingestor._store, plan, *encoded, self.report, self.indexing
        )

    def wait_for_store(self) -> None:
        """Wait until the batch on the writer thread is stored."""
        if self.storing is not None:
            self.storing.result()  # re-raises what the writer met
            self.storing = None
            self.storing_sources.clear()

    def finish(self, writer: ThreadPoolExecutor) -> None:
        """Write what is still pending, and wait until all is stored."""
        if self.pending:
            self.write(writer)
        self.wait_for_store()


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
        ocr_limits: OcrLimits | None = None,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.embeddings = embeddings
        self.units = units
        self.chunker = chunker
        self.manifest = manifest
        self.keep_lexical = keep_lexical  # a worker that answers no questions keeps none
        self.ocr_limits = ocr_limits or OcrLimits()  # OCR pages and seconds: a document, a job
        # One writer at a time in this process (UI uploads, jobs and deletes share it).
        self.lock = threading.RLock()

    def sync_lexical(self, since: int | None = None) -> None:
        """Bring this node's lexical index up to the manifest's change log (from `since`, if
        earlier than where it stands)."""
        if self.keep_lexical:
            self.lexical.sync(self.manifest, self.store, since)

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
        skipped: list[tuple[str, str]] = []
        report = self._ingest_files(list(_expand(paths, skipped)), collection, progress)
        report.skipped += skipped
        if prune:
            report.removed += self._remove_gone(self.manifest.all_documents())
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
        """Index files under the source keys and names given (uploads: a temporary copy; a
        file with a root is read only as `index/paths.py` says); `force` reads them anew
        even when their content is unchanged."""
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
        report: IngestReport | None = None,
    ) -> IngestReport:
        """Files are read, parsed and chunked on a thread ahead of the encoder, and the new
        chunks of several files encoded together, so the model neither waits for a parser
        nor runs on a handful of passages. Memory stays bounded: `_READ_AHEAD` parsed files
        ahead, and a batch of at most `_BATCH_CHUNKS` chunks plus those of one file. The steps
        are `_IngestRun`'s."""
        report = report if report is not None else IngestReport()
        run = _IngestRun(self, files, collection, progress, report)
        # One OCR budget for the job, shared by its files.
        read_file = functools.partial(self._read, force=force, ocr=OcrBudget(self.ocr_limits))
        with (
            ThreadPoolExecutor(1, thread_name_prefix="docent-store") as writer,
            _ReadAhead(files, read_file, run.reading) as items,
        ):
            for file, outcome in items:
                run.take(file, outcome, writer)
            run.finish(writer)
        if progress:
            last = files[-1].path if files else Path()
            progress(IngestProgress(len(files), len(files), last))
        return report

    def _failed(self, file: SourceFile, error: LoadError, report: IngestReport) -> None:
        report.failed.append((file.name, error.reason))
        log.info("skipped %s: %s", file.name, error.reason)  # the report tells the caller
        record = self.manifest.get(document_id(file.source))
        if record is not None and not record.indexed_before:
            self.manifest.remove(record.id)  # an upload that cannot be read: gone

    def _read(
        self, file: SourceFile, on_page: PageProgress, force: bool, ocr: OcrBudget
    ) -> _Changed | None:
        """The file's new content, parsed and chunked; None when the manifest says it is
        unchanged (and not `force`; a document read through a link before links were checked
        is read again, to be named by its real path). Runs on the read-ahead thread: reads,
        never writes."""
        content = read_source(file)
        file_hash = hashlib.sha256(content).hexdigest()
        indexed = self.manifest.indexed_as(file.source)
        if indexed is not None and not force:
            indexed_hash, indexed_name = indexed
            if indexed_hash == file_hash and not read_through_link(file.source, indexed_name):
                return None
        # The loaders read paths: they parse a private copy of the bytes hashed (of the same
        # name), never the file again, which may have changed or become a link since.
        with tempfile.TemporaryDirectory(prefix="docent-read-") as folder:
            copy = Path(folder) / file.path.name
            copy.write_bytes(content)
            del content  # the copy alone while it is parsed
            try:
                document = load_document(copy, on_page, ocr)
            except LoadError as exc:
                raise LoadError(file.path, exc.reason) from exc
        document = dataclasses.replace(document, path=file.path)
        return self._changed(file.source, file.name, document, file_hash)

    def _changed(
        self, source: str, name: str, document: LoadedDocument, content_hash: str
    ) -> _Changed:
        record = self.manifest.get(document_id(source))
        existed = record is not None and record.indexed_before
        chunks = self.chunker.split(document, source, name)
        return _Changed(source, name, document, content_hash, record is not None, existed, chunks)

    @_exclusive
    def rebuild(
        self,
        paths: Iterable[Path],
        progress: Progress | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> IngestReport:
        """Index everything anew into an emptied store: the files and folders given (each in
        the collection it was in, new ones in `collection`), and every uploaded document the
        manifest keeps; documents neither covers are forgotten."""
        started = time.perf_counter()
        self.manifest.forget_hashes()
        self.units.clear()
        report = IngestReport()
        groups: dict[str, list[SourceFile]] = {}
        for file in _expand(paths, report.skipped):
            known = self.manifest.get(document_id(file.source))
            groups.setdefault(known.collection if known else collection, []).append(file)
        for name, files in groups.items():
            self._ingest_files(files, name, progress, report=report)
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
                self._ingest_files([file], document.collection, None, report=report)
        self.sync_lexical()
        report.seconds = time.perf_counter() - started
        return report

    @_exclusive
    def remove_document(self, doc_id: str) -> int | None:
        """Delete one document everywhere; the number of chunks removed, None if unknown."""
        removed = self._remove(doc_id)
        self.sync_lexical()
        return removed

    @_exclusive
    def remove_gone(self, sources: Sequence[str]) -> list[str]:
        """Delete the documents of these source keys whose files are gone (a watched folder's
        deleted files, or files now reached only through a link: `is_gone`); their names."""
        documents = self.manifest.get_many([document_id(source) for source in sources])
        removed = self._remove_gone(documents.values())
        if removed:
            self.sync_lexical()
        return removed

    def _remove_gone(self, documents: Iterable[DocumentRecord]) -> list[str]:
        """Delete those of `documents` read from a file that is gone (`is_gone`); their names.
        (All are read before the first is deleted: deleting shifts the manifest's pages.)"""
        gone = [d for d in documents if is_gone(d.source, d.name)]
        return [d.name for d in gone if self._remove(d.id) is not None]

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
                batch.append(self._changed(key, key, document, text_hash))
            if len(batch) == _DOCUMENT_BATCH:
                self._write_batch(batch, report, collection)
                batch = []
            if progress and seen % _DOCUMENT_BATCH == 0:
                progress(IngestProgress(seen, total, Path(key)))
        self._write_batch(batch, report, collection)
        if progress:
            progress(IngestProgress(seen, total, Path()))
        self.sync_lexical()
        report.seconds = time.perf_counter() - started
        return report

    def _write_batch(
        self,
        documents: list[_Changed],
        report: IngestReport,
        collection: str,
        progress: BatchProgress | None = None,
    ) -> None:
        """Replace the chunks of each changed document (see `_plan`, `_encode`, `_store`)."""
        plan = self._plan(documents, collection)
        self._store(plan, *self._encode(plan, progress), report, progress)

    def _plan(self, documents: list[_Changed], collection: str) -> _Plan:
        """Mark the documents as being indexed and find which of their chunks are new."""
        self.manifest.begin([(d.source, d.name, d.document.title) for d in documents], collection)
        plan = _Plan(documents, [], [])
        for changed in documents:
            chunks = [c.model_copy(update={"collection": collection}) for c in changed.chunks]
            # A document the manifest never saw has nothing in the store to replace.
            old_ids = self.store.ids_of(document_id(changed.source)) if changed.known else set()
            plan.chunks.append((changed, chunks, old_ids))
            plan.fresh.extend((changed, c) for c in chunks if c.id not in old_ids)
        return plan

    def _encode(
        self, plan: _Plan, progress: BatchProgress | None
    ) -> tuple[list[list[float]], list[np.ndarray]]:
        """All new passages of the batch in one call (sorted by length across documents)."""
        last = plan.documents[-1] if plan.documents else None

        def encoding(done: int) -> None:  # a long document's pages, as its chunks are encoded
            if progress and last is not None and last.document.page_starts:
                pages = len(last.document.page_starts)
                progress(
                    len(plan.documents) - 1, last, round(pages * done / len(plan.fresh)), pages
                )

        return encode_chunks(self.embeddings, [c for _, c in plan.fresh], encoding)

    def _store(
        self,
        plan: _Plan,
        vectors: list[list[float]],
        units: list[np.ndarray],
        report: IngestReport,
        progress: BatchProgress | None,
    ) -> None:
        """One Chroma call for the batch; each document is marked indexed only once Chroma
        holds exactly its chunks."""
        fresh = [c for _, c in plan.fresh]
        gone = {i for _, chunks, old_ids in plan.chunks for i in old_ids - {c.id for c in chunks}}
        self.store.delete(gone)
        self.units.delete(gone)
        self.units.put(fresh, units)
        self.store.add(fresh, vectors, [d.file_hash for d, _ in plan.fresh])
        for changed, chunks, old_ids in plan.chunks:
            self.store.update_metadata([c for c in chunks if c.id in old_ids], changed.file_hash)
        self.manifest.finish([(d.source, d.file_hash, len(c)) for d, c, _ in plan.chunks])
        for finished, (changed, chunks, old_ids) in enumerate(plan.chunks, start=1):
            report.chunks_written += sum(1 for c in chunks if c.id not in old_ids)
            (report.replaced if changed.existed else report.added).append(changed.name)
            if changed.document.note:  # an OCR budget ran out: kept as far as it was read
                report.partial.append((changed.name, changed.document.note))
            if progress:
                progress(finished, changed, 0, 0)
