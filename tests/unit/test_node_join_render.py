"""A node's side, without a cloud: the control plane's catalog once a node is registered (the
southbound DB's TLS listener, the ports published to nodes, the guard's rule, node one's encap
IP), the bundle read back (bad bundles refused by key), and the compute role rendered from it
(the node's own RabbitMQ user, TLS to the southbound DB, no database URL, names at the control
address)."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

import pytest
import yaml

from hotstack import catalog
from hotstack.catalog.node import pod_node
from hotstack.commands.node_cmd import bundle_command
from hotstack.core.datadir import ensure_data_dir
from hotstack.core.errors import BadInput
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import node_guard
from hotstack.nodes import bundle as nodebundle
from hotstack.nodes.render import NodePaths, render_role
from hotstack.render import compose as render_compose


def test_a_registered_node_opens_the_control_plane_to_it_alone(settings: Settings) -> None:
    paths = Paths(settings.data_dir)
    plain = catalog.build(settings, paths)
    assert not plain.nodes and all(not svc.node_ports for svc in plain)
    assert "pssl" not in " ".join(plain["ovn-sb-db"].command) and plain.encap_ip == settings.network.brex_ip
    assert node_guard.guard_rules(plain) == []

    bundle_command(settings, "compute-2", None, None)
    cat = catalog.build(settings, paths)
    assert [e.name for e in cat.nodes] == ["compute-2"]
    script = cat["ovn-sb-db"].command[-1]
    assert "--remote=db:OVN_Southbound,SB_Global,connections" in script and "--ca-cert=/etc/ovn/pki/ca.crt" in script
    assert "set-connection role=ovn-controller pssl:6643:" in script
    assert {svc.name: svc.node_ports for svc in cat if svc.node_ports} == {
        "rabbitmq": (5672,), "ovn-sb-db": (6643,), "nova-ssh": (8022,)}
    ports = render_compose.published(cat, cat["rabbitmq"])
    assert ports == [f"{settings.network.brex_ip}:5672:5672/tcp"]
    assert render_compose.published(cat, cat["nova-ssh"]) == [], "on the host network: it listens itself"
    assert cat["nova-ssh"].probe.host == "172.31.1.1", "node one's sshd listens on the underlay alone"
    targets = " ".join(sorted([str(settings.network.brex_ip), "172.31.1.1"]))
    assert node_guard.guard_rules(cat) == [
        f'iifname != "lo" ip daddr {{ {targets.replace(" ", ", ")} }} tcp dport {{ 5672, 6643, 8022 }} '
        "ip saddr != 172.31.1.2 ct state new drop"]
    assert str(cat.encap_ip) == "172.31.1.1", "a pod node moves node one's tunnel endpoint onto the underlay"


def test_a_bundle_that_is_not_one_is_refused_by_key(tmp_path: Path) -> None:
    wrong = tmp_path / "b.hotstack-node"
    wrong.write_text(yaml.safe_dump({"hotstack_node_bundle": 1, "node": {}}))
    with pytest.raises(BadInput, match="key deployment is missing"):
        nodebundle.load(wrong)
    wrong.write_text("just: text\n")
    with pytest.raises(BadInput, match="key hotstack_node_bundle must be 1"):
        nodebundle.load(wrong)
    with pytest.raises(BadInput, match="no such file"):
        nodebundle.load(tmp_path / "missing")


def test_the_role_renders_from_the_bundle_with_the_node_s_own_credentials(settings: Settings, tmp_path: Path) -> None:
    made = bundle_command(settings, "compute-2", None, None)
    bundle = nodebundle.load(made.path)
    assert bundle.settings() == settings, "the node renders from the control plane's very settings"
    paths = Paths(settings.data_dir)
    node = pod_node(settings, paths, "compute-2", bundle.address, "/run/netns/hotstack-compute-2")
    node_paths = NodePaths(settings.data_dir, root=tmp_path / "node")
    role = render_role(bundle, node, node_paths, lambda image: f"localhost/hotstack/{image}:test")

    assert [svc.name for svc in role.role] == ["compute-2-ovn-controller", "compute-2-nova-compute",
                                               "compute-2-nova-ssh", "compute-2-neutron-ovn-metadata-agent"]
    user, password = bundle.rabbitmq
    nova = configparser.ConfigParser(interpolation=None, strict=False)
    nova.read(node_paths.rendered / "nova" / "nova.conf")
    assert nova["DEFAULT"]["transport_url"] == f"rabbit://{user}:{password}@{settings.network.brex_ip}:5672/"
    assert (nova["DEFAULT"]["host"], nova["DEFAULT"]["my_ip"]) == ("compute-2", "172.31.1.2")
    assert not nova.has_section("database") and not nova.has_section("api_database")
    agent = configparser.ConfigParser(interpolation=None, strict=False)
    agent.read(node_paths.rendered / "neutron" / "neutron_ovn_metadata_agent.ini")
    assert agent["ovn"]["ovn_sb_connection"] == f"ssl:{settings.network.brex_ip}:6643"
    assert agent["ovn"]["ovn_sb_certificate"] == "/etc/hotstack/node-pki/node.crt"
    assert agent["DEFAULT"]["nova_metadata_host"] == str(settings.network.brex_ip)

    written = json.loads(node_paths.compose_file.read_text())
    assert written["name"] == "hotstack-compute-2" and set(written["services"]) == {s.name for s in role.role}
    controller = written["services"]["compute-2-ovn-controller"]
    assert controller["network_mode"] == "ns:/run/netns/hotstack-compute-2"
    assert "-C /etc/hotstack/node-pki/ca.crt" in controller["command"][-1]
    *endpoints, own = controller["extra_hosts"]
    assert all(h.endswith(f":{settings.network.brex_ip}") for h in endpoints)
    # its hostname resolves in /etc/hosts (sudo asks the pod's DNS, and waits 20 s, otherwise)
    assert (controller["hostname"], own) == ("compute-2", "compute-2:172.31.1.2")
    rendered = "".join(p.read_text() for p in node_paths.rendered.rglob("*") if p.is_file())
    assert bundle.data["trust"]["key"] not in rendered, "the node's key is mounted, never rendered"
    assert bundle.data["trust"]["ssh_client_key"] not in rendered
    ssh_config = (node_paths.rendered / "nova" / "ssh_config").read_text()
    assert f"Host {settings.network.brex_ip}\n    HostName 172.31.1.1\n" in ssh_config, "node one: on the underlay"
    assert "Port 8022" in ssh_config and "StrictHostKeyChecking yes" in ssh_config
    assert "ListenAddress 172.31.1.2:8022" in (node_paths.rendered / "nova" / "sshd_config").read_text()


def test_another_machine_is_mapped_by_the_scheduler_and_admitted_by_address(settings: Settings,
                                                                              tmp_path: Path) -> None:
    from hotstack.commands import data
    from hotstack.render.configs import render

    paths = Paths(settings.data_dir, rendered_override=tmp_path / "out")
    data.ensure(settings, paths)
    render(catalog.build(settings, paths), lambda image: f"{image}:test")
    assert "discover_hosts_in_cells_interval = -1" in (tmp_path / "out" / "nova" / "nova.conf").read_text()
    made = bundle_command(settings, "lab-b", "10.0.0.12", None)
    assert made.kind == "machine"
    cat = catalog.build(settings, paths)
    render(cat, lambda image: f"{image}:test")
    assert "discover_hosts_in_cells_interval = 60" in (tmp_path / "out" / "nova" / "nova.conf").read_text()
    assert node_guard.guard_rules(cat)[0].endswith("ip saddr != 10.0.0.12 ct state new drop")
    assert cat.encap_ip == settings.network.brex_ip, "no pod node: node one keeps its tunnel endpoint"


def test_the_role_starts_in_waves_after_its_own_dependencies(settings: Settings) -> None:
    from hotstack.catalog.services import compute_role
    from hotstack.nodes.join import waves

    paths = Paths(settings.data_dir)
    node = pod_node(settings, paths, "compute-2", "172.31.1.2", "/run/netns/hotstack-compute-2")
    assert [[svc.name for svc in wave] for wave in waves(compute_role(settings, paths, node))] == [
        ["compute-2-ovn-controller", "compute-2-nova-ssh"],
        ["compute-2-nova-compute", "compute-2-neutron-ovn-metadata-agent"]]


def test_with_a_pod_node_both_sides_migrate_over_tls_with_a_pinned_machine_type(settings: Settings,
                                                                               tmp_path: Path) -> None:
    from hotstack.host.libvirt_listen import listen_conf
    from hotstack.host.node_pod import libvirt_run_argv
    from hotstack.nodes import pod as podnode
    from hotstack.render.configs import render

    made = bundle_command(settings, "compute-2", None, None)
    paths = Paths(settings.data_dir)
    cat = catalog.build(settings, paths)
    render(cat, lambda image: f"{image}:test")
    nova = configparser.ConfigParser(interpolation=None, strict=False)
    nova.read(paths.rendered / "nova" / "nova-compute.conf")
    one_pki = paths.pki / "server" / "node-one"
    assert nova["libvirt"]["live_migration_uri"] == f"qemu+tls://%s/system?pkipath={one_pki}"
    assert nova["libvirt"]["live_migration_inbound_addr"] == "172.31.1.1"
    assert nova["libvirt"]["hw_machine_type"] == "x86_64=pc-i440fx-7.2"
    assert {p.name for p in one_pki.iterdir()} >= {"cacert.pem", "clientcert.pem", "clientkey.pem"}

    node_paths = NodePaths(settings.data_dir, root=tmp_path / "node")
    node = pod_node(settings, paths, "compute-2", "172.31.1.2", "/run/netns/hotstack-compute-2")
    render_role(nodebundle.load(made.path), node, node_paths, lambda image: f"{image}:test")
    node_nova = configparser.ConfigParser(interpolation=None, strict=False)
    node_nova.read(node_paths.rendered / "nova" / "nova-compute.conf")
    assert node_nova["libvirt"]["live_migration_uri"].endswith("?pkipath=/etc/hotstack/node-pki")
    assert node_nova["libvirt"]["live_migration_inbound_addr"] == "172.31.1.2"

    argv = libvirt_run_argv(podnode.spec(cat, cat.nodes[0]))
    assert argv[-1].endswith("exec libvirtd --listen -f /etc/libvirt/hotstack-libvirtd.conf")
    conf = listen_conf("listen_tcp = 1\nlog_level = 3\n", "172.31.1.2", Path("/p"), "node.key", "node.crt")
    assert "log_level = 3" in conf and "listen_tcp = 1" not in conf and 'listen_addr = "172.31.1.2"' in conf


def test_adding_a_pod_node_recreates_only_what_serves_nodes(settings: Settings) -> None:
    """What `node add` restarts on the control plane: the listeners published to nodes and
    node one's compute side — not nova's API, conductor, scheduler or proxies."""
    from hotstack.render.configs import render

    paths = Paths(settings.data_dir)
    ensure_data_dir(paths, settings.name, set())
    before = render(catalog.build(settings, paths), lambda image: f"{image}:test").hashes
    bundle_command(settings, "compute-2", None, None)
    after = render(catalog.build(settings, paths), lambda image: f"{image}:test").hashes
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"rabbitmq", "ovn-sb-db", "nova-compute", "nova-ssh"}


def test_another_machine_reaches_node_one_s_listeners_and_the_share_from_its_address_alone(
        settings: Settings) -> None:
    """libvirtd's TLS and qemu's migration stream, node one's sshd, RabbitMQ and the southbound
    DB, and in `nfs` mode the NFS server and an export line: all for the machine's address only,
    in both firewall backends; a pod node adds none of it (the underlay is not filtered)."""
    from hotstack.catalog.services.cinder import nfs_share
    from hotstack.core.scope import Scope
    from hotstack.host import firewall, firewalld, nfs
    from hotstack.host.fwpolicy import machine_addresses

    paths = Paths(settings.data_dir)
    bundle_command(settings, "compute-2", None, None)  # a pod: nothing of the kind
    pods = catalog.build(settings, paths)
    assert machine_addresses(pods) == () and not any(o.sources for o in firewall.policy(pods, True))
    assert Scope(settings.name).nodes_zone not in firewalld.zones(pods)

    lan = settings.model_copy(update={"nodes": settings.nodes.model_copy(update={"control_address": "192.0.2.10"})})
    bundle_command(lan, "lab-b", "192.0.2.12", None)
    cat = catalog.build(lan, paths)
    rules = firewall.rules(cat, nfs_server=True)
    assert "ip saddr 192.0.2.12 tcp dport { 16514, 49152-49215, 5672, 6643, 8022 } accept" in rules
    assert "ip saddr 192.0.2.12 meta l4proto { tcp, udp } th dport { 111, 2049 } accept" in rules
    assert rules.index("ip saddr 192.0.2.12 meta l4proto { tcp, udp } th dport { 111, 2049 } accept") < rules.index(
        f"ip daddr {lan.network.brex_ip} ct state new drop")
    assert not any("111" in r for r in firewall.rules(cat, nfs_server=False) if "192.0.2.12" in r)

    zone = Scope(lan.name).nodes_zone
    assert firewalld.zones(cat)[zone] == ("sources", ("192.0.2.12",))
    assert firewalld.wanted_ports(cat, zone, nfs_server=True) == [
        "111/tcp", "111/udp", "16514/tcp", "2049/tcp", "2049/udp", "49152-49215/tcp", "5672/tcp", "6643/tcp",
        "8022/tcp"]
    assert "16514/tcp" not in firewalld.wanted_ports(cat, Scope(lan.name).external_zone, nfs_server=True)

    share = nfs_share(lan, paths)
    assert share == f"192.0.2.10:{paths.cinder_nfs}", "mounted at the control address by every node"
    line = nfs.exports_line(lan, paths, machine_addresses(cat))
    assert line.split()[1:] == [f"{lan.network.container_cidr}(rw,sync,no_subtree_check,no_root_squash)",
                                *(f"{h}/32(rw,sync,no_subtree_check,no_root_squash)"
                                  for h in (lan.network.brex_ip, "192.0.2.10", "192.0.2.12"))]
