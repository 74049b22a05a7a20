"""Each request observed once, outermost: its id (the caller's `X-Request-ID` when it is a
short token, else a new one) in every log line written while it is handled and in the
response's `X-Request-ID`; one access-log line (`docent.access`: method, route template,
status, milliseconds; never the query string, a header or a body); and the request counted by
route and status in Docent's metrics (`rag/metrics.py`)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.logs import ACCESS_LOGGER, request_id
from rag.metrics import observe_request

__all__ = ["RequestObserver"]

access_log = logging.getLogger(ACCESS_LOGGER)
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _route(scope: Scope) -> str:
    """The matched route's template (bounded cardinality), not the path as sent."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template is None:
        return "unmatched"
    return str(template) or "/"


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _GIVEN_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = _route(scope)
            observe_request(route, status, seconds)
            access_log.info(
                "%s %s %d %.1f ms",
                scope.get("method", ""),
                route,
                status,
                seconds * 1000,
                extra={
                    "method": scope.get("method", ""),
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                },
            )
            request_id.reset(token)
