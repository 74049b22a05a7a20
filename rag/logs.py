"""Logging for every process Docent starts: DOCENT_LOG_LEVEL for Docent's own loggers (at INFO,
one line per question), WARNING at least for the chatty libraries, and ERROR at least for the
document parsers, whose warnings about a malformed file ("EOF marker not found") say again, in
their words, what the ingestion report says once in ours.

DOCENT_LOG_FORMAT=json writes one JSON object per line (python-json-logger) and the access log
(`docent.access`: one line per HTTP request, rag/web/observe.py) at INFO whatever the level.
Every line logged while a request is handled carries its `request_id`, which the response
returns as `X-Request-ID`.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

__all__ = ["ACCESS_LOGGER", "configure_logging", "request_id"]

ACCESS_LOGGER = "docent.access"
_CHATTY = ("bm25s", "httpx", "chromadb", "sentence_transformers")
_PARSERS = ("pypdf", "pdfminer", "pdfplumber", "openpyxl", "docx", "pptx", "PIL")

request_id: ContextVar[str] = ContextVar("request_id", default="")


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(level: str, style: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestId())
    if style == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name in _PARSERS:
        logging.getLogger(name).setLevel(max(logging.ERROR, logging.getLevelName(level)))
    access = logging.INFO if style == "json" else logging.getLevelName(level)
    logging.getLogger(ACCESS_LOGGER).setLevel(access)
