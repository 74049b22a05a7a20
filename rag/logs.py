"""Logging for every process Docent starts: DOCENT_LOG_LEVEL for Docent's own loggers (at INFO,
one line per question), WARNING at least for the chatty libraries, and ERROR at least for the
document parsers, whose warnings about a malformed file ("EOF marker not found") say again, in
their words, what the ingestion report says once in ours."""

from __future__ import annotations

import logging

__all__ = ["configure_logging"]

_CHATTY = ("bm25s", "httpx", "chromadb", "sentence_transformers")
_PARSERS = ("pypdf", "pdfminer", "pdfplumber", "openpyxl", "docx", "pptx", "PIL")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name in _PARSERS:
        logging.getLogger(name).setLevel(max(logging.ERROR, logging.getLevelName(level)))
