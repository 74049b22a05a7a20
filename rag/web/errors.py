"""Errors of the HTTP surfaces, and the one mapping of every error to an HTTP response.

Every error leaves as `{"error": {"type", "message"}}` with a fitting status and never a stack
trace: ours say what happened; anything else is logged and answered as an internal error.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag.errors import (
    ConfigError,
    DocentError,
    GenerationError,
    IndexMismatchError,
    IndexSwitchedError,
    InputError,
    LoadError,
    NotFoundError,
    PromptError,
    StoreBusyError,
)

__all__ = [
    "AccessError",
    "RateLimitError",
    "add_error_handlers",
    "error_body",
    "error_response",
    "json_error",
    "unknown_endpoints_router",
]

log = logging.getLogger(__name__)


class AccessError(DocentError):
    """The caller may not do this: `forbidden` is False when credentials are missing or bad."""

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


class RateLimitError(DocentError):
    """One caller sent too many requests; `retry_after` is the wait in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_STATUS: dict[type[DocentError], tuple[int, str]] = {
    RateLimitError: (429, "rate_limited"),
    InputError: (400, "invalid_input"),
    NotFoundError: (404, "not_found"),
    LoadError: (400, "unreadable_document"),
    IndexMismatchError: (409, "index_mismatch"),
    StoreBusyError: (503, "store_busy"),
    IndexSwitchedError: (503, "index_switched"),
    GenerationError: (502, "generation_failed"),
    ConfigError: (500, "configuration"),
    PromptError: (500, "configuration"),
}


def error_body(kind: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"type": kind, "message": message}}


def error_response(exc: Exception) -> tuple[int, dict[str, dict[str, str]]]:
    """Status and body for any error: ours say what happened, anything else is logged and
    answered as an internal error without details."""
    if isinstance(exc, AccessError):
        kind = ("forbidden", 403) if exc.forbidden else ("unauthorized", 401)
        return kind[1], error_body(kind[0], str(exc))
    if isinstance(exc, DocentError):
        status, name = next(
            (found for cls, found in _STATUS.items() if isinstance(exc, cls)), (500, "error")
        )
        return status, error_body(name, str(exc))
    log.error("unexpected error", exc_info=exc)
    return 500, error_body("internal", "internal server error")


def json_error(exc: DocentError) -> JSONResponse:
    """The response for one of our errors, with `Retry-After` or `WWW-Authenticate` when due
    (route handlers and the request guards alike)."""
    status, body = error_response(exc)
    headers = {}
    if isinstance(exc, RateLimitError):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    """Every error of the app as `{"error": {"type", "message"}}` with a fitting status."""

    @app.exception_handler(DocentError)
    async def on_docent_error(_: Request, exc: DocentError) -> JSONResponse:
        return json_error(exc)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
            for e in exc.errors()
        )
        return JSONResponse(error_body("invalid_request", problems), status_code=422)

    @app.exception_handler(HTTPException)
    async def on_http(_: Request, exc: HTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(kind, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        status, body = error_response(exc)
        return JSONResponse(body, status_code=status)


def unknown_endpoints_router() -> APIRouter:
    """Include last: unknown /api/v1 paths answer in the API's error shape, not the chat app's."""
    router = APIRouter(prefix="/api/v1")

    @router.api_route(
        "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown(path: str) -> None:
        raise NotFoundError(f"no such endpoint: /api/v1/{path}")

    return router
