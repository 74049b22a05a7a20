"""Questions to offer in an empty chat: drawn from the headings of the documents a caller may
read ("What does the Leave Policy say about carrying over unused leave?") and kept only when
Docent answers them, so a first click never meets "not in the documents". Chosen once per set
of collections and kept for `ttl` seconds; at most `tried` questions are answered to choose."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence

from index.manifest import Manifest
from index.sentences import passage_units
from index.store import ChunkStore
from index.types import Scope
from rag.answer.pipeline import Assistant

__all__ = ["Suggestions", "heading_question"]

_NUMBERING = re.compile(r"^[#\s]*(?:\d+(?:\.\d+)*[.)]?\s+)?")
_DOCUMENTS = 30  # looked at for headings
_CHUNKS = 4  # of each document, from its start


def heading_question(title: str, heading: str) -> str | None:
    """The question a heading suggests about its document; None for a heading that is not a
    topic (too short, too long, or a question already)."""
    topic = _NUMBERING.sub("", heading).strip(" :*#").strip()
    words = topic.split()
    if not 2 <= len(words) <= 8 or topic.endswith("?") or topic.lower() == title.lower():
        return None
    lowered = topic if topic.isupper() else topic[0].lower() + topic[1:]
    return f"What does the {title} say about {lowered}?"


def _is_heading(reading: str) -> bool:
    text = reading.strip()
    return text.startswith("#") or (
        text[-1:] not in ".!?:;,)" and 2 <= len(text.split()) < 9 and "|" not in text
    )


class Suggestions:
    def __init__(
        self,
        manifest: Manifest,
        store: ChunkStore,
        assistant: Assistant,
        count: int = 3,
        tried: int = 10,
        ttl: float = 600.0,
    ) -> None:
        self.manifest = manifest
        self.store = store
        self.assistant = assistant
        self.count = count
        self.tried = tried
        self.ttl = ttl
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, ...] | None, tuple[float, list[str]]] = {}

    def candidates(self, collections: Sequence[str] | None) -> list[str]:
        """One heading question a document, round the documents, then the next ones."""
        documents = self.manifest.documents(collections, limit=_DOCUMENTS)
        per_document: list[list[str]] = []
        for document in documents:
            chunks = sorted(self.store.chunks_of_documents([document.id]), key=lambda c: c.start)
            questions = []
            for chunk in chunks[:_CHUNKS]:
                for unit in passage_units(chunk.text):
                    if _is_heading(unit.reading):
                        asked = heading_question(document.title, unit.reading)
                        if asked and asked not in questions:
                            questions.append(asked)
            per_document.append(questions)
        ordered = []
        for depth in range(max((len(q) for q in per_document), default=0)):
            ordered += [questions[depth] for questions in per_document if depth < len(questions)]
        return ordered

    def for_collections(self, collections: Sequence[str] | None) -> list[str]:
        """Up to `count` questions Docent answers from `collections` (None: all)."""
        key = tuple(sorted(collections)) if collections is not None else None
        with self._lock:  # one caller chooses; the others wait for its choice
            kept = self._kept.get(key)
            if kept is not None and time.monotonic() - kept[0] < self.ttl:
                return kept[1]
            chosen: list[str] = []
            scope = Scope.of(collections=collections)
            for question in self.candidates(collections)[: self.tried]:
                answer = self.assistant.answer(question, scope=scope)
                if not answer.abstained and answer.citations:
                    chosen.append(question)
                if len(chosen) == self.count:
                    break
            self._kept[key] = (time.monotonic(), chosen)
            return chosen
