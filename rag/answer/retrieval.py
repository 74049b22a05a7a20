"""Hybrid retrieval: Chroma dense search and BM25, fused by reciprocal rank fusion.

Every returned hit carries its cosine similarity to the query (`Hit.score`), also the ones
found by BM25 alone, so the generator and the UI see one comparable relevance number.

A question that names two or more documents ("compare the travel policy and the leave
policy", see `named_documents.py`) gets the best passage of each of them: a named document
missing from the top k replaces the lowest-ranked passage that is not the only one of another
named document; the order stays by fused score.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from langchain_core.embeddings import Embeddings

from index.lexical import LexicalIndex
from index.store import ChunkStore
from index.types import EVERYTHING, Chunk, Hit, Scope, indexed_text
from rag.answer.named_documents import NamedDocuments

__all__ = ["HybridRetriever", "Ranking", "reciprocal_rank_fusion"]

log = logging.getLogger(__name__)

PER_DOCUMENT = 16  # candidates per retriever when looking for a named document's best passage


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int) -> dict[str, float]:
    """Σ 1/(k + rank) over the rankings an id appears in (rank 1-based)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


class Ranking(NamedTuple):
    vector: list[float]  # the query's
    fused: list[tuple[str, float]]  # (chunk id, fused score), best first
    dense: list[tuple[str, float]]  # (chunk id, cosine) from Chroma, best first
    lexical: list[str]  # chunk ids from BM25, best first


class HybridRetriever:
    def __init__(
        self,
        store: ChunkStore,
        lexical: LexicalIndex,
        embeddings: Embeddings,
        top_k: int,
        candidates: int,
        rrf_k: int,
        names: NamedDocuments | None = None,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.embeddings = embeddings
        self.top_k = top_k
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.names = names

    def _fuse(
        self, query: str, scope: Scope, candidates: int, vector: list[float] | None = None
    ) -> Ranking:
        """Every fused candidate within `scope`, best first."""
        vector = vector if vector is not None else self.embeddings.embed_query(query)
        dense = self.store.nearest(vector, candidates, scope)
        lexical = [chunk_id for chunk_id, _ in self.lexical.search(query, candidates, scope)]
        fused = reciprocal_rank_fusion([[chunk_id for chunk_id, _ in dense], lexical], self.rrf_k)
        ordered = sorted(fused.items(), key=lambda item: item[1], reverse=True)
        return Ranking(vector, ordered, dense, lexical)

    def rank(
        self, query: str, k: int, scope: Scope = EVERYTHING, candidates: int | None = None
    ) -> Ranking:
        """The fused ranking of the `k` best chunk ids within `scope`; reads no passage text."""
        ranking = self._fuse(query, scope, candidates or self.candidates)
        return ranking._replace(fused=ranking.fused[:k])

    def _cover_named(
        self,
        query: str,
        ranking: Ranking,
        k: int,
        scope: Scope,
        found: list[tuple[Chunk, np.ndarray | None]],
    ) -> tuple[list[tuple[Chunk, np.ndarray | None]], list[str]]:
        """`found` (the chunks of the best k, in order) less as many from its end as there are
        chunk ids to add so that each document `query` names has a passage among the `k`; and
        those ids."""
        named = self.names.named(query) if self.names is not None else []
        if len(named) < 2:
            return found, []
        found = list(found)
        present = Counter(chunk.document_id for chunk, _ in found)
        added = []
        for document in named[:k]:
            if present[document]:
                continue
            only = frozenset({document})
            narrowed = Scope(
                only if scope.documents is None else only & scope.documents, scope.collections
            )
            if narrowed.empty:
                continue
            best = self._fuse(query, narrowed, PER_DOCUMENT, ranking.vector).fused
            if best:
                added.append(best[0][0])
        # The lowest-ranked passages make room, unless one is its named document's only one.
        for at in range(len(found) - 1, -1, -1):
            if len(found) + len(added) <= k:
                break
            document = found[at][0].document_id
            if document not in named or present[document] > 1:
                present[document] -= 1
                del found[at]
        added = added[: max(k - len(found), 0)]
        if added:
            log.info("the question names %d documents: %d passages added", len(named), len(added))
        fused = dict(ranking.fused)
        return found, sorted(added, key=lambda chunk_id: fused.get(chunk_id, 0.0), reverse=True)

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        scope: Scope = EVERYTHING,
        candidates: int | None = None,
    ) -> list[Hit]:
        """The `k` best chunks (default `top_k`) within `scope`, from `candidates` per
        retriever; with the best passage of each document the query names."""
        k = k or self.top_k
        ranking = self._fuse(query, scope, candidates or self.candidates)
        # Texts are read for the chosen few only; a chunk BM25 alone found gets its cosine
        # from its stored vector (or, where this process's index lags, from its text).
        found = self.store.get_with_vectors([chunk_id for chunk_id, _ in ranking.fused[:k]])
        found, added = self._cover_named(query, ranking, k, scope, found)
        found += self.store.get_with_vectors(added)
        best = [chunk.id for chunk, _ in found]
        query_vector = np.asarray(ranking.vector)
        cosine = dict(ranking.dense)
        unvectored = [c for c, stored in found if stored is None and c.id not in cosine]
        embedded = self.embeddings.embed_documents([indexed_text(c) for c in unvectored])
        for chunk, vector in zip(unvectored, embedded, strict=True):
            cosine[chunk.id] = float(np.asarray(vector) @ query_vector)
        for chunk, stored in found:
            if stored is not None and chunk.id not in cosine:
                cosine[chunk.id] = float(stored @ query_vector)
        chunks = {chunk.id: chunk for chunk, _ in found}
        fused = {i: score for i, score in ranking.fused if i in chunks}
        dense_rank = {chunk_id: rank for rank, (chunk_id, _) in enumerate(ranking.dense, 1)}
        lexical_rank = {chunk_id: rank for rank, chunk_id in enumerate(ranking.lexical, 1)}
        # Both retrievers apply the scope; checking again here means a hit from a stale or
        # racing index can never reach a caller who may not read it.
        return [
            Hit(
                chunk=chunks[i],
                score=cosine[i],
                fused=fused.get(i, 0.0),
                dense_rank=dense_rank.get(i),
                lexical_rank=lexical_rank.get(i),
            )
            for i in best
            if i in chunks and scope.allows(chunks[i])
        ]
