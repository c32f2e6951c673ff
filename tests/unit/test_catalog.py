"""The catalog is one consistent graph: every rule the compose file and haproxy rely on."""

from __future__ import annotations

from collections import Counter

import pytest

from hotstack import catalog
from hotstack.catalog import Catalog, Service
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, load
from hotstack.render.compose import published

REQUIRED = {
    "mariadb", "rabbitmq", "memcached", "dnsmasq", "haproxy", "keystone", "glance", "placement",
    "nova-api", "nova-metadata", "nova-conductor", "nova-scheduler", "nova-compute", "nova-novncproxy",
    "ovn-nb-db", "ovn-sb-db", "ovn-northd", "ovn-controller", "neutron-server",
    "neutron-ovn-metadata-agent", "cinder-api", "cinder-scheduler", "cinder-volume", "heat-api", "heat-api-cfn",
    "heat-engine", "horizon",
}


@pytest.fixture
def cat(settings: Settings, paths: Paths) -> Catalog:
    return catalog.build(settings, paths)


def test_every_required_service_is_there(cat: Catalog) -> None:
    assert set(cat.services) == REQUIRED


def test_horizon_is_on_by_default_and_waits_for_keystone_and_memcached_only(cat: Catalog) -> None:
    horizon = cat["horizon"]
    assert horizon.profile == "horizon" and set(horizon.depends_on) == {"keystone", "memcached"}
    assert not [s.name for s in cat if "horizon" in s.depends_on]  # only the end of `up` waits for it
    assert (horizon.probe.kind, horizon.probe.path, horizon.probe.statuses) == ("http", "/auth/login/", (200,))
    assert horizon.probe.expect and horizon.probe.port == horizon.port
    assert horizon.endpoint is not None and horizon.endpoint.dns_name == f"dashboard.{cat.settings.network.domain}"


def test_horizon_can_be_switched_off(tmp_path, config_file) -> None:  # type: ignore[no-untyped-def]
    s = load(config_file, {"data_dir": str(tmp_path), "horizon.enabled": "false"}, environ={})
    cat = catalog.build(s, Paths(s.data_dir))
    assert "horizon" not in cat.services and set(cat.services) == REQUIRED - {"horizon"}
    assert "horizon_secret_key" not in catalog.secret_names(cat)


def test_every_dependency_exists_and_graph_is_acyclic(cat: Catalog) -> None:
    for svc in cat:
        assert set(svc.depends_on) <= set(cat.services), svc.name
    order = cat.order()
    assert sorted(order) == sorted(cat.services)
    for svc in cat:
        assert all(order.index(d) < order.index(svc.name) for d in svc.depends_on)


def test_a_cycle_is_reported(cat: Catalog) -> None:
    mariadb = cat["mariadb"]
    cat.services["mariadb"] = Service(**{**mariadb.__dict__, "depends_on": ("keystone",)})
    with pytest.raises(ValueError, match="dependency cycle"):
        cat.order()


def test_no_two_services_publish_the_same_host_port(cat: Catalog) -> None:
    ports = [spec.rsplit(":", 1)[0] + spec[spec.rfind("/"):] for svc in cat for spec in published(cat, svc)]
    dupes = [p for p, n in Counter(ports).items() if n > 1]
    assert not dupes
    assert all(p.startswith(f"{cat.settings.network.brex_ip}:") for p in ports)


def test_every_public_service_has_a_probe_and_a_dns_name(cat: Catalog) -> None:
    for svc, ep in cat.endpoints():
        assert svc.probe.kind
        assert ep.dns_name == f"{ep.catalog_name}.{cat.settings.network.domain}"


def test_addresses_are_unique_inside_the_container_network(cat: Catalog) -> None:
    bridged = [svc for svc in cat if not svc.host_network]
    ips = [cat.ip(s.name) for s in bridged]
    assert len(set(ips)) == len(ips)
    assert all(ip in cat.settings.network.container_cidr and ip != cat.gateway for ip in ips)


def test_compute_paths_are_identical_inside_and_outside(cat: Catalog) -> None:
    vols = {v.source: v.target for v in cat["nova-compute"].volumes}
    instances = str(cat.paths.nova_instances)
    assert vols[instances] == instances
    # cinder-volume sees the share where os-brick expects it mounted, under nova's mount base
    # (the host bind-mounts it at the same place for qemu); nova mounts it itself on attach.
    share = [v for v in cat["cinder-volume"].volumes if v.source == str(cat.paths.cinder_nfs)]
    assert share and share[0].target.startswith(str(cat.paths.nova_mnt) + "/")


def test_local_nfs_mode_gives_nova_a_bind_mounting_helper(cat: Catalog) -> None:
    compute = cat["nova-compute"]
    assert {c.target for c in compute.configs} >= {"/sbin/mount.nfs"}
    assert {v.source: v.target for v in compute.volumes}[str(cat.paths.cinder_nfs)] == str(cat.paths.cinder_nfs)


def test_each_database_has_one_owner(cat: Catalog) -> None:
    owners = Counter(db for svc in cat for db in svc.database)
    assert owners and all(n == 1 for n in owners.values())


def test_each_bridged_service_has_a_fixed_mac_of_its_own(cat: Catalog) -> None:
    from hotstack.render.compose import mac_for

    macs = [mac_for(cat.ip(s.name)) for s in cat if not s.host_network]
    assert len(set(macs)) == len(macs)
    assert all(m.startswith("02:00:") for m in macs)  # locally administered, unicast
    assert mac_for(cat.ip("keystone")) == mac_for(cat.ip("keystone"))


def test_every_compose_healthcheck_names_its_own_service(cat: Catalog) -> None:
    """A process check must be able to fail: it looks for the service's own program."""
    from hotstack.render.compose import healthcheck

    for svc in cat:
        command = healthcheck(svc, str(cat.ip(svc.name)))["test"][1]
        if "pgrep" in command:
            assert f"pgrep -f {svc.name} " in command, (svc.name, command)
        elif "/dev/tcp" in command:  # services listen on their container address, not loopback
            assert f"/dev/tcp/{cat.ip(svc.name)}/" in command, (svc.name, command)


def test_a_network_probe_reaches_the_service_at_its_slot_and_port(cat: Catalog) -> None:
    """The address slot and the port are written once: the probe derives from them."""
    for svc in cat:
        if svc.probe.host:
            assert svc.probe.host == str(cat.ip(svc.name)), svc.name
    assert (cat["mariadb"].probe.host, cat["mariadb"].probe.port) == (str(cat.ip("mariadb")), cat.port("mariadb"))
    assert cat["haproxy"].probe.port == cat.settings.ports.haproxy_stats


def test_haproxy_fronts_every_endpoint_and_the_metadata_api(cat: Catalog) -> None:
    fronted = [(svc.name, port) for svc, port in cat.frontends()]
    ports = cat.settings.ports
    assert ("nova-metadata", ports.nova_metadata) in fronted
    assert {("horizon", ports.http), ("horizon", ports.horizon)} <= set(fronted)  # by name and at its own port
    assert {svc.name for svc, _ in cat.endpoints()} < {name for name, _ in fronted}
    haproxy = [svc for svc in cat if svc.publishes_frontends]
    assert [s.name for s in haproxy] == ["haproxy"]
    assert {host for host, _, _ in cat.published(haproxy[0])} == {port for _, port in fronted} | {ports.haproxy_stats}


def test_each_database_user_is_its_project(cat: Catalog) -> None:
    assert {catalog.db_user(s) for s in cat if s.database} == {
        "keystone", "glance", "placement", "nova", "neutron", "cinder", "heat"}
    assert cat["neutron-ovn-metadata-agent"].project == "neutron" and cat["ovn-sb-db"].project == "ovn"
    assert "db_nova" in catalog.secret_names(cat) and "keystone_heat" in catalog.secret_names(cat)
