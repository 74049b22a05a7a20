"""Hybrid retrieval: Chroma dense search and BM25, fused by reciprocal rank fusion.

Every returned hit carries its cosine similarity to the query (`Hit.score`), also the ones
found by BM25 alone, so the generator and the UI see one comparable relevance number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from langchain_core.embeddings import Embeddings

from index.lexical import LexicalIndex
from index.store import ChunkStore
from index.types import EVERYTHING, Hit, Scope, indexed_text

__all__ = ["HybridRetriever", "Ranking", "reciprocal_rank_fusion"]


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
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.embeddings = embeddings
        self.top_k = top_k
        self.candidates = candidates
        self.rrf_k = rrf_k

    def rank(
        self, query: str, k: int, scope: Scope = EVERYTHING, candidates: int | None = None
    ) -> Ranking:
        """The fused ranking of the `k` best chunk ids within `scope`; reads no passage text."""
        candidates = candidates or self.candidates
        vector = self.embeddings.embed_query(query)
        dense = self.store.nearest(vector, candidates, scope)
        lexical = [chunk_id for chunk_id, _ in self.lexical.search(query, candidates, scope)]
        fused = reciprocal_rank_fusion([[chunk_id for chunk_id, _ in dense], lexical], self.rrf_k)
        best = sorted(fused.items(), key=lambda item: item[1], reverse=True)[:k]
        return Ranking(vector, best, dense, lexical)

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        scope: Scope = EVERYTHING,
        candidates: int | None = None,
    ) -> list[Hit]:
        """The `k` best chunks (default `top_k`) within `scope`, from `candidates` per
        retriever."""
        ranking = self.rank(query, k or self.top_k, scope, candidates)
        best = [chunk_id for chunk_id, _ in ranking.fused]
        # Texts are read for the chosen few only; a chunk BM25 alone found gets its cosine
        # from its stored vector (or, where this process's index lags, from its text).
        query_vector = np.asarray(ranking.vector)
        cosine = dict(ranking.dense)
        found = self.store.get_with_vectors(best)
        unvectored = [c for c, stored in found if stored is None and c.id not in cosine]
        embedded = self.embeddings.embed_documents([indexed_text(c) for c in unvectored])
        for chunk, vector in zip(unvectored, embedded, strict=True):
            cosine[chunk.id] = float(np.asarray(vector) @ query_vector)
        for chunk, stored in found:
            if stored is not None and chunk.id not in cosine:
                cosine[chunk.id] = float(stored @ query_vector)
        chunks = {chunk.id: chunk for chunk, _ in found}
        fused = dict(ranking.fused)
        dense_rank = {chunk_id: rank for rank, (chunk_id, _) in enumerate(ranking.dense, 1)}
        lexical_rank = {chunk_id: rank for rank, chunk_id in enumerate(ranking.lexical, 1)}
        # Both retrievers apply the scope; checking again here means a hit from a stale or
        # racing index can never reach a caller who may not read it.
        return [
            Hit(
                chunk=chunks[i],
                score=cosine[i],
                fused=fused[i],
                dense_rank=dense_rank.get(i),
                lexical_rank=lexical_rank.get(i),
            )
            for i in best
            if i in chunks and scope.allows(chunks[i])
        ]
