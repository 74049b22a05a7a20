"""`app.py ingest --watch FOLDER`: keep the index in step with a folder (a network share) until
stopped. New and changed files are indexed and deleted ones removed, through the same job queue
and incremental write path as uploads: each batch of changes is one `ingest` job whose payload
names the files to read and the documents to remove.

Once watching, the whole folder is submitted (unchanged files write nothing), with the documents
of files deleted while nobody watched. Then file-system events (watchfiles; `poll` for shares
whose server sends none) are gathered for `debounce_ms` and submitted together. Workers read
the files at the paths given: on several machines, mount the share at the same path on each.

Files are listed and read by `index/paths.py`'s rule: a job names the folder they were listed
under, and the worker reads each only if it is still a regular file inside it, opened without
following links. Links leading out of the folder are skipped (the job's result lists them),
and a document read through such a link is removed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from index.manifest import Manifest
from index.paths import is_gone, list_folder
from rag.jobs.queue import Job, JobQueue

__all__ = ["FolderWatch"]

log = logging.getLogger(__name__)


class FolderWatch:
    def __init__(self, folder: Path, collection: str, queue: JobQueue, manifest: Manifest) -> None:
        self.folder = folder.resolve()
        self.collection = collection
        self.queue = queue
        self.manifest = manifest

    def _gone(self, links: Iterable[str]) -> dict[str, str]:
        """Indexed documents (source key: name) under the folder that are gone (`is_gone`:
        deleted, or now reached through a link), and those of this collection that were read
        through one of these `links` (named by it, before links were checked)."""
        folder = str(self.folder)
        gone: dict[str, str] = {}
        for source in self.manifest.sources_under(folder):
            if is_gone(source, name := Path(source).relative_to(folder).as_posix()):
                gone[source] = name
        for link in links:
            for document in self.manifest.named(link):
                ours = document.name == link and document.collection == self.collection
                if ours and is_gone(document.source, document.name):
                    gone[document.source] = document.name
        return gone

    def submit(self, paths: Iterable[Path]) -> Job | None:
        """One job for these files (those still there, supported and inside the folder) and
        for every document of the folder that is gone; None when there is nothing to do."""
        listing = list_folder(self.folder, paths)
        gone = self._gone(name for name, _ in listing.skipped)
        if not listing.files and not gone and not listing.skipped:
            return None
        payload = {
            "collection": self.collection,
            "root": str(self.folder),
            "sources": [f.source for f in listing.files],
            "names": [f.name for f in listing.files],
            "removed": list(gone),
            "skipped": [list(entry) for entry in listing.skipped],
        }
        items = [f.name for f in listing.files] + list(gone.values())
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
