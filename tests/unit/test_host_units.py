"""Pure pieces of host preparation: parsers, renderers and decisions."""

from __future__ import annotations

import re
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path

from hotstack import catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import firewall, firewalld, fwpolicy, hosts, listeners, net, netns, nfs
from hotstack.host.system import Host

MOUNTINFO = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
43 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw
50 27 0:40 / /sys/fs/cgroup rw - tmpfs tmpfs rw
51 50 0:41 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
52 50 0:42 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
60 27 254:0 /data /mnt/x rw - ext4 /dev/vda rw
"""


def test_mount_propagation() -> None:
    assert netns.mount_propagation(MOUNTINFO, Path("/run/netns")) == "shared"
    assert netns.mount_propagation(MOUNTINFO, Path("/mnt/x")) == "private"
    assert netns.mount_propagation(MOUNTINFO, Path("/nowhere")) is None


def test_hosts_block_replaces_only_its_lines(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    block = hosts.block(cat)
    begin, end = hosts.markers("hotstack")
    assert block[0] == begin and block[-1] == end
    assert "172.31.0.129\tkeystone.hotstack-os.local" in block
    text = "127.0.0.1 localhost\n" + "\n".join([begin, "1.2.3.4 old", end]) + "\n::1 ip6\n"
    outside, current = hosts.split(text, "hotstack")
    assert outside == ["127.0.0.1 localhost", "::1 ip6"] and current is not None and len(current) == 3
    assert hosts.split("127.0.0.1 localhost\n", "hotstack") == (["127.0.0.1 localhost"], None)


def test_two_deployments_keep_their_own_hosts_blocks(settings: Settings, paths: Paths, tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 localhost\n")
    other = settings.model_copy(update={"name": "e2e"})
    first, second = (hosts.HostsBlock(catalog.build(s, paths), path) for s in (settings, other))
    first.apply()
    second.apply()
    text = path.read_text()
    assert "# BEGIN hotstack (" in text and "# BEGIN hotstack:e2e (" in text
    assert not first.check() and not second.check()
    second.remove()  # the second deployment's clean leaves the first's block whole
    assert not first.check() and "hotstack:e2e" not in path.read_text()


def test_hosts_step_on_a_file(settings: Settings, paths: Paths, tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 localhost\n")
    step = hosts.HostsBlock(catalog.build(settings, paths), path)
    assert step.check()
    step.apply()
    assert step.check() == []
    assert path.read_text().startswith("127.0.0.1 localhost\n# BEGIN hotstack")
    assert step.remove() and path.read_text() == "127.0.0.1 localhost\n"


def test_collisions(settings: Settings) -> None:
    addrs = [net.Addr("eth0", IPv4Interface("192.0.2.2/24")), net.Addr("lo", IPv4Interface("127.0.0.1/8")),
             net.Addr("hot-ex", IPv4Interface("172.31.0.129/25")),
             net.Addr("podman3", IPv4Interface("172.31.0.1/25"))]
    routes = [net.Route("podman3", IPv4Network("172.31.0.0/25")), net.Route("hot-ex", IPv4Network("172.31.0.128/25"))]
    assert net.collisions(settings, addrs, routes) == []  # hotstack's own state
    bad = net.collisions(settings, [*addrs, net.Addr("wg0", IPv4Interface("172.31.0.129/32"))],
                         [*routes, net.Route("wg0", IPv4Network("172.16.0.0/12"))])
    assert ("network.brex_ip", "172.31.0.129 is already on wg0") in bad
    assert any(k == "network.container_cidr" and "via wg0" in w for k, w in bad)


def test_firewall_ruleset(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    text = firewall.ruleset(cat)
    assert text.startswith("table inet hotstack\ndelete table inet hotstack\n")
    assert "policy accept" in text and "flush ruleset" not in text
    assert firewall.api_ports(cat) == sorted(firewall.api_ports(cat))
    assert {5000, 8404, 8775} <= set(firewall.api_ports(cat))
    assert firewall.list_argv(Host(netns="ns1"), firewall.table(cat)) == [
        "ip", "netns", "exec", "ns1", "nft", "-j", "list", "table", "inet", "hotstack"]


def _expand(spec: str) -> set[int]:
    first, _, last = spec.partition("-")
    return set(range(int(first), int(last or first) + 1))


def nft_opens(rules: list[str], container_cidr: str) -> set[tuple[str, str, int]]:
    """(scope, proto, port) every accept rule of the nft table opens: scope `all` or `containers`."""
    opened = set()
    for rule in rules:
        found = re.fullmatch(r"(ip saddr (\S+) )?(?:(tcp|udp) dport|meta l4proto \{? ?([a-z, ]+?) ?\}? th dport) "
                             r"\{? ?([0-9, -]+?) ?\}? accept", rule)
        if not found:
            continue
        assert found[2] in (None, container_cidr), rule
        scope = "containers" if found[2] else "all"
        protos = [found[3]] if found[3] else found[4].split(", ")
        opened |= {(scope, proto, port) for proto in protos for spec in found[5].split(", ")
                   for port in _expand(spec)}
    return opened


def firewalld_opens(cat: catalog.Catalog, nfs_server: bool) -> set[tuple[str, str, int]]:
    """The same triples from the ports of firewalld's two zones."""
    def ports(zone: str) -> set[tuple[str, int]]:
        return {(spec.split("/")[1], port) for spec in firewalld.wanted_ports(cat, zone, nfs_server)
                for port in _expand(spec.split("/")[0])}
    everywhere = ports("hotstack-external")
    assert everywhere <= ports("hotstack-os")
    return ({("all", *p) for p in everywhere}
            | {("containers", *p) for p in ports("hotstack-os") - everywhere})


def test_both_firewall_backends_open_the_same_policy(settings: Settings, paths: Paths) -> None:
    """nftables and firewalld render one policy: published ports everywhere, host ports (VNC,
    NFS in nfs mode) from the container network only — port by port, the same set."""
    cat = catalog.build(settings, paths)
    cidr = str(settings.network.container_cidr)
    for nfs_server in (False, True):
        nft = nft_opens(firewall.rules(cat, nfs_server), cidr)
        nft_all = {(proto, port) for scope, proto, port in nft if scope == "all"}
        # A port both open to everyone and from the containers is firewalld's `all` alone.
        nft = {t for t in nft if t[0] == "all" or (t[1], t[2]) not in nft_all}
        assert nft == firewalld_opens(cat, nfs_server)
        assert {("all", "tcp", 5000), ("all", "udp", 53), ("all", "tcp", 8404), ("containers", "tcp", 5900)} <= nft
        assert (("containers", "tcp", 2049) in nft) is nfs_server
        assert not any(port == 2049 and scope == "all" for scope, _, port in nft)
    published = {f"{host}/{proto}" for svc in cat for host, _, proto in cat.published(svc)}
    assert published == set(firewalld.wanted_ports(cat, "hotstack-external"))


def test_nfs_mode(settings: Settings, paths: Paths, tmp_path: Path) -> None:
    (tmp_path / "filesystems").write_text("nodev\tproc\n\text4\n")
    assert nfs.choose_mode(settings, Host(proc=tmp_path))[0] == "local"
    local = settings.model_copy(update={"cinder": settings.cinder.model_copy(update={"nfs_mode": "nfs"})})
    assert nfs.choose_mode(local, Host(proc=tmp_path)) == ("nfs", "set by cinder.nfs_mode")
    assert nfs.exports_line(settings, paths).startswith(f"{paths.cinder_nfs} 172.31.0.0/25(rw,")


def test_listeners_parse() -> None:
    tcp = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
           "   0: 81001FAC:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 1234 1\n"
           "   1: 0100007F:0016 0100007F:9999 01 00000000:00000000 00:00000000 00000000  0  0 99 1\n")
    found = listeners.parse(tcp, "tcp")
    assert [(str(f.address), f.port, f.inode) for f in found] == [("172.31.0.129", 5000, 1234)]
    assert listeners.on("172.31.0.129", 5000, "tcp", found) == found
    assert listeners.on("172.31.0.130", 5000, "tcp", found) == []


def test_masquerade_only_out_of_another_interface(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    masq = fwpolicy.masquerade(cat, "eth0")
    assert masq == fwpolicy.Masquerade(IPv4Network("172.31.0.128/25"), "eth0")
    assert 'ip saddr 172.31.0.128/25 oifname "eth0" masquerade' in firewall.ruleset(cat, masq=masq)
    assert fwpolicy.masquerade(cat, "hot-ex") is None and fwpolicy.masquerade(cat, None) is None
    assert "postrouting" not in firewall.ruleset(cat)
    off = settings.model_copy(update={"network": settings.network.model_copy(update={"masquerade": False})})
    assert fwpolicy.masquerade(catalog.build(off, paths), "eth0") is None


def test_a_second_deployment_names_every_host_wide_thing_its_own(settings: Settings, paths: Paths) -> None:
    """Default names unchanged; another deployment's differ in every host-wide place, and fit
    their limits (firewalld: 17 characters a zone, 18 a policy; nft and clouds.yaml: any)."""
    from hotstack.core.scope import Scope
    from hotstack.host import firewall

    default, other, long = Scope("hotstack"), Scope("e2e"), Scope("a-very-long-deployment-name")
    assert (default.user_cloud, default.admin_cloud, default.nft_table, default.container_zone,
            default.external_zone, default.exports_file) == (
        "hotstack-os", "hotstack-os-admin", "hotstack", "hotstack-os", "hotstack-external", "hotstack.exports")
    fields = ("user_cloud", "admin_cloud", "hosts_block", "exports_file", "nft_table", "instance_name_template",
              "container_zone", "external_zone", "masquerade_policy", "ovn_suffix")
    assert all(getattr(default, f) != getattr(other, f) for f in fields)
    for scope in (other, long):
        assert len(scope.container_zone) <= 17 and len(scope.external_zone) <= 17
        assert len(scope.masquerade_policy) <= 18
    e2e = catalog.build(settings.model_copy(update={"name": "e2e"}), paths)
    assert firewall.table(e2e) == ("inet", "hotstack-e2e")
    assert "-n e2e-chassis " in " ".join(e2e["ovn-controller"].command)
    assert e2e["neutron-ovn-metadata-agent"].command[:2] == ("python3", "/usr/local/bin/hotstack-metadata-agent")
