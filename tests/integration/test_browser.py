"""The tests' browser (tests/browser.py) reaches only what a test maps: a mapped name and its
address load a page from a server of the test's own on loopback, any other name fails to
resolve (so no page a test opens can send a request off this machine by name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import chromium
from localhttp import QuietHandler, serving

pytestmark = [pytest.mark.integration]


class _Hello(QuietHandler):
    def do_GET(self) -> None:
        body = b"<html><title>hello from loopback</title></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[int]:
    with serving(_Hello) as port:
        yield port


def test_only_mapped_names_resolve(server: int, tmp_path: Path) -> None:
    from selenium.common.exceptions import WebDriverException

    with chromium(tmp_path / "chromium", {"mapped.hotstack.test": "127.0.0.1"}) as browser:
        for url in (f"http://mapped.hotstack.test:{server}/", f"http://127.0.0.1:{server}/"):
            browser.get(url)
            assert browser.title == "hello from loopback", url
        with pytest.raises(WebDriverException, match="ERR_NAME_NOT_RESOLVED"):
            browser.get(f"http://unmapped.hotstack.test:{server}/")
