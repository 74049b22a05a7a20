"""Signing in to the chat UI: `/login` (a small page, no Gradio), `POST /auth/session` (an API
key or portal token in, an HttpOnly SameSite=Strict session cookie out) and `POST /auth/logout`.

A portal sends its users to `/login#token=<jwt>`: the page signs in with the token (the URL
fragment never reaches a server) and opens the chat with that user's collections.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, Field

from rag.web.auth import SESSION_COOKIE, Authenticator, Principal, client_address

__all__ = ["login_router"]

STATIC = Path(__file__).resolve().parent / "static"


class SignIn(BaseModel):
    credential: str = Field(min_length=1, max_length=4096, description="API key or portal token.")


def login_router(authenticator: Authenticator) -> APIRouter:
    router = APIRouter(tags=["sign-in"])

    @router.get("/login", include_in_schema=False, response_model=None)
    def login_page() -> FileResponse | RedirectResponse:
        if authenticator.open:
            return RedirectResponse("/", status_code=303)
        return FileResponse(STATIC / "login.html", media_type="text/html")

    @router.post("/auth/session", status_code=204)
    def sign_in(body: SignIn, request: Request, response: Response) -> None:
        """Sign in to the chat UI with an API key or a portal token (sets a session cookie)."""
        if authenticator.open:
            return
        client = client_address(request)
        principal: Principal = authenticator.identify(f"Bearer {body.credential}", None, client)
        authenticator.limiter.check(principal.caller)
        value, max_age = authenticator.session_for(
            principal, authenticator.token_expiry(body.credential)
        )
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=max_age,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    @router.post("/auth/logout", status_code=204)
    def sign_out(response: Response) -> None:
        """End the chat UI session."""
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")

    return router
