"""hotstack's monitoring overview page in the browser: loaded, its queries answered, each chart's
series counted (the integration and e2e tests check the same page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser import wait_for


def charts_drawn(browser: Any, url: str, screenshot: Path, charts: tuple[str, ...]) -> None:
    """Open the page, wait for its queries, keep a screenshot; every chart drew a series."""
    browser.get(url)
    wait_for("the page's queries", lambda: browser.execute_script(
        "return document.body.dataset.ready !== 'no' && document.body.dataset.ready"), 30)
    screenshot.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(screenshot))
    assert browser.execute_script("return document.body.dataset.ready") == "yes", \
        browser.execute_script("return document.body.dataset.error")
    for chart in charts:
        lines = browser.execute_script(f"return document.getElementById('{chart}').dataset.series")
        assert int(lines or 0) >= 1, f"{chart}: no series drawn"
