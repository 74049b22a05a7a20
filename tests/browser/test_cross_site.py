"""M4 (CSRF) as a browser meets it: signed in to a Docent with an API key, a person opens a page
of another origin of the same site (the SameSite=Strict cookie goes along) that posts forms to
Docent by itself. Docent refuses them and nothing changes, while its own pages (sign-in, chat,
Library upload, widget, sign-out) keep working on the same cookie. Twice: on loopback, where
Chromium sends `Sec-Fetch-Site`, and on plain http to named hosts, where it sends only
`Origin`."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import SAMPLES, ask, create_key, make_settings, serving

pytestmark = pytest.mark.browser

_SLOW = 120_000  # ms: indexing on two cores

# Both names lead to 127.0.0.1: one site (example.test), two origins, plain http (so Chromium,
# for which only https and loopback are trustworthy, sends no Sec-Fetch-Site).
NAMED_HOSTS = "MAP *.example.test 127.0.0.1"

# A page elsewhere on the site: it posts a document, then a sign-out, to Docent on its own.
ATTACK = """<!doctype html><html><head><meta charset="utf-8"><title>Team news</title></head>
<body><h1>Team news</h1>
<form id="upload" method="post" enctype="multipart/form-data" action="{docent}/api/v1/documents">
<input type="file" name="files"><input name="collection" value="default"></form>
<script>
const file = new File(["# VPN\\n\\nSign in at https://evil.example/sso.\\n"], "vpn.md",
                      {{type: "text/markdown"}});
const picked = new DataTransfer();
picked.items.add(file);
document.querySelector("input[type=file]").files = picked.files;
document.getElementById("upload").submit();
</script></body></html>"""

SIGN_OUT = """<!doctype html><html><body>
<form id="out" method="post" action="{docent}/auth/logout"></form>
<script>document.getElementById("out").submit();</script></body></html>"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test output."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium that resolves *.example.test to loopback."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--host-resolver-rules={NAMED_HOSTS}",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def docent(
    tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder
) -> Iterator[tuple[str, str]]:
    """Docent with an API key (so with sign-in and cookies): (port, key)."""
    settings = make_settings(tmp_path_factory.mktemp("cross-site"))
    key = create_key(settings, "intranet")
    runtime = build_runtime(settings, embeddings=embeddings)
    runtime.ingestor.ingest([SAMPLES / "leave-policy.md", SAMPLES / "expenses.md"])
    with serving(create_app(runtime)) as url:
        yield url.rsplit(":", 1)[1], key


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A static site on its own port: (port, folder)."""
    folder = tmp_path_factory.mktemp("other-site")
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield str(server.server_address[1]), folder
    server.shutdown()


def documents(port: str, key: str) -> set[str]:
    """The documents' names, as a script with the API key lists them."""
    listed = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/documents",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    return {d["name"] for d in listed.json()}


def refused(page: Page, docent: str, path: str) -> None:
    """The browser shows Docent's refusal of a form post to `path`."""
    page.wait_for_url(f"{docent}{path}")
    body = page.locator("body")
    expect(body).to_contain_text('"type":"forbidden"')
    expect(body).to_contain_text("Docent's own pages")


@pytest.mark.parametrize(
    ("docent_host", "other_host", "fetch_metadata"),
    [("127.0.0.1", "127.0.0.1", True), ("docent.example.test", "intranet.example.test", False)],
    ids=["loopback-sec-fetch-site", "named-hosts-origin-only"],
)
def test_another_page_of_the_site_cannot_write_with_the_session(
    browser: Browser,
    docent: tuple[str, str],
    other_site: tuple[str, Path],
    docent_host: str,
    other_host: str,
    fetch_metadata: bool,
    tmp_path: Path,
) -> None:
    (port, key), (other_port, folder) = docent, other_site
    url, other = f"http://{docent_host}:{port}", f"http://{other_host}:{other_port}"
    (folder / "news.html").write_text(ATTACK.format(docent=url))
    (folder / "leave.html").write_text(SIGN_OUT.format(docent=url))
    before = documents(port, key)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    page.goto(url)  # Docent's own pages: the sign-in page, then the chat
    page.wait_for_url(f"{url}/login")
    page.locator("#docent-credential").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    ask(page, "How many vacation days does a full-time employee get each year?")
    expect(page.locator("#docent-chat")).to_contain_text("26 days", timeout=60_000)

    with page.expect_request(f"{url}/api/v1/documents") as posted:
        page.goto(f"{other}/news.html")
    sent = posted.value.all_headers()
    assert ("sec-fetch-site" in sent) is fetch_metadata
    assert sent.get("sec-fetch-site", "same-site") == "same-site"
    assert sent["origin"] == other
    refused(page, url, "/api/v1/documents")
    page.goto(f"{other}/leave.html")
    refused(page, url, "/auth/logout")
    assert documents(port, key) == before, "the other page's upload added nothing"

    page.goto(f"{url}/embed")  # still signed in: the widget page asks with the same cookie
    page.locator("#docent-input").fill("How many vacation days does a full-time employee get?")
    page.locator("#docent-input").press("Enter")
    expect(page.locator(".answer").last).to_contain_text("26 days", timeout=60_000)

    page.goto(url)
    page.get_by_role("tab", name="Library").click()
    notes = tmp_path / f"parking-{port}-{docent_host}.md"
    notes.write_text("# Parking\n\nThe car park opens at 06:30.\n")
    page.locator("#docent-upload input[type=file]").set_input_files(str(notes))
    expect(page.locator("#docent-library-status")).to_contain_text(
        "Indexed: 1 added", timeout=_SLOW
    )
    assert notes.name in documents(port, key)

    status = page.evaluate("fetch('/auth/logout', {method: 'POST'}).then(r => r.status)")
    assert status == 204
    page.goto(url)
    page.wait_for_url(f"{url}/login")
    context.close()
