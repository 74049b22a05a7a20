"""`app.py ingest --watch FOLDER`: keep the index in step with a folder (a network share) until
stopped. New and changed files are indexed and deleted ones removed, through the same job queue
and incremental write path as uploads: each batch of changes is one `ingest` job whose payload
names the files to read and the documents to remove.

Once watching, the whole folder is submitted (unchanged files write nothing), with the documents
of files deleted while nobody watched. Then file-system events (watchfiles; `poll` for shares
whose server sends none) are gathered for `debounce_ms` and submitted together. Workers read
the files at the paths given: on several machines, mount the share at the same path on each.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from index.ingest import expand_folder
from index.manifest import Manifest
from rag.jobs import Job, JobQueue

__all__ = ["FolderWatch"]

log = logging.getLogger(__name__)


class FolderWatch:
    def __init__(self, folder: Path, collection: str, queue: JobQueue, manifest: Manifest) -> None:
        self.folder = folder.resolve()
        self.collection = collection
        self.queue = queue
        self.manifest = manifest

    def _gone(self) -> list[str]:
        """Source keys of indexed documents under the folder whose file no longer exists."""
        return [s for s in self.manifest.sources_under(str(self.folder)) if not Path(s).exists()]

    def submit(self, paths: Iterable[Path]) -> Job | None:
        """One job for these files (those still there and supported) and for every document
        whose file under the folder is gone; None when there is nothing to do."""
        files = list(expand_folder(self.folder, paths))
        gone = self._gone()
        if not files and not gone:
            return None
        payload = {
            "collection": self.collection,
            "sources": [f.source for f in files],
            "names": [f.name for f in files],
            "removed": gone,
        }
        items = [f.name for f in files] + [
            Path(s).relative_to(self.folder).as_posix() for s in gone
        ]
        return self.queue.submit("ingest", payload, items=items, owner="watch")

    def run(
        self,
        stop: threading.Event,
        submitted: Callable[[Job], None],
        poll: bool = False,
        debounce_ms: int = 1600,
    ) -> None:
        """Watch, submit the whole folder once watching (what changes meanwhile comes in the
        next batch), then each batch of changes, until `stop` is set. A batch that fails is
        logged and the watch goes on."""
        watching = False
        for changes in watchfiles.watch(
            self.folder,
            stop_event=stop,
            debounce=debounce_ms,
            force_polling=poll,
            raise_interrupt=False,
            yield_on_timeout=True,  # the first, empty, batch says the watch is on
            rust_timeout=1000,
        ):
            if watching and not changes:
                continue
            paths = [Path(p) for change, p in changes if change != watchfiles.Change.deleted]
            try:
                if job := self.submit(paths if watching else [self.folder]):
                    submitted(job)
            except Exception:
                log.exception("watch: a batch of changes failed; going on")
            watching = True
