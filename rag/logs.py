"""Logging for every process Docent starts: DOCENT_LOG_LEVEL for Docent's own loggers (at INFO,
one line per question), WARNING at least for the chatty libraries."""

from __future__ import annotations

import logging

__all__ = ["configure_logging"]

_CHATTY = ("bm25s", "httpx", "chromadb", "sentence_transformers")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
