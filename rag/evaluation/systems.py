"""The retrieval systems compared by `eval`, each over its own throw-away index of the corpus.

- `bm25`, `dense` and `hybrid` share one Docent index (Chroma + BM25, Docent's chunker);
  `hybrid` is Docent's own retriever, the other two are its halves alone.
- `langchain` is the plain baseline from the tutorials: RecursiveCharacterTextSplitter
  1000/200, the same encoder as Docent and `Chroma.similarity_search`.

Every system ranks chunks; a document scores as its best chunk.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.embeddings import Encoder
from index.ingest import IngestReport, Progress
from index.loaders import LoadedDocument
from index.store import ChunkStore
from rag.errors import IndexMismatchError
from rag.evaluation import SYSTEMS
from rag.evaluation.datasets import Record
from rag.reader.model import Reader
from rag.runtime import Runtime, build_runtime
from rag.settings import Settings

__all__ = [
    "CHUNK_DEPTH",
    "SYSTEMS",
    "LangChainBaseline",
    "Ranker",
    "best_per_document",
    "docent_rankers",
    "eval_runtime",
    "index_records",
]

CHUNK_DEPTH = 300  # chunks taken from each system per query: enough for 100 documents

Ranker = Callable[[str], list[tuple[str, float]]]  # query → (document id, score), best first


def _collection_name(dataset: str, records: Sequence[Record], prefix: str, salt: str = "") -> str:
    """One collection per corpus: its name carries a fingerprint of the documents (and `salt`)."""
    digest = hashlib.sha256(salt.encode())
    for r in records:
        digest.update(f"\x00{r.id}\x00{r.title}\x00{r.text}".encode())
    fingerprint = digest.hexdigest()[:10]
    slug = re.sub(r"[^a-z0-9]+", "-", dataset.lower()).strip("-")[:40]
    return f"{prefix}-{slug}-{fingerprint}"


def best_per_document(
    chunks: Iterable[tuple[str, float]], depth: int = 100
) -> list[tuple[str, float]]:
    """(document, score) best first, each document at the score of its best chunk."""
    best: dict[str, float] = {}
    for document, score in chunks:
        if document not in best or score > best[document]:
            best[document] = score
    return sorted(best.items(), key=lambda item: item[1], reverse=True)[:depth]


def eval_runtime(
    settings: Settings,
    embeddings: Encoder,
    dataset: str,
    records: Sequence[Record],
    answers: bool = True,
    reader: Reader | None = None,
) -> Runtime:
    """A Docent runtime over a collection of its own under `<data_dir>/eval`; reused when the
    corpus and settings match, rebuilt when the settings changed. Without `answers` it never
    loads a language model."""
    eval_settings = settings.model_copy(
        update={
            "data_dir": settings.data_dir / "eval",
            # One collection per corpus and encoder: builds never overwrite each other.
            "collection": _collection_name(
                dataset, records, "docent", salt=settings.embedding_model
            ),
            "generator": settings.generator if answers else "extractive",
            "chroma_url": None,  # throw-away indexes stay on local disk
            "database_url": None,
        }
    )
    try:
        return build_runtime(eval_settings, embeddings, reader=reader)
    except IndexMismatchError:  # other chunker settings: start this corpus's index afresh
        ChunkStore.drop(eval_settings.chroma_dir, eval_settings.collection)
        shutil.rmtree(eval_settings.lexical_dir, ignore_errors=True)
        database = eval_settings.data_dir / f"{eval_settings.collection}.db"
        for path in database.parent.glob(f"{database.name}*"):
            path.unlink()
        return build_runtime(eval_settings, embeddings, reader=reader)


def index_records(
    runtime: Runtime, records: Sequence[Record], progress: Progress | None = None
) -> IngestReport:
    documents = ((r.id, LoadedDocument(Path(r.id), r.title, r.text)) for r in records)
    return runtime.ingestor.ingest_documents(documents, len(records), progress)


def docent_rankers(runtime: Runtime, depth: int = CHUNK_DEPTH) -> dict[str, Ranker]:
    """BM25 alone, dense alone, and Docent's hybrid retriever, over `runtime`'s index."""
    source_of = {chunk.id: chunk.source for chunk in runtime.store.iter_chunks()}
    retriever = runtime.assistant.retriever

    def bm25(query: str) -> list[tuple[str, float]]:
        return best_per_document((source_of[i], s) for i, s in runtime.lexical.search(query, depth))

    def dense(query: str) -> list[tuple[str, float]]:
        nearest = runtime.store.nearest(runtime.embeddings.embed_query(query), depth)
        return best_per_document((source_of[i], score) for i, score in nearest)

    def hybrid(query: str) -> list[tuple[str, float]]:
        fused = retriever.rank(query, k=depth, candidates=depth).fused
        return best_per_document((source_of[i], score) for i, score in fused)

    return {"bm25": bm25, "dense": dense, "hybrid": hybrid}


class LangChainBaseline:
    """The plain LangChain pipeline, persisted under `<data_dir>/eval/langchain`."""

    def __init__(
        self, settings: Settings, embeddings: Encoder, dataset: str, records: Sequence[Record]
    ) -> None:
        self.records = records
        self.splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        self.db = Chroma(
            # The baseline has no signature check: the model name is part of the fingerprint.
            collection_name=_collection_name(
                dataset, records, "langchain", salt=settings.embedding_model
            ),
            embedding_function=embeddings,
            persist_directory=str(settings.data_dir / "eval" / "langchain"),
        )

    def documents(self) -> list[Document]:
        return self.splitter.create_documents(
            [f"{r.title}\n\n{r.text}".strip() for r in self.records],
            metadatas=[{"doc_id": r.id} for r in self.records],
        )

    def index(self, progress: Callable[[int, int], None] | None = None, batch: int = 256) -> int:
        """Embed and store every chunk unless the collection already holds them all."""
        documents = self.documents()
        if self.db._collection.count() == len(documents):
            return 0
        self.db.reset_collection()
        for at in range(0, len(documents), batch):
            self.db.add_documents(documents[at : at + batch])
            if progress:
                progress(min(at + batch, len(documents)), len(documents))
        return len(documents)

    def rank(self, query: str, depth: int = CHUNK_DEPTH) -> list[tuple[str, float]]:
        found = self.db.similarity_search_with_score(query, k=depth)
        return best_per_document((str(d.metadata["doc_id"]), -distance) for d, distance in found)
