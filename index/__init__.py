"""Docent's write path: load → chunk → embed → store (Chroma) and the BM25 index beside it."""
