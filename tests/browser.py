"""Debian's Chromium, headless, driven by Selenium: how the tests look at hotstack's web pages.

Names resolve only as a test maps them (`--host-resolver-rules`), with no proxy and none of
Chromium's own background traffic, so a page's requests reach this machine only."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# SANDBOX.md: what headless Chromium needs here (no sandbox as root, no GPU).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-proxy-server",
         "--window-size=1366,900")
T = TypeVar("T")


def require() -> Any:
    """Selenium's webdriver module, or skip when Debian's chromium/chromium-driver are missing."""
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("Debian's chromium and chromium-driver are not installed (scripts/install-deps --test)")
    return webdriver


def resolver_rules(names: dict[str, str]) -> str:
    """`--host-resolver-rules`: each name (or `*.domain` pattern) to its address, every other
    name unresolvable. Chromium applies the rules to address literals too: the mapped
    addresses are excluded, so a page may name them (nova's console URL does)."""
    excluded = sorted(set(names.values()))
    return ", ".join([*(f"MAP {name} {address}" for name, address in names.items()),
                      *(f"EXCLUDE {address}" for address in excluded), "MAP * ~NOTFOUND"])


@contextmanager
def chromium(profile: Path, names: dict[str, str]) -> Iterator[Any]:
    webdriver = require()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--host-resolver-rules={resolver_rules(names)}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        browser.set_page_load_timeout(60)
        yield browser
    finally:
        browser.quit()


def wait_for(what: str, check: Callable[[], T | None], timeout: float, every: float = 0.5) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` and the last error."""
    deadline, last = time.monotonic() + timeout, "nothing yet"
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except Exception as exc:  # a page in flux raises all kinds (stale element, not found)
            last = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last})")


def distinct_share(png: bytes) -> tuple[int, float]:
    """(colours, share of pixels not of the most common colour) of a screenshot: a blank or
    one-colour picture has (1, 0.0)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    counts = image.getcolors(maxcolors=image.width * image.height) or []
    top = max(n for n, _ in counts)
    return len(counts), 1 - top / (image.width * image.height)
