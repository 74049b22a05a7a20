"""Hybrid retrieval: Chroma dense search and BM25, fused by reciprocal rank fusion.

Every returned hit carries its cosine similarity to the query (`Hit.score`), also the ones
found by BM25 alone, so the generator and the UI see one comparable relevance number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from index.lexical import LexicalIndex
from index.store import ChunkStore
from index.types import EVERYTHING, Hit, Scope, indexed_text

__all__ = ["HybridRetriever", "reciprocal_rank_fusion"]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int) -> dict[str, float]:
    """Σ 1/(k + rank) over the rankings an id appears in (rank 1-based)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


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

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        scope: Scope = EVERYTHING,
        candidates: int | None = None,
    ) -> list[Hit]:
        """The `k` best chunks (default `top_k`) within `scope`, from `candidates` per
        retriever."""
        k = k or self.top_k
        candidates = candidates or self.candidates
        vector = self.embeddings.embed_query(query)
        dense = self.store.search(vector, candidates, scope)
        lexical = self.lexical.search(query, candidates, scope)
        dense_ids = [h.chunk.id for h in dense]
        lexical_ids = [chunk_id for chunk_id, _ in lexical]
        fused = reciprocal_rank_fusion([dense_ids, lexical_ids], self.rrf_k)
        best = sorted(fused, key=lambda i: fused[i], reverse=True)[:k]

        known = {h.chunk.id: h for h in dense}
        missing = [i for i in best if i not in known]
        query_vector = np.asarray(vector)
        found = self.store.get_with_vectors(missing)
        unvectored = [chunk for chunk, stored in found if stored is None]
        embedded = self.embeddings.embed_documents([indexed_text(c) for c in unvectored])
        vectors = {c.id: np.asarray(v) for c, v in zip(unvectored, embedded, strict=True)}
        for chunk, stored in found:
            own = stored if stored is not None else vectors[chunk.id]
            known[chunk.id] = Hit(chunk=chunk, score=float(own @ query_vector))
        lexical_rank = {chunk_id: rank for rank, chunk_id in enumerate(lexical_ids, start=1)}
        # Both retrievers apply the scope; checking again here means a hit from a stale or
        # racing index can never reach a caller who may not read it.
        return [
            known[i].model_copy(update={"fused": fused[i], "lexical_rank": lexical_rank.get(i)})
            for i in best
            if i in known and scope.allows(known[i].chunk)
        ]
