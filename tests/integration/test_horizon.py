"""The real horizon image, as the catalog renders it: its container (with a real memcached for
the sessions) on a podman network of the test's own, published on 127.0.0.1 only, keystone's
name pointed at the container's own loopback where nothing listens. Python reads the login page
and its compressed CSS; then headless Chromium (Debian's, driven by Selenium) signs in with a
wrong password and must get Horizon's error on the login page. All removed at the end."""

from __future__ import annotations

import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, wait_for

from hotstack import catalog
from hotstack.catalog.services.horizon import LOGIN_FORM, LOGIN_PATH
from hotstack.commands.render_cmd import render_catalog
from hotstack.containers import control, podman
from hotstack.core.paths import Paths
from hotstack.core.settings import load
from hotstack.stack.jobs import load_compose

pytestmark = [pytest.mark.integration, pytest.mark.images]

NAME, NETWORK, CIDR = "hsihz", "hsihz", "10.213.47.0/26"
SERVICES = ("memcached", "horizon")
FIRST_PAGE_BOUND_S = 60.0
ARTIFACTS = Path(__file__).parent / "artifacts"


@dataclass(frozen=True)
class Dashboard:
    url: str  # http://dashboard.<domain>:<port> as a browser would name it
    host: str  # the Host header of that URL
    port: int  # on 127.0.0.1
    first_page_s: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_argv(definition: dict[str, Any], publish: str | None, hosts: list[str]) -> list[str]:
    """`podman run -d` for one rendered compose service, at its catalog address on the test network."""
    args = ["run", "-d", "--replace", "--name", definition["container_name"]]
    net = definition["networks"][NETWORK]
    args += ["--network", NETWORK, "--ip", net["ipv4_address"]]
    if definition.get("user"):
        args += ["--user", definition["user"]]
    for volume in definition.get("volumes") or []:
        args += ["--volume", volume]
    for host in hosts:
        args += ["--add-host", host]
    if publish:
        args += ["--publish", publish]
    return [*args, definition["image"], *definition["command"]]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer to look at (and its name resolves nowhere here)


def get(port: int, host: str, path: str, timeout: float = 5) -> tuple[int, str, str]:
    """GET http://127.0.0.1:port/path with the Host header a browser would send: status, the
    Content-Type (Location for a redirect) and the body; redirects are not followed."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        with opener.open(req, timeout=timeout) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        kind = exc.headers.get("Location" if 300 <= exc.code < 400 else "Content-Type", "")
        return exc.code, kind, exc.read().decode(errors="replace")


def wait_for_login_page(port: int, host: str, bound: float) -> float:
    start = time.monotonic()
    last = "nothing yet"
    while time.monotonic() - start < bound:
        try:
            status, _, body = get(port, host, LOGIN_PATH)
            if status == 200 and LOGIN_FORM in body:
                return time.monotonic() - start
            last = f"{status}: {body[:300]}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise AssertionError(f"no login page within {bound:.0f} s; last: {last}")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, hotstack_images: dict[str, str]) -> Iterator[Dashboard]:
    tmp = tmp_path_factory.mktemp("horizon")
    (tmp / "hotstack.yaml").write_text("")
    port = free_port()
    settings = load(tmp / "hotstack.yaml", {
        "name": NAME, "data_dir": str(tmp / "data"), "network.podman_network": NETWORK,
        "network.container_cidr": CIDR, "network.provider_cidr": "10.213.47.128/25",
        "network.brex_ip": "10.213.47.129", "ports.horizon": str(port)}, environ={})
    cat = catalog.build(settings, Paths(settings.data_dir))
    render_catalog(cat)
    definitions = load_compose(cat.paths.compose_file)["services"]
    # Every public name (keystone's too) at the container's own loopback: nothing listens there,
    # so a sign-in fails at once and no packet leaves the container.
    hosts = [f"{ep.dns_name}:127.0.0.1" for _, ep in cat.endpoints()]
    if not control.network_exists(NETWORK):
        podman.run(["network", "create", "--subnet", CIDR, NETWORK])
    try:
        podman.run(run_argv(definitions["memcached"], None, []))
        started = time.monotonic()
        podman.run(run_argv(definitions["horizon"], f"127.0.0.1:{port}:{cat.port('horizon')}", hosts))
        ep = cat["horizon"].endpoint
        assert ep is not None
        host = f"{ep.dns_name}:{port}"
        try:
            wait_for_login_page(port, host, FIRST_PAGE_BOUND_S)
        except AssertionError:
            logs = podman.run(["logs", "--tail", "80", cat["horizon"].container], check=False)
            print(logs.stdout, logs.stderr)
            raise
        yield Dashboard(f"http://{host}", host, port, time.monotonic() - started)
    finally:
        for name in SERVICES:
            control.remove(cat[name].container, timeout=5)
        podman.run(["network", "rm", NETWORK], check=False)


def test_login_page_and_its_compressed_css_are_served(dashboard: Dashboard) -> None:
    status, kind, body = get(dashboard.port, dashboard.host, LOGIN_PATH)
    assert status == 200 and kind.startswith("text/html") and LOGIN_FORM in body
    assert 'id="id_username"' in body and "csrfmiddlewaretoken" in body
    print(f"\nhorizon: container start to the first login page {dashboard.first_page_s:.1f} s")
    # Offline compression: the page links the bundles `manage.py compress` made in the image.
    sheets = re.findall(r'href="(/static/dashboard/css/output\.[0-9a-f]+\.css)"', body)
    assert sheets, "the login page links no compressed stylesheet"
    status, kind, css = get(dashboard.port, dashboard.host, sheets[0])
    assert status == 200 and kind.startswith("text/css") and len(css) > 10_000
    # No HTTPS redirect: the root sends a browser to the login page on the same plain-http origin.
    status, location, _ = get(dashboard.port, dashboard.host, "/")
    assert status == 302 and location.startswith(f"{dashboard.url}{LOGIN_PATH}"), (status, location)


def test_an_unknown_host_name_is_refused(dashboard: Dashboard) -> None:
    status, _, _ = get(dashboard.port, "elsewhere.example:80", LOGIN_PATH)
    assert status == 400  # ALLOWED_HOSTS names the dashboard, brex_ip and its own address only


def test_a_browser_signs_in_with_a_wrong_password_and_sees_the_error(dashboard: Dashboard, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    # The dashboard's name resolves to the published port on loopback; every other name fails.
    with chromium(tmp_path / "chromium", {dashboard.host.split(":")[0]: "127.0.0.1"}) as browser:
        browser.get(dashboard.url + LOGIN_PATH)
        user = wait_for("the login form", lambda: browser.find_element(By.ID, "id_username"), 20)
        password = browser.find_element(By.ID, "id_password")
        sign_in = browser.find_element(By.ID, "loginBtn")
        # Styled: the compressed stylesheet applied (Bootstrap gives the button its padding).
        assert browser.execute_script("return document.styleSheets.length") >= 1
        assert sign_in.value_of_css_property("padding-top") != "0px"
        user.send_keys("admin")
        password.send_keys("not-the-password")
        sign_in.click()
        error = wait_for("the sign-in error", lambda: browser.find_element(By.CSS_SELECTOR, "form .alert-danger"), 20)
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "horizon-login-error.png"
        browser.save_screenshot(str(shot))
        assert error.text.strip(), "the error element is empty"
        assert browser.current_url.startswith(dashboard.url + LOGIN_PATH)
        assert browser.find_elements(By.ID, "id_password"), "not the login page any more"
        print(f"\nbrowser: {browser.title!r}, error {error.text.strip()!r}; screenshot {shot}")
