"""A Heat stack of the shape HotStack scenarios build, on the e2e deployment: a server booted
from a volume made from an image, on a trunk's parent port with port security off and a VLAN
subport, its user data an `OS::Heat::CloudConfig`; a second server from an image with an extra
volume attached and `OS::Heat::MultipartMime` user data; both reached from the host by ping
on floating IPs. The guest prints the hash of the user data it read, so the test proves Heat's
rendering arrived byte for byte. Times go to tests/e2e/artifacts/scenario-stack.json."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import pytest
from e2efixtures import ARTIFACTS, Deployment

from hotstack.cloud.icmp import ping
from hotstack.cloud.post_setup import PRIVATE_NET, PUBLIC_NET
from hotstack.cloud.smoke import wait_for
from hotstack.core.credentials import connect
from hotstack.core.settings_cloud import GUEST_IMAGE, SMOKE_FLAVOR
from hotstack.guest.init import MARKER

pytestmark = [pytest.mark.e2e, pytest.mark.host]

STACK = "e2e-scenario"
VLAN_ID = 102
WRITTEN = "/etc/hotstack-scenario"  # a file the cloud-config asks for (the guest has no cloud-init)


def template() -> dict[str, Any]:
    port_off = {"network": {"get_resource": "vlan_net"}, "port_security_enabled": False}
    return {
        "heat_template_version": "2021-04-16",
        "parameters": {"image": {"type": "string"}, "flavor": {"type": "string"},
                       "private": {"type": "string"}, "public": {"type": "string"}},
        "resources": {
            "prefix": {"type": "OS::Heat::Value", "properties": {"type": "string", "value": STACK}},
            "cloud_config": {"type": "OS::Heat::CloudConfig", "properties": {"cloud_config": {
                "write_files": [{"path": WRITTEN, "content": "made by heat\n"}]}}},
            "parts": {"type": "OS::Heat::MultipartMime", "properties": {
                "parts": [{"config": {"get_resource": "cloud_config"}}]}},
            "vlan_net": {"type": "OS::Neutron::Net",
                         "properties": {"name": {"list_join": ["-", [{"get_attr": ["prefix", "value"]}, "vlan"]]}}},
            "vlan_subnet": {"type": "OS::Neutron::Subnet", "properties": {
                "network": {"get_resource": "vlan_net"}, "cidr": "192.168.203.0/24"}},
            "parent": {"type": "OS::Neutron::Port",
                       "properties": {"network": {"get_param": "private"}, "port_security_enabled": False}},
            "subport": {"type": "OS::Neutron::Port", "properties": port_off, "depends_on": ["vlan_subnet"]},
            "trunk": {"type": "OS::Neutron::Trunk", "properties": {
                "port": {"get_resource": "parent"},
                "sub_ports": [{"port": {"get_resource": "subport"}, "segmentation_type": "vlan",
                               "segmentation_id": VLAN_ID}]}},
            "boot_volume": {"type": "OS::Cinder::Volume",
                            "properties": {"image": {"get_param": "image"}, "size": 1}},
            "from_volume": {"type": "OS::Nova::Server", "depends_on": ["trunk"], "properties": {
                "flavor": {"get_param": "flavor"},
                "block_device_mapping_v2": [{"volume_id": {"get_resource": "boot_volume"}, "boot_index": 0,
                                             "delete_on_termination": False}],
                "networks": [{"port": {"get_resource": "parent"}}],
                "user_data_format": "RAW", "user_data": {"get_resource": "cloud_config"}}},
            "port2": {"type": "OS::Neutron::Port", "properties": {"network": {"get_param": "private"}}},
            "from_image": {"type": "OS::Nova::Server", "properties": {
                "image": {"get_param": "image"}, "flavor": {"get_param": "flavor"},
                "networks": [{"port": {"get_resource": "port2"}}],
                "user_data_format": "RAW", "user_data": {"get_resource": "parts"}}},
            "data_volume": {"type": "OS::Cinder::Volume", "properties": {"size": 1}},
            "attachment": {"type": "OS::Cinder::VolumeAttachment", "properties": {
                "instance_uuid": {"get_resource": "from_image"}, "volume_id": {"get_resource": "data_volume"}}},
            "fip1": {"type": "OS::Neutron::FloatingIP", "properties": {
                "floating_network": {"get_param": "public"}, "port_id": {"get_resource": "parent"}}},
            "fip2": {"type": "OS::Neutron::FloatingIP", "properties": {
                "floating_network": {"get_param": "public"}, "port_id": {"get_resource": "port2"}}},
        },
        "outputs": {
            "from_volume": {"value": {"get_resource": "from_volume"}},
            "from_image": {"value": {"get_resource": "from_image"}},
            "trunk": {"value": {"get_resource": "trunk"}},
            "parent": {"value": {"get_resource": "parent"}},
            "boot_volume": {"value": {"get_resource": "boot_volume"}},
            "data_volume": {"value": {"get_resource": "data_volume"}},
            "fip1": {"value": {"get_attr": ["fip1", "floating_ip_address"]}},
            "fip2": {"value": {"get_attr": ["fip2", "floating_ip_address"]}},
        },
    }


def _console(conn: Any, server_id: str) -> str:
    try:
        return str(conn.compute.get_server_console_output(server_id)["output"] or "")
    except Exception:  # the console RPC times out now and then; the caller polls
        return ""


def _line(conn: Any, server_id: str, prefix: str) -> str:
    lines = [ln.strip() for ln in _console(conn, server_id).splitlines() if ln.startswith(prefix)]
    return lines[-1] if lines else ""


def _user_data(admin: Any, server_id: str) -> bytes:
    """What nova holds as the server's user data (admins read it since microversion 2.3)."""
    server = admin.compute.get_server(server_id)
    assert server.user_data, f"nova holds no user data for {server_id}"
    return base64.b64decode(server.user_data)


def test_a_scenario_shaped_stack_boots_from_volume_on_a_trunk_and_answers(e2e: Deployment) -> None:
    conn = connect(e2e.settings, e2e.paths, as_user=True)
    admin = connect(e2e.settings, e2e.paths)
    orch, times = conn.orchestration, {}
    if (old := orch.find_stack(STACK)) is not None:  # an interrupted run's
        orch.delete_stack(old)
        orch.wait_for_delete(old, interval=2, wait=300)
    start = time.monotonic()
    stack = orch.create_stack(name=STACK, template=template(), parameters={
        "image": GUEST_IMAGE, "flavor": SMOKE_FLAVOR, "private": PRIVATE_NET, "public": PUBLIC_NET})
    try:
        stack = orch.wait_for_status(stack, "CREATE_COMPLETE", failures=["CREATE_FAILED"], interval=2, wait=600)
        times["create_complete_s"] = round(time.monotonic() - start, 1)
        out = {o["output_key"]: o["output_value"] for o in orch.get_stack(stack).outputs}

        # Boot from volume: no image on the server, its volume bootable and in use.
        bfv = conn.compute.get_server(out["from_volume"])
        assert not bfv.image.get("id"), f"server from a volume names an image: {bfv.image}"
        assert out["boot_volume"] in {v["id"] for v in bfv.attached_volumes}
        boot = conn.block_storage.get_volume(out["boot_volume"])
        assert boot.is_bootable and boot.status == "in-use"
        # The trunk: its parent is the server's port, port security off, the VLAN subport there.
        trunk = conn.network.get_trunk(out["trunk"])
        assert trunk.port_id == out["parent"]
        assert [s["segmentation_id"] for s in trunk.sub_ports] == [VLAN_ID]
        assert conn.network.get_port(out["parent"]).is_port_security_enabled is False
        wait_for("trunk ACTIVE", lambda: conn.network.get_trunk(out["trunk"]).status == "ACTIVE", 60)

        for key, first_line in (("from_volume", "#cloud-config"), ("from_image", "Content-Type: multipart/mixed")):
            server_id = out[key]
            sent = _user_data(admin, server_id)
            assert sent.decode().startswith(first_line), sent[:200]
            seen = wait_for(f"{key}: user data read", lambda sid=server_id: _line(conn, sid, "HOTSTACK-USER-DATA"),
                            240, 3)
            assert seen.split()[1] == hashlib.sha256(sent).hexdigest(), (seen, sent[:200])
            assert MARKER in _console(conn, server_id)
            times[f"{key}_user_data_s"] = round(time.monotonic() - start, 1)
        assert WRITTEN.encode() in _user_data(admin, out["from_volume"])
        # The extra volume is the second disk of the server from an image.
        wait_for("from_image sees vdb", lambda: "vdb" in _line(conn, out["from_image"], "HOTSTACK-DISKS"), 120, 2)

        for key in ("fip1", "fip2"):  # the first through no security group at all
            address = out[key]
            rtt = wait_for(f"ping {address}", lambda a=address: ping(a, timeout=1.0), 120, 0.5)
            times[f"{key}_ping_s"] = round(time.monotonic() - start, 1)
            times[f"{key}_rtt_ms"] = round(rtt * 1000, 1)
    finally:
        delete_start = time.monotonic()
        orch.delete_stack(stack)
        orch.wait_for_delete(stack, interval=2, wait=300)
        times["delete_s"] = round(time.monotonic() - delete_start, 1)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "scenario-stack.json").write_text(json.dumps(times, indent=2) + "\n")
        print(f"\nscenario stack: {times}")
