"""/embed on a live server: framed by an allowed origin (or Docent itself, or a browser that
does not say) it is the chat; framed by another origin it is sent to a page that names the
origin and the setting to change, which never shows anything but an origin."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import make_settings, serving

PORTAL = "http://127.0.0.1:9"  # a portal origin; nothing needs to listen there


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder) -> Iterator[str]:
    settings = make_settings(tmp_path_factory.mktemp("widget"), allowed_origins=[PORTAL])
    with serving(create_app(build_runtime(settings, embeddings=embeddings))) as served:
        yield served


def _framed(url: str, referer: str | None) -> httpx.Response:
    headers = {"Sec-Fetch-Dest": "iframe", **({"Referer": referer} if referer else {})}
    return httpx.get(f"{url}/embed", headers=headers)


def test_embed_is_the_chat_where_framing_is_allowed(url: str) -> None:
    for response in (
        httpx.get(f"{url}/embed"),  # opened directly
        _framed(url, f"{PORTAL}/help.html"),
        _framed(url, f"{url}/"),  # Docent's own pages
        _framed(url, None),  # no Referer: the browser's frame-ancestors check decides
    ):
        assert response.status_code == 200 and 'id="docent-form"' in response.text
        assert f"frame-ancestors 'self' {PORTAL}" in response.headers["content-security-policy"]


def test_another_origin_is_told_which_setting_to_change(url: str) -> None:
    response = _framed(url, "http://intranet.example:8080/some/page?q=1")
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/embed/refused?origin=http%3A%2F%2Fintranet.example%3A8080"
    )
    refused = httpx.get(url + response.headers["location"])
    assert refused.status_code == 200
    assert "Docent cannot be shown on this page" in refused.text
    assert (
        "http://intranet.example:8080" in refused.text and "DOCENT_ALLOWED_ORIGINS" in refused.text
    )
    assert "<script" not in refused.text and 'id="docent-form"' not in refused.text
    policy = refused.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "script-src 'self'" in policy


def test_the_refused_page_shows_only_an_origin(url: str) -> None:
    hostile = httpx.get(f"{url}/embed/refused", params={"origin": '"><img src=x onerror=alert(1)>'})
    assert (
        hostile.status_code == 200 and "<img" not in hostile.text and "onerror" not in hostile.text
    )
    assert "this site" in hostile.text
