"""The compute role renders per node from the same definitions; node one renders as before."""

from __future__ import annotations

import json
from pathlib import Path

from hotstack import catalog
from hotstack.catalog.node import Node, pod_node
from hotstack.catalog.services import MODULES, compute_role
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.render import configs as render
from hotstack.render.compose import service_definition
from tests.unit import node_one_render

ROLE = ("ovn-controller", "nova-compute", "neutron-ovn-metadata-agent")  # modules order


def test_node_one_renders_exactly_what_the_first_host_rendered(tmp_path: Path) -> None:
    """Every rendered file of two fixed deployments, digest for digest, as recorded before nodes."""
    recorded = json.loads(node_one_render.RECORDED.read_text())
    now = node_one_render.all_digests(tmp_path)
    changed = {name: sorted(f for f in {*recorded[name], *now[name]} if recorded[name].get(f) != now[name].get(f))
               for name in recorded}
    assert now == recorded, (f"rendered files changed: {changed}; if meant, run "
                             "`python3 tests/unit/node_one_render.py` and say so in the commit")


def _settings(tmp_path: Path) -> tuple[Settings, Paths]:
    s = Settings.model_validate({"data_dir": str(tmp_path / "data"), "nova": {"host": "lab"},
                                 "cinder": {"nfs_mode": "local"}})
    return s, Paths(s.data_dir)


def test_node_one_role_is_the_catalogs_own(tmp_path: Path) -> None:
    s, p = _settings(tmp_path)
    cat = catalog.build(s, p)
    role = compute_role(s, p, Node.first(s))
    assert [svc.name for svc in role] == list(ROLE)
    assert all(cat[svc.name] == svc for svc in role)


def test_no_module_lists_a_role_service_among_its_control_services(tmp_path: Path) -> None:
    s, p = _settings(tmp_path)
    c = catalog.services.common.Ctx(s, p)
    control = [svc.name for mod in MODULES for svc in mod.services(c)]
    assert not set(control) & set(ROLE)
    names = [svc.name for svc in catalog.build(s, p)]
    assert len(names) == len(set(names))


def test_a_pod_node_gets_its_own_names_paths_and_network(tmp_path: Path) -> None:
    s, p = _settings(tmp_path)
    node = pod_node(s, p, "compute-2", "172.31.1.2", "/run/netns/hotstack-compute-2")
    role = {svc.name: svc for svc in compute_role(s, p, node)}
    assert list(role) == [f"compute-2-{n}" for n in (*ROLE[:2], "nova-ssh", ROLE[2])], "sshd: other nodes exist"
    compute = role["compute-2-nova-compute"]
    assert compute.container == "hotstack-compute-2-nova-compute"
    # only its own controller: the control plane is reached, not started, on a node
    assert compute.depends_on == ("compute-2-ovn-controller",)
    assert role["compute-2-ovn-controller"].depends_on == ()
    assert compute.probe.node_host == "compute-2" and role["compute-2-ovn-controller"].probe.binary == "compute-2"
    mounts = {v.target: v.source for v in compute.volumes}
    node_dir = p.data_dir / "nodes" / "compute-2"
    # the instances path is the same string on every node (live migration keeps disk paths)
    assert mounts[str(p.nova_instances)] == str(node_dir / "nova-instances")
    assert mounts["/var/lib/nova"] == str(node_dir / "nova")
    assert mounts["/run/libvirt"] == "/run/hotstack/hotstack-compute-2/libvirt"
    agent = role["compute-2-neutron-ovn-metadata-agent"]
    assert {v.target: v.source for v in agent.volumes}["/run/netns"] == "/run/hotstack/hotstack-compute-2/netns"
    assert agent.command[0] == "neutron-ovn-metadata-agent"  # its own OVS: no shim naming a chassis
    cat = catalog.Catalog(s, p, role, node=node)
    definition = service_definition(cat, compute, "img", "")
    assert definition["network_mode"] == "ns:/run/netns/hotstack-compute-2"
    assert definition["container_name"] == "hotstack-compute-2-nova-compute"


def test_a_node_s_nova_and_neutron_conf_name_it_and_hold_no_database(tmp_path: Path) -> None:
    """The role's templates ask the node context; a node other than node one gets no DB URL."""
    s, p = _settings(tmp_path)
    node = pod_node(s, p, "compute-2", "172.31.1.2", "/run/netns/hotstack-compute-2")
    cat = catalog.build(s, p)
    secrets = {n: "x" for n in catalog.secret_names(cat)}
    ctx = {**render.context(cat, secrets), "node": node}
    env = render.environment()
    nova = env.get_template("configs/nova/nova.conf.j2").render(ctx)
    neutron = env.get_template("configs/neutron/neutron.conf.j2").render(ctx)
    agent = env.get_template("configs/neutron/neutron_ovn_metadata_agent.ini.j2").render(ctx)
    assert "host = compute-2\nmy_ip = 172.31.1.2\n" in nova
    assert "server_listen = 172.31.1.2\nserver_proxyclient_address = 172.31.1.2\n" in nova
    assert "host = compute-2\n" in agent
    for text in (nova, neutron):
        assert "[database]" not in text and "mysql+pymysql" not in text
    first = env.get_template("configs/nova/nova.conf.j2").render(render.context(cat, secrets))
    assert "[api_database]" in first and "host = lab\n" in first
