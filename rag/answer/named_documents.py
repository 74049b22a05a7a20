"""The documents a question names: "compare the travel policy and the leave policy" names two.

A document is named by a phrase of its title or file name: two or more content words in a row
(lower case, stopwords dropped, Snowball stems, as BM25 reads them) that the question holds in
the same order and that no other document has ("travel policy" names travel-policy.pdf;
"Northwind Labs" names nothing when every title starts with it). A single word names the one
document that has it only in a comparison ("compare", "versus", "difference", ...). With "both",
"all", "each" or "every", a phrase shared by a few documents names each of them.

The word → document map lives in memory and follows the manifest's change log, as the lexical
index does: a question costs one read of the log's head, plus the changes since the last one.
Both stay bounded for a large index: a document keeps one short string of its title and name
words, only words of at most `_COMMON` titles keep the list of their documents, and a phrase is
checked only against the documents of its rarer words (100,000 generated titles: about 55 MB,
read in 4-9 s by the first question on a 2-core machine, then about a millisecond a question).
"""

from __future__ import annotations

import re
import sys
import threading
from pathlib import PurePosixPath

import Stemmer
from sqlalchemy import select

from index.manifest import DocumentRow, Manifest
from index.stopwords import STOPWORDS_EN
from index.types import document_id
from rag.errors import InputError

__all__ = ["NamedDocuments", "resolve_documents"]

_WORD = re.compile(r"\w\w+")
_STOPWORDS = STOPWORDS_EN
_STEMMER = Stemmer.Stemmer("english")
_COMPARING = frozenset(
    {"compare", "compared", "compares", "comparing", "comparison", "contrast", "versus", "vs"}
    | {"difference", "differences", "differ", "differs", "different"}
)
_EACH = frozenset({"both", "all", "each", "every"})
_SHARED = 4  # "all the release notes": at most this many documents share a naming phrase
_COMMON = 1000  # a word of more titles than this narrows nothing: its documents are not kept
_QUESTION_WORDS = 64  # content words of a question that are matched
_TITLE_WORDS = 40
_REBUILD_AFTER = 2000  # changes behind: reading every document is faster than one by one


def _words(text: str) -> list[str]:
    """Content words in order: lower case, no stopwords, stemmed."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return [sys.intern(w) for w in _STEMMER.stemWords(words)]


def _key(name: str, title: str) -> str:
    """The words a document can be named by, as ' title words | name words ': a phrase is
    found by a substring search, and never across the '|'."""
    stem = PurePosixPath(name.replace("\\", "/")).stem.replace("_", " ")
    parts = [" ".join(_words(text)[:_TITLE_WORDS]) for text in (title, stem)]
    return f" {' | '.join(dict.fromkeys(part for part in parts if part))} "


class NamedDocuments:
    """Which indexed documents a question names, by title or file name."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self._keys: dict[str, str] = {}  # document id → its words (see `_key`)
        self._postings: dict[str, list[str]] = {}  # a word of few titles → those documents
        self._common: set[str] = set()  # words of too many titles (until the next rebuild)
        self._watermark = -1  # the last change applied; -1 before the first read
        self._lock = threading.Lock()

    def named(self, question: str) -> list[str]:
        """Ids of the documents `question` names, in the order it names them."""
        raw = set(_WORD.findall(question.lower()))
        comparing, each = bool(raw & _COMPARING), bool(raw & _EACH)
        words = _words(question)[:_QUESTION_WORDS]
        self.refresh()
        found: dict[str, None] = {}
        covered: set[int] = set()
        with self._lock:
            for start in range(len(words) - 1):
                documents, length = self._longest(words, start)
                if len(documents) == 1 or (each and 1 < len(documents) <= _SHARED):
                    found.update(dict.fromkeys(sorted(documents)))
                    covered.update(range(start, start + length))
            if comparing:  # not on 'each' alone: 'each year' compares nothing
                for at, word in enumerate(words):
                    alone = self._postings.get(word, [])
                    if at not in covered and len(alone) == 1:
                        found.update(dict.fromkeys(alone))
        return list(found)

    def _longest(self, words: list[str], start: int) -> tuple[set[str], int]:
        """The documents holding the longest phrase of two or more words from `start`."""
        first = words[start : start + 2]
        if all(word in self._common for word in first):
            return set(), 0
        postings = [self._postings.get(w, []) for w in first if w not in self._common]
        postings.sort(key=len)
        documents = set(postings[0]).intersection(*postings[1:])
        length = 2
        while documents and start + length <= len(words):
            phrase = f" {' '.join(words[start : start + length])} "
            holding = {d for d in documents if phrase in self._keys[d]}
            if not holding:
                break
            documents, length = holding, length + 1
        return (documents, length - 1) if length > 2 else (set(), 0)

    # --- following the manifest -----------------------------------------------------------

    def refresh(self) -> None:
        """Apply the manifest's changes since the last call (everything on the first)."""
        with self._lock:
            latest = self.manifest.latest_change()
            if latest <= self._watermark:
                return
            if self._watermark < 0 or latest - self._watermark > _REBUILD_AFTER:
                self._rebuild()
                self._watermark = latest
                return
            while batch := self.manifest.changes_since(self._watermark):
                documents = list(dict.fromkeys(document for _, document in batch))
                records = self.manifest.get_many(documents)
                for document in documents:
                    changed = records.get(document)
                    if changed is None:
                        self._set(document, None)
                    elif changed.status == "indexed":  # others: their own change comes later
                        self._set(document, _key(changed.name, changed.title))
                self._watermark = batch[-1][0]

    def _rebuild(self) -> None:
        """Every document with chunks, from one read of the manifest's names and titles."""
        self._keys, self._postings, self._common = {}, {}, set()
        query = select(DocumentRow.id, DocumentRow.name, DocumentRow.title).where(
            (DocumentRow.status == "indexed") | DocumentRow.file_hash.is_not(None)
        )
        with self.manifest.database.read() as session:
            rows = session.execute(query).all()
        for document, name, title in rows:
            self._set(document, _key(name, title))

    def _set(self, document: str, key: str | None) -> None:
        """Forget what `document` was named by; then, with a `key`, index its words."""
        old = self._keys.pop(document, None)
        for word in set(old.split()) if old else ():
            postings = self._postings.get(word)
            if postings is not None and document in postings:
                postings.remove(document)
                if not postings:
                    del self._postings[word]
        if not key or key.isspace():
            return
        self._keys[document] = key
        for word in set(key.split()) - {"|"} - self._common:
            postings = self._postings.setdefault(word, [])
            postings.append(document)
            if len(postings) > _COMMON:
                self._common.add(word)
                del self._postings[word]


def resolve_documents(manifest: Manifest, given: list[str]) -> list[str]:
    """The ids of the documents `given` names: each a name as the Library shows it (any case;
    a bare file name matches that file in any folder) or a path as it was ingested. A name
    that matches nothing, or several documents, is an error naming the candidates."""
    import difflib
    from pathlib import Path

    from index.paths import source_key  # how the write path keys a path as given

    ids = []
    for value in given:
        by_path = document_id(source_key(Path(value)))
        if manifest.get(by_path) is not None:
            ids.append(by_path)
            continue
        found = manifest.named(value)
        if len(found) == 1:
            ids.append(found[0].id)
            continue
        if found:
            names = ", ".join(record.name for record in found[:10])
            raise InputError(f"'{value}' names several documents: {names}; give the full name")
        close = difflib.get_close_matches(value, manifest.names(), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else " (`app.py ingest` adds it)"
        raise InputError(f"no document named '{value}'{hint}")
    return ids
