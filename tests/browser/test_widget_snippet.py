"""The README's embedding section followed verbatim, as a portal's developer would: its
DOCENT_ALLOWED_ORIGINS line and its script tag, on two portal origins served from loopback
ports, one allowed and one not. The allowed portal answers; the other shows what to change."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.settings import Settings
from rag.web.app import create_app
from tests.helpers import ROOT, SAMPLES, portal_token, serving

pytestmark = pytest.mark.browser

SECRET = "snippet-test-shared-secret-0123456789abcdef"


def _readme_embedding() -> tuple[str, str]:
    """The embedding section's settings line and script tag, as printed."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Embedding in a portal", 1)[1].split("\n## ", 1)[0]
    setting = re.search(r"```bash\n(DOCENT_ALLOWED_ORIGINS=.+)\n```", section)
    tag = re.search(r"```html\n(<script src=.+?</script>)\n```", section, re.DOTALL)
    assert setting and tag, "the README shows the setting and the script tag"
    return setting.group(1), tag.group(1)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test output."""


@pytest.fixture(scope="module")
def portals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, Path]]]:
    """Two static portal sites on their own ports: {"allowed"|"other": (origin, folder)}."""
    sites, servers = {}, []
    for name in ("allowed", "other"):
        folder = tmp_path_factory.mktemp(name)
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        sites[name] = (f"http://127.0.0.1:{server.server_address[1]}", folder)
    yield sites
    for server in servers:
        server.shutdown()


@pytest.fixture(scope="module")
def docent(
    tmp_path_factory: pytest.TempPathFactory,
    embeddings: Encoder,
    portals: dict[str, tuple[str, Path]],
) -> Iterator[str]:
    setting, _ = _readme_embedding()
    name, value = setting.split("=", 1)
    origins = json.loads(value.strip("'"))
    assert origins == ["https://portal.intranet.example"]
    allowed = [portals["allowed"][0]]  # the README's list with this test's portal in it
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("snippet"),
        jwt_secret=SECRET,
        **{name.removeprefix("DOCENT_").lower(): allowed},
    )
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES], collection="hr")
    with serving(create_app(runtime)) as url:
        yield url


def _portal_page(site: tuple[str, Path], docent: str) -> str:
    """The portal page with the README's tag, its host and token filled in."""
    _, tag = _readme_embedding()
    token = portal_token(SECRET, 3000, collections=["hr"])
    tag = tag.replace("https://docent.intranet.example", docent)
    tag = tag.replace("{{ token signed by the portal backend }}", token)
    origin, folder = site
    (folder / "help.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Portal</title></head>"
        f"<body><h1>HR portal</h1>{tag}</body></html>"
    )
    return f"{origin}/help.html"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1000, "height": 760})
    yield page
    page.close()


def test_the_readme_snippet_answers_on_an_allowed_portal(
    page: Page, portals: dict[str, tuple[str, Path]], docent: str
) -> None:
    page.goto(_portal_page(portals["allowed"], docent))
    page.locator("#docent-launcher").click()
    chat = page.frame_locator("#docent-frame")
    expect(chat.locator("#docent-title")).to_have_text("Ask HR")
    chat.locator("#docent-input").fill("How long is the probation period?")
    chat.locator("#docent-input").press("Enter")
    expect(chat.locator(".answer").last).to_contain_text("6 months", timeout=60_000)


def test_a_portal_that_is_not_allowed_is_told_which_setting_to_change(
    page: Page, portals: dict[str, tuple[str, Path]], docent: str
) -> None:
    origin = portals["other"][0]
    page.goto(_portal_page(portals["other"], docent))
    page.locator("#docent-launcher").click()
    chat = page.frame_locator("#docent-frame")
    message = chat.locator("main.refused")
    expect(message).to_contain_text("Docent cannot be shown on this page", timeout=30_000)
    expect(message).to_contain_text(origin)
    expect(message).to_contain_text("DOCENT_ALLOWED_ORIGINS")
    assert chat.locator("#docent-input").count() == 0, "no chat on a refused origin"
