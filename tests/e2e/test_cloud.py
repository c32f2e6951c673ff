"""A whole cloud of its own (conftest.py: the e2e deployment), checked the way its users use it:
every API in the catalog, every service up, a killed container healed by the next `up` without
breaking the user's credentials, and the smoke test (server, console, ping, TCP, volume,
trunk, heat). Run with the rest of the suite (`python3 -m pytest -q`) or alone (`-m e2e`)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2efixtures import Deployment
from openstack.exceptions import ConflictException

from hotstack.cloud.smoke import run_smoke
from hotstack.containers import podman
from hotstack.containers.labels import SERVICE_LABEL, WORKDIR_LABEL
from hotstack.core import distro
from hotstack.core.credentials import connect
from hotstack.guest.init import REACH

pytestmark = [pytest.mark.e2e, pytest.mark.host]

SERVICE_TYPES = {"identity", "image", "placement", "compute", "network", "volumev3", "orchestration"}


def test_catalog_lists_every_api_through_haproxy(e2e: Deployment) -> None:
    conn = connect(e2e.settings, e2e.paths)
    services = {s.id: s.type for s in conn.identity.services()}
    found = {services[e.service_id] for e in conn.identity.endpoints() if e.interface == "public"}
    assert found >= SERVICE_TYPES
    assert all("hotstack-e2e.local" in e.url for e in conn.identity.endpoints())


def test_every_service_is_up(e2e: Deployment) -> None:
    conn = connect(e2e.settings, e2e.paths)
    assert all(s.state == "up" for s in conn.compute.services())
    assert {s.binary for s in conn.compute.services()} >= {"nova-conductor", "nova-scheduler", "nova-compute"}
    assert all(a.is_alive for a in conn.network.agents())
    assert all(s.state == "up" for s in conn.block_storage.services())
    status = e2e.hotstack("status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["ok"]


def test_glance_offers_the_standard_metadata_definitions(e2e: Deployment) -> None:
    """The dashboard's Update Metadata dialogs list these: loaded once by a one-shot job."""
    user = connect(e2e.settings, e2e.paths, as_user=True)
    found = {n["namespace"] for n in user.image.get("/metadefs/namespaces").json()["namespaces"]}
    assert {"OS::Compute::Libvirt", "OS::Compute::Quota", "OS::Compute::Hypervisor"} <= found


def test_a_killed_container_is_healed_and_the_users_token_survives(e2e: Deployment) -> None:
    """kill -9 of one container; the next `up` starts it again alone (podman saw it exit), runs
    post-setup again, and the user's token from before stays valid (post-setup once reset the
    password each run)."""
    user = connect(e2e.settings, e2e.paths, as_user=True)
    token = user.auth_token
    podman.run(["kill", "--signal", "KILL", "e2e-nova-scheduler"])
    up = e2e.hotstack("up", "--json", artifact="up-after-kill")
    assert up.returncode == 0, up.stdout + up.stderr
    actions = {name: s["action"] for name, s in json.loads(up.stdout)["services"].items()}
    assert actions["nova-scheduler"] == "started"
    assert {a for name, a in actions.items() if name != "nova-scheduler"} == {"kept"}
    admin = connect(e2e.settings, e2e.paths)
    check = admin.identity.head("/auth/tokens", headers={"X-Subject-Token": token}, raise_exc=False)
    assert check.status_code == 200
    assert list(user.network.networks(name="private"))  # the user's calls keep working


def _other_deployments_on_this_host(e2e: Deployment) -> list[str]:
    """The data dirs of other hotstack deployments whose ovn-controller runs here: the host daemons
    serve them too, so they stay up. A deployment that is down (its bridges left in OVS's
    database, as after a reboot) does not count."""
    listed = json.loads(podman.run(["ps", "--format", "json", "--filter",
                                    f"label={SERVICE_LABEL}=ovn-controller"]).stdout or "[]")
    workdirs = {(c.get("Labels") or {}).get(WORKDIR_LABEL, "?") for c in listed}
    return sorted(w for w in workdirs if not Path(w).is_relative_to(e2e.paths.data_dir))


def _project(admin: Any, name: str) -> Any:
    """A project of this name, made now or left by an interrupted run (or by the client's own
    retried POST)."""
    try:
        return admin.identity.create_project(name=name, domain_id="default")
    except ConflictException:
        return admin.identity.find_project(name, domain_id="default", ignore_missing=False)


def test_a_simulated_reboot_comes_back_with_one_up(e2e: Deployment) -> None:
    """Every container of the deployment killed (behind podman's back), its brex_ip gone and — where no other
    deployment shares them — the OVS and libvirt daemons stopped and /run/netns unmounted, as
    after a reboot; one `up` brings the cloud back with its data: a project, an image with its
    checksum, a volume and a network made before."""
    admin = connect(e2e.settings, e2e.paths)
    project = _project(admin, "e2e-reboot")
    network = admin.network.create_network(name="e2e-reboot", project_id=project.id)
    volume = admin.block_storage.create_volume(name="e2e-reboot", size=1)
    admin.block_storage.wait_for_status(volume, "available", wait=120)
    image = admin.image.find_image("hotstack-guest")
    try:
        names = [c for c in podman.run(["ps", "--format", "{{.Names}}"]).stdout.split() if c.startswith("e2e-")]
        # Killed behind podman's back, conmon too, as a crash or a killed session does: podman
        # goes on calling them running (its /run survives), and `up` must see through that.
        pids = podman.run(["inspect", "--format", "{{.State.ConmonPid}} {{.State.Pid}}", *names]).stdout.split()
        subprocess.run(["kill", "-KILL", *pids], capture_output=True)
        net = e2e.settings.network
        subprocess.run(["ip", "addr", "flush", "dev", net.ex_bridge], check=True)
        shared = _other_deployments_on_this_host(e2e)
        if not shared:  # CI's machine: this deployment is alone, so the host daemons go too
            subprocess.run([distro.OVS_CTL, "stop"], capture_output=True, timeout=60)
            subprocess.run(["pkill", "-x", "libvirtd"], capture_output=True)
            subprocess.run(["pkill", "-x", "virtlogd"], capture_output=True)
            subprocess.run(["umount", "/run/netns"], capture_output=True)
        print(f"\nsimulated reboot: {len(names)} containers killed; host daemons "
              + (f"kept (shared with {', '.join(shared)})" if shared else "stopped"))
        started = time.monotonic()
        up = e2e.hotstack("up", "--json", artifact="up-after-reboot")
        assert up.returncode == 0, up.stdout + up.stderr
        print(f"back after the reboot in {time.monotonic() - started:.1f} s")
        kept = [name for name, s in json.loads(up.stdout)["services"].items() if s["action"] == "kept"]
        assert not kept, f"kept although their processes were killed: {kept}"
        admin = connect(e2e.settings, e2e.paths)
        assert admin.identity.find_project("e2e-reboot", domain_id="default") is not None
        assert admin.network.find_network("e2e-reboot") is not None
        assert admin.block_storage.get_volume(volume.id).status == "available"
        after = admin.image.find_image("hotstack-guest")
        assert after.checksum == image.checksum and after.status == "active"
    finally:
        admin.block_storage.delete_volume(volume, ignore_missing=True)
        admin.network.delete_network(network, ignore_missing=True)
        admin.identity.delete_project(project, ignore_missing=True)


def test_ovs_vswitchd_killed_during_up_fails_it_and_the_next_up_heals(e2e: Deployment) -> None:
    """The dataplane dies while `up` works: that `up` fails naming ovs-vswitchd (it used to
    report all healthy), `status` is unhealthy, and the next `up` starts it again."""
    if shared := _other_deployments_on_this_host(e2e):
        pytest.skip(f"ovs-vswitchd serves another running deployment here ({', '.join(shared)}): not killed")
    podman.run(["kill", "--signal", "KILL", "e2e-nova-scheduler", "e2e-heat-engine"])  # work for `up`
    up = subprocess.Popen([sys.executable, "-m", "hotstack", "--config", str(e2e.config), "up", "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert up.stderr is not None
    seen = []  # its progress, until the containers start (the host stage, which would start OVS, is past)
    for line in up.stderr:
        seen.append(line)
        if "nova-scheduler: starting" in line:
            break
    subprocess.run(["pkill", "-9", "-x", "ovs-vswitchd"], check=True)
    out, err = up.communicate(timeout=600)
    err = "".join(seen) + err
    assert up.returncode == 1 and "ovs-vswitchd" in json.loads(out)["error"], out + err
    assert e2e.hotstack("status", "--json").returncode == 1
    healed = e2e.hotstack("up", "--json", artifact="up-after-vswitchd")
    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert e2e.hotstack("status", "--json").returncode == 0


OUTSIDE_NS, OUTSIDE_HOST, OUTSIDE_PEER = "hs-e2e-outside", "10.250.77.1", "10.250.77.2"
OUTSIDE_PORT, OUTSIDE_GREETING = 7777, "HOTSTACK-OUTSIDE hello"


@pytest.fixture
def outside(e2e: Deployment) -> Iterator[str]:
    """A stand-in for the LAN: a namespace of the test's own behind a veth pair from the host,
    routing back to the provider network, with a TCP server that greets every connection."""
    subprocess.run(["ip", "netns", "del", OUTSIDE_NS], capture_output=True)
    subprocess.run(["ip", "link", "del", "e2eout0"], capture_output=True)
    run = lambda *argv: subprocess.run(argv, check=True, capture_output=True)  # noqa: E731
    run("ip", "netns", "add", OUTSIDE_NS)
    server = None
    try:
        run("ip", "link", "add", "e2eout0", "type", "veth", "peer", "name", "e2eout1", "netns", OUTSIDE_NS)
        run("ip", "addr", "add", f"{OUTSIDE_HOST}/30", "dev", "e2eout0")
        run("ip", "link", "set", "e2eout0", "up")
        ns = ("ip", "netns", "exec", OUTSIDE_NS)
        run(*ns, "ip", "addr", "add", f"{OUTSIDE_PEER}/30", "dev", "e2eout1")
        run(*ns, "ip", "link", "set", "e2eout1", "up")
        run(*ns, "ip", "link", "set", "lo", "up")
        run(*ns, "ip", "route", "add", str(e2e.settings.network.provider_cidr), "via", OUTSIDE_HOST)
        greeter = (f"import socket\ns = socket.create_server(('{OUTSIDE_PEER}', {OUTSIDE_PORT}))\ns.settimeout(600)\n"
                   f"while True:\n    c, _ = s.accept()\n    c.sendall(b'{OUTSIDE_GREETING}\\n')\n    c.close()\n")
        server = subprocess.Popen([*ns, sys.executable, "-c", greeter])
        yield OUTSIDE_PEER
    finally:
        if server is not None:
            server.kill()
        subprocess.run(["ip", "link", "del", "e2eout0"], capture_output=True)
        subprocess.run(["ip", "netns", "del", OUTSIDE_NS], capture_output=True)


def test_a_guest_reaches_beyond_the_host(e2e: Deployment, outside: str) -> None:
    """A guest on the private network (SNAT through its router onto the provider network) reaches
    an address beyond the host — the test's stand-in for the LAN — by ping and by TCP: the
    host forwards the provider network. (Masquerading out of the default route is proven in
    tests/integration/test_host_nat.py: traffic here must not leave the machine.)"""
    conn = connect(e2e.settings, e2e.paths, as_user=True)
    server = conn.create_server("e2e-reach", image="hotstack-guest", flavor="hotstack.tiny", network="private",
                                userdata=f"{REACH} {outside} {OUTSIDE_PORT}\n", wait=True, timeout=180)
    try:
        deadline, log = time.monotonic() + 180, ""
        while time.monotonic() < deadline and "HOTSTACK-REACH tcp" not in log:
            time.sleep(3)
            log = str(conn.compute.get_server_console_output(server)["output"] or "")
        assert f"HOTSTACK-REACH ping ok {outside} try " in log, log[-2000:]
        assert f"HOTSTACK-REACH tcp ok {outside}:{OUTSIDE_PORT} {OUTSIDE_GREETING}" in log, log[-2000:]
    finally:
        # By id: given the server object, the cloud layer finds nothing and returns False.
        assert conn.delete_server(server.id, wait=True, timeout=120)


def test_smoke_passes(e2e: Deployment) -> None:
    report = run_smoke(connect(e2e.settings, e2e.paths, as_user=True), print)
    assert report.ok, report.to_json()
    assert set(report.steps) == {"server", "console", "ping", "tcp", "volume", "trunk", "heat"}
    assert "HOTSTACK-METADATA ok" in report.steps["console"].detail
