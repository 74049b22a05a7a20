"""A model switch without downtime (`app.py reindex --model MODEL`): a second Chroma collection
is built beside the live one, embedded by the new encoder, while every node keeps answering
from the old; when it has caught up with the manifest's change log, one transaction makes it
live (`index.live_index`) and every node follows within a second (`Runtime.follow_live_index`).

It runs as a job (`SWITCH_JOB`) so that it runs where the store may be written (inside `serve`
for an embedded store) and survives a kill: the job goes back to the queue and the next run
resumes, copying only the documents the new collection does not hold in full, then replaying
the changes since the build began. Chunks are copied from the live collection (their text,
ids and metadata) and embedded again; no document is read again.

The old collection is kept (`kept`) so a switch can be rolled back (`--rollback`: the same
catch-up, the other way) until `--drop-old` deletes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from index.embeddings import Encoder, load_embeddings, resolve_model
from index.live_index import BUILDING, KEPT, LIVE, IndexCollections, IndexEntry, collection_name
from index.manifest import DocumentRecord
from index.store import ChunkStore
from index.units import UnitVectors, encode_chunks
from rag.errors import InputError
from rag.jobs.queue import Job
from rag.runtime import Runtime, index_parts

__all__ = [
    "SWITCH_JOB",
    "SwitchProgress",
    "drop_kept",
    "model_label",
    "run_switch",
    "submit_switch",
]

log = logging.getLogger(__name__)

SWITCH_JOB = "switch-index"
_BATCH_CHUNKS = 256  # chunks embedded together
ProgressSink = Callable[[int, int, str], None]  # done, total, what it is doing


@dataclass
class SwitchProgress:
    """Chunks copied of all, at what rate, and the time left."""

    total: int
    done: int = 0
    started_at: float = 0.0
    copied: int = 0  # by this run (the rate ignores what an earlier run copied)

    def describe(self, stage: str) -> str:
        elapsed = time.monotonic() - self.started_at
        rate = self.copied / elapsed if elapsed > 0 and self.copied else 0.0
        left = f", {(self.total - self.done) / rate:.0f} s left" if rate else ""
        return f"{stage}: {self.done:,} / {self.total:,} chunks, {rate:.0f} chunks/s{left}"


def model_label(model: str) -> str:
    """What a job shows of a model: its name, or a folder's last part (no server path)."""
    return model.rstrip("/").rsplit("/", 1)[-1]


def submit_switch(
    runtime: Runtime, model: str | None, rollback: bool = False, drop_old: bool = False
) -> Job:
    """Queue the switch to `model` (or back to the last kept collection, or only dropping the
    kept ones); the switch already queued or running if there is one."""
    jobs = runtime.stores.jobs
    for job in jobs.active():
        if job.kind == SWITCH_JOB:
            return job
    if rollback:
        kept = [e for e in IndexCollections(runtime.database).entries() if e.state == KEPT]
        if not kept:
            raise InputError("there is nothing to roll back to: no switch left a collection")
        model = kept[0].embedding_model
    if model is not None:
        resolve_model(model, runtime.settings.model_cache)  # a bad name fails now, in one line
        if model == runtime.live.embedding_model:
            raise InputError(f"{model_label(model)} is already the live model")
    elif not drop_old:
        raise InputError("name a model to switch to, --rollback or --drop-old")
    label = model_label(model) if model else "drop the kept collections"
    payload = {"model": model, "drop_old": drop_old}
    return jobs.submit(SWITCH_JOB, payload, items=[label], owner="reindex")


def run_switch(runtime: Runtime, payload: dict[str, Any], sink: ProgressSink) -> dict[str, Any]:
    """The job: switch to `payload["model"]` (if any), then drop the kept collections if
    `payload["drop_old"]`; what the job shows as its result."""
    runtime.follow_live_index()  # this node may not have seen the last switch yet
    result: dict[str, Any] = {}
    model = payload.get("model")
    if isinstance(model, str) and model != runtime.live.embedding_model:
        result = _Switch(runtime, model, sink).run()
    elif isinstance(model, str):  # a run that was killed after the switch, or a repeat
        result = {
            "summary": f"{model_label(model)} is the live model.",
            "collection": runtime.live.name,
        }
    if payload.get("drop_old"):
        dropped = drop_kept(runtime)
        result["dropped"] = dropped
        result.setdefault("summary", "")
        result["summary"] += f" Dropped {len(dropped)} kept collection(s)."
    result["summary"] = result.get("summary", "").strip() or "Nothing to do."
    return result


def drop_kept(runtime: Runtime) -> list[str]:
    """Delete the collections switches left behind (and their unit vectors)."""
    collections = IndexCollections(runtime.database)
    settings = runtime.settings
    dropped = []
    for entry in collections.entries():
        if entry.state == LIVE or entry.name == runtime.live.name:
            continue
        ChunkStore.drop(settings.chroma_dir, entry.name, settings.chroma_url)
        UnitVectors.drop(runtime.database, "" if entry.name == settings.collection else entry.name)
        collections.forget(entry.name)
        dropped.append(entry.name)
        log.info("dropped the kept collection %s", entry.name)
    return dropped


class _Switch:
    def __init__(self, runtime: Runtime, model: str, sink: ProgressSink) -> None:
        self.runtime = runtime
        self.model = model
        self.sink = sink
        self.collections = IndexCollections(runtime.database)
        self.manifest = runtime.manifest
        self.source = runtime.store

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        current = self.runtime.live
        self.collections.record(
            IndexEntry(current.name, current.embedding_model, self.runtime.embeddings.dimension)
        )
        encoder = load_embeddings(
            self.model, self.runtime.settings.model_cache, self.runtime.settings.embed_batch_size
        )
        target = self._target(encoder.dimension)
        store, units = index_parts(self.runtime.settings, self.runtime.database, target, encoder)
        progress = SwitchProgress(self.manifest.chunk_count(), started_at=time.monotonic())
        if target.state == BUILDING:
            self._fill(store, units, encoder, progress)
        seq = target.change_seq
        while True:
            seq = self._catch_up(store, units, encoder, seq, progress)
            self.collections.caught_up(target.name, seq)
            if self.collections.switch(target.name, seq):
                break
        self.runtime.follow_live_index()
        seconds = time.monotonic() - started
        chunks = store.count()
        log.info("switched to %s: %d chunks in %.1f s", target.name, chunks, seconds)
        return {
            "summary": f"Switched to {model_label(self.model)}: {chunks:,} chunks in "
            f"{seconds:.0f} s; the old collection is kept (--rollback, --drop-old).",
            "collection": target.name,
            "chunks": chunks,
            "seconds": round(seconds, 1),
        }

    def _target(self, dimension: int) -> IndexEntry:
        """The collection to build or resume, or a kept one to catch up (a rollback)."""
        known = [e for e in self.collections.entries() if e.embedding_model == self.model]
        if known:
            return known[0]
        name = collection_name(self.runtime.settings.collection, self.model)
        entry = IndexEntry(name, self.model, dimension, BUILDING, self.manifest.latest_change())
        self.collections.record(entry)
        return entry

    def _fill(
        self, store: ChunkStore, units: UnitVectors, encoder: Encoder, progress: SwitchProgress
    ) -> None:
        """Copy every indexed document the new collection does not hold in full."""
        held = store.chunk_counts()
        batch: list[DocumentRecord] = []
        size = 0
        for record in self.manifest.all_documents():
            if record.status != "indexed":
                continue  # being written: its change comes when it is done
            if held.get(record.id) == record.chunks:
                progress.done += record.chunks
                continue
            batch.append(record)
            size += record.chunks
            if size >= _BATCH_CHUNKS:
                self._copy(store, units, encoder, batch, held, progress, "building")
                batch, size = [], 0
        self._copy(store, units, encoder, batch, held, progress, "building")

    def _catch_up(
        self,
        store: ChunkStore,
        units: UnitVectors,
        encoder: Encoder,
        seq: int,
        progress: SwitchProgress,
    ) -> int:
        """Replay the change log after `seq` into the new collection; the last change applied."""
        while changes := self.manifest.changes_since(seq, limit=_BATCH_CHUNKS):
            documents = list(dict.fromkeys(doc for _, doc in changes))
            records = self.manifest.get_many(documents)
            for document in documents:
                if document not in records:
                    store.delete_document(document)
                    units.delete_document(document)
            indexed = [r for r in records.values() if r.status == "indexed"]
            self._copy(store, units, encoder, indexed, None, progress, "catching up")
            seq = changes[-1][0]
        return seq

    def _copy(
        self,
        store: ChunkStore,
        units: UnitVectors,
        encoder: Encoder,
        records: Sequence[DocumentRecord],
        held: dict[str, int] | None,
        progress: SwitchProgress,
        stage: str,
    ) -> None:
        """Replace these documents' chunks in the new collection by the live one's, embedded
        by the new encoder (`held`: what the new collection holds, None: ask it)."""
        if not records:
            return
        stale = [r.id for r in records if held is None or held.get(r.id)]
        for document in stale:
            store.delete_document(document)
            units.delete_document(document)
        chunks = self.source.chunks_of_documents([r.id for r in records])
        hashes = {r.id: r.file_hash for r in records}
        if chunks:
            vectors, unit_vectors = encode_chunks(encoder, chunks)
            units.put(chunks, unit_vectors)
            store.add(chunks, vectors, [hashes[c.document_id] for c in chunks])
        progress.done = min(progress.done + len(chunks), max(progress.total, progress.done))
        progress.copied += len(chunks)
        self.sink(progress.done, progress.total, progress.describe(stage))
