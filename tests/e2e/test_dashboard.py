"""The dashboard of the e2e deployment, used in Debian's Chromium the way a lab user does:
at `http://dashboard.<domain>/` (the name mapped to brex_ip, nothing else resolves), as the
deployment's `hotstack` user — sign-in (a wrong password first), Overview's quotas, the Launch
Instance dialog to Active, Update Metadata, the Console tab's noVNC screen, a floating IP from
the actions menu, delete, sign-out — and as admin, Update Metadata on the guest image (glance's
policy keeps image metadata to admins). Screenshots of every step:
tests/e2e/artifacts/dashboard-{user,admin}-NN-*.png."""

from __future__ import annotations

import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, distinct_share, wait_for
from e2efixtures import ARTIFACTS, Deployment

from hotstack.catalog.services.horizon import LOGIN_FORM, LOGIN_PATH
from hotstack.core.credentials import USER_NAME, connect
from hotstack.core.secrets import Secrets

pytestmark = [pytest.mark.e2e, pytest.mark.host]

ACTIVE_BOUND_S = 240.0  # Launch to Active in the list (TCG guests boot in ~20 s)
UP, DOWN = "//button[contains(@class,'fa-arrow-up')]", "//button[contains(@class,'fa-arrow-down')]"  # transfer tables
SERVER_NAMESPACES = {"Database Software", "Runtime Environment", "Web Servers"}
IMAGE_NAMESPACES = {"libvirt Driver Options for Images", "Hypervisor Selection", "Instance Config Data",
                    "Watchdog Behavior", "CPU Pinning"}


@dataclass
class Dashboard:
    """A signed-out browser on the deployment's dashboard; `shot` keeps numbered screenshots."""

    browser: Any
    url: str  # http://dashboard.<domain> (ports.http is 80)
    story: str  # the test's name in its screenshots' names
    shots: list[Path]

    def shot(self, step: str, png: bytes | None = None) -> Path:
        path = ARTIFACTS / f"dashboard-{self.story}-{len(self.shots) + 1:02d}-{step}.png"
        if png is None:
            self.browser.save_screenshot(str(path))
        else:
            path.write_bytes(png)
        self.shots.append(path)
        return path

    def by(self) -> Any:
        from selenium.webdriver.common.by import By
        return By

    def find(self, css: str) -> Any:
        return self.browser.find_element(self.by().CSS_SELECTOR, css)

    def visible(self, xpath: str) -> Any:
        found = [e for e in self.browser.find_elements(self.by().XPATH, xpath) if e.is_displayed()]
        return found[0] if found else None

    def modal(self, title: str) -> Any:
        """The front modal dialog, once it shows `title` (Horizon replaces modals as they load)."""
        shown = [m for m in self.browser.find_elements(self.by().CSS_SELECTOR, ".modal-dialog") if m.is_displayed()]
        return shown[-1] if shown and title in shown[-1].text else None

    def click_in_modal(self, title: str, css: str, timeout: float = 30) -> None:
        def click() -> bool:
            modal = self.modal(title)
            if modal is None:
                return False
            modal.find_element(self.by().CSS_SELECTOR, css).click()
            return True
        wait_for(f"{css} in the dialog {title!r}", click, timeout)

    def sign_in(self, user: str, password: str) -> None:
        self.browser.get(self.url + LOGIN_PATH)
        By = self.by()
        wait_for("the login form", lambda: self.browser.find_element(By.ID, "id_username"), 30).send_keys(user)
        self.browser.find_element(By.ID, "id_password").send_keys(password)
        self.browser.find_element(By.ID, "loginBtn").click()

    def row_action(self, table: str, obj_id: str, action: str) -> None:
        """Open a table row's actions menu and click one of its entries."""
        By = self.by()
        row = wait_for(f"row {obj_id}", lambda: self.browser.find_element(By.ID, f"{table}__row__{obj_id}"), 30)
        row.find_element(By.CSS_SELECTOR, ".dropdown-toggle").click()
        entry = f"{table}__row_{obj_id}__action_{action}"
        wait_for(f"menu entry {action}", lambda: self.browser.find_element(By.ID, entry).is_displayed(), 10)
        self.browser.find_element(By.ID, entry).click()


def _first_login_page_s(url: str, bound: float = 60) -> float:
    """GET the login page by name through haproxy like a browser would (no proxy)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    started = time.monotonic()
    with opener.open(url + LOGIN_PATH, timeout=bound) as answer:
        body = answer.read().decode(errors="replace")
    assert answer.status == 200 and LOGIN_FORM in body
    return time.monotonic() - started


@pytest.fixture
def dashboard(e2e: Deployment, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Dashboard]:
    net = e2e.settings.network
    assert e2e.settings.ports.http == 80, "the e2e deployment serves the name without a port"
    # Every name of the deployment's domain to its brex_ip: what its /etc/hosts block says.
    with chromium(tmp_path / "chromium", {f"*.{net.domain}": str(net.brex_ip)}) as browser:
        ARTIFACTS.mkdir(exist_ok=True)
        story = request.node.name.removeprefix("test_").split("_")[0]  # "a" (user), "admin"
        yield Dashboard(browser, f"http://dashboard.{net.domain}", "user" if story == "a" else story, [])


def _password(e2e: Deployment, name: str) -> str:
    return Secrets(e2e.paths.secrets_file).ensure([name])[name]


def test_the_dashboard_answers_by_name_and_on_brex_ip(e2e: Deployment) -> None:
    """The login page through haproxy at every address a user may type: each opened
    through /etc/hosts (the name) or directly (brex_ip), at port 80 and the dashboard's own."""
    net, ports = e2e.settings.network, e2e.settings.ports
    timings = {}
    for url in (f"http://dashboard.{net.domain}", f"http://{net.brex_ip}",
                f"http://dashboard.{net.domain}:{ports.horizon}", f"http://{net.brex_ip}:{ports.horizon}"):
        timings[url] = round(_first_login_page_s(url), 2)
    print(f"\nlogin page: {timings}")
    assert f"dashboard.{net.domain}" in Path("/etc/hosts").read_text()  # how the name resolves on the host


def test_a_user_works_through_the_dashboard(e2e: Deployment, dashboard: Dashboard) -> None:
    d, By = dashboard, dashboard.by()
    user = connect(e2e.settings, e2e.paths, as_user=True)
    name = f"e2e-dash-{uuid.uuid4().hex[:6]}"
    smallest = min(user.compute.flavors(), key=lambda f: (f.ram, f.vcpus, f.disk))
    timings: dict[str, float] = {}
    try:
        # A wrong password: the login page again, with Horizon's error.
        d.sign_in(USER_NAME, "not-the-password")
        error = wait_for("the sign-in error", lambda: d.visible("//form//div[contains(@class,'alert-danger')]"), 30)
        assert error.text.strip() and d.browser.find_elements(By.ID, "id_password")
        d.shot("login-error")

        started = time.monotonic()
        d.sign_in(USER_NAME, _password(e2e, "hotstack_user_password"))
        wait_for("Overview's quota charts", lambda: "/project/" in d.browser.current_url
                 and d.visible("//*[normalize-space()='Limit Summary']"), 30)
        timings["sign-in"] = time.monotonic() - started
        overview = d.find("#content_body").text
        assert "Instances" in overview and "VCPUs" in overview and "Used 0 of" in overview, overview[:500]
        d.shot("overview")

        # Launch Instance: Details, Source (the guest image), Flavor (the smallest), Networks (private).
        d.browser.get(d.url + "/project/instances/")
        wait_for("Launch Instance", lambda: d.browser.find_element(By.ID, "instances__action_launch-ng"), 30).click()
        wait_for("the instance name field", lambda: d.visible("//input[@id='name']"), 30).send_keys(name)

        def step(title: str) -> None:
            d.browser.find_element(By.XPATH, f"//*[contains(@class,'wizard-nav')]//li[.//span[.='{title}']]").click()

        def allocate(item: str) -> None:
            row = f"//tr[td[normalize-space()='{item}']]"
            wait_for(f"{item} among the available", lambda: d.visible(row + UP), 30).click()
            wait_for(f"{item} allocated", lambda: d.visible(row + DOWN), 10)

        step("Source")
        allocate("hotstack-guest")
        step("Flavor")
        allocate(smallest.name)
        step("Networks")
        private = "//tr[td[normalize-space()='private']]"
        wait_for("private on the Networks step", lambda: d.visible(private), 10)
        if d.visible(private + DOWN) is None:
            allocate("private")  # preselected when it is the project's only network
        d.shot("launch-dialog")
        d.find(".modal-footer button.finish").click()
        started = time.monotonic()

        def active_row() -> Any:
            row = d.visible(f"//table[@id='instances']//tr[td//a[normalize-space()='{name}']]")
            return row if row is not None and "Active" in row.text else None

        row = wait_for(f"{name} Active in the list", active_row, ACTIVE_BOUND_S, every=2)
        timings["launch-to-active"] = time.monotonic() - started
        server_id = row.get_attribute("id").split("__row__")[1]
        server = user.compute.get_server(server_id)
        assert server.name == name and server.flavor.name == smallest.name and "private" in server.addresses
        d.shot("instance-active")

        # Update Metadata on the instance: the dialog lists glance's standard namespaces for servers.
        d.row_action("instances", server_id, "update_metadata")
        listed = _wait_for_namespaces(d, "Update Instance Metadata", SERVER_NAMESPACES)
        assert listed <= _namespaces(user, "OS::Nova::Server")
        d.shot("instance-metadata")
        d.click_in_modal("Update Instance Metadata", "button.btn-default")  # Cancel

        # The Console tab: noVNC (nova-novncproxy on brex_ip) draws the guest's screen.
        d.browser.get(f"{d.url}/project/instances/{server_id}/?tab=instance_details__console")
        frame = wait_for("the console frame", lambda: d.find("iframe"), 30)
        assert frame.get_attribute("src").startswith(f"http://{e2e.settings.network.brex_ip}:{e2e.settings.ports.novnc}/")
        d.browser.switch_to.frame(frame)
        status = wait_for("noVNC connected", lambda: (s := d.find("#status").get_attribute("textContent"))
                          .startswith("Connected") and s, 60)
        canvas = d.browser.find_element(By.TAG_NAME, "canvas")

        def guest_drawn() -> tuple[int, float] | None:
            # A blank screen is one colour (share 0): the guest's boot text makes it more than 1 %.
            found = distinct_share(canvas.screenshot_as_png)
            return found if found[1] > 0.01 else None

        colours, share = wait_for("the guest on the canvas", guest_drawn, 60)
        screen, size = d.shot("console-canvas", canvas.screenshot_as_png), canvas.size
        d.browser.switch_to.default_content()
        d.shot("console-tab")
        print(f"\nconsole: {status!r}; canvas {size}, {colours} colours, {share:.1%} not background ({screen})")

        # A floating IP from the actions menu: allocate one from `public` in the dialog, associate it.
        d.browser.get(d.url + "/project/instances/")
        d.row_action("instances", server_id, "associate")
        d.click_in_modal("Manage Floating IP Associations", ".input-group-btn a")
        d.click_in_modal("Allocate Floating IP", "input[type=submit]")
        wait_for("the new address chosen", lambda: (m := d.modal("Manage Floating IP Associations")) and
                 "No floating IP addresses" not in m.text, 30)
        d.click_in_modal("Manage Floating IP Associations", "input[type=submit], button[type=submit]")
        floating = wait_for("the floating IP on the server", lambda: _floating(user, server_id), 60)
        wait_for("the address in the row", lambda: floating in d.find(f"#instances__row__{server_id}").text, 30)
        d.shot("floating-ip")

        # Delete, confirmed; the row goes.
        d.row_action("instances", server_id, "delete")
        d.click_in_modal("Confirm Delete Instance", ".btn-danger")
        wait_for("the row gone", lambda: not d.browser.find_elements(By.ID, f"instances__row__{server_id}"), 120, 2)
        d.shot("deleted")

        # Sign out from the user menu: the login page.
        d.browser.find_element(By.XPATH, "//a[contains(@class,'dropdown-toggle')][span[@class='user-name']]").click()
        wait_for("Sign Out", lambda: d.visible("//a[contains(@href,'/auth/logout/')]"), 10).click()
        wait_for("the login page", lambda: d.browser.find_elements(By.ID, "id_password"), 30)
        d.shot("signed-out")
        print(f"dashboard timings: { {k: round(v, 1) for k, v in timings.items()} }; screenshots: {len(d.shots)}")
    finally:
        for server in user.compute.servers(name=name):
            user.delete_server(server.id, wait=True, timeout=120)
        for ip in user.network.ips(project_id=user.current_project_id):
            if ip.port_id is None:
                user.network.delete_ip(ip)


def test_admin_updates_the_guest_images_metadata(e2e: Deployment, dashboard: Dashboard) -> None:
    d = dashboard
    admin = connect(e2e.settings, e2e.paths)
    d.sign_in("admin", _password(e2e, "admin_password"))
    wait_for("signed in", lambda: "/auth/login" not in d.browser.current_url and d.visible("//*[@id='content_body']"),
             30)
    d.browser.get(d.url + "/admin/images/")
    row = "//tr[.//a[normalize-space()='hotstack-guest']]"
    wait_for("the guest image's row", lambda: d.visible(row + "//*[contains(@class,'dropdown-toggle')]"), 30).click()
    wait_for("Update Metadata", lambda: d.visible(f"{row}//*[normalize-space()='Update Metadata']"), 10).click()
    listed = _wait_for_namespaces(d, "Update Image Metadata", IMAGE_NAMESPACES)
    assert len(listed) >= 15 and listed <= _namespaces(admin, "OS::Glance::Image")
    d.shot("image-metadata")


def _namespaces(conn: Any, resource_type: str) -> set[str]:
    """What glance's metadefs offer for a resource type (the job loaded them once)."""
    found = conn.image.get(f"/metadefs/namespaces?resource_types={resource_type}&limit=200").json()["namespaces"]
    return {n["display_name"] for n in found}


def _wait_for_namespaces(d: Dashboard, title: str, standard: set[str]) -> set[str]:
    """The namespaces an Update Metadata dialog offers, once the standard ones are among them."""
    def listed() -> set[str] | None:
        modal = d.modal(title)
        if modal is None:
            return None
        labels = modal.find_elements(d.by().CSS_SELECTOR, "li.level-0 span[ng-bind='::item.label']")
        found = {label.get_attribute("textContent").strip() for label in labels}
        return found if found >= standard else None
    return wait_for(f"the standard namespaces in {title!r}", listed, 30)


def _floating(conn: Any, server_id: str) -> str | None:
    ports = [p.id for p in conn.network.ports(device_id=server_id)]
    ips = [ip.floating_ip_address for ip in conn.network.ips() if ip.port_id in ports]
    return ips[0] if ips else None

