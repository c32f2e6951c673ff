"""One typed settings object, merged from defaults, a YAML file, HOTSTACK_* variables and flags.

Everything is validated before anything else runs; the first problem becomes one BadInput
naming the key, the offending value and the rule.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError

from hotstack.core import settings_file
from hotstack.core import settings_rules as rules
from hotstack.core.errors import BadInput
from hotstack.core.settings_cloud import (
    DEFAULT_FLAVORS,
    SMOKE_FLAVOR,
    CloudImages,
    Flavors,
    QuotaSettings,
)
from hotstack.core.settings_cloud import Section as _Section
from hotstack.core.settings_tenants import Tenants, problems

DEFAULT_CONFIG = Path("/etc/hotstack/hotstack.yaml")
ENV_PREFIX = "HOTSTACK_"
ENV_CONFIG = "HOTSTACK_CONFIG"  # names the config file; not a settings key
RELEASE = "2025.1"  # OpenStack "Epoxy": the one home of the release string (images, jobs, labels)
RELEASES = (RELEASE,)

MIN_FLOATING_POOL = 8  # post-setup's floating-IP pool runs from brex_ip + 1 to the last host address
# Lists and mappings of entries: written in the file only (a flavor name holds dots, and one
# HOTSTACK_* variable or --set flag cannot say a whole entry).
FILE_ONLY = ("flavors", "cloud_images", "tenants")


def _name(max_len: int) -> AfterValidator:
    return AfterValidator(rules.name_of(max_len))


IfName = Annotated[str, AfterValidator(rules.ifname)]
Port = Annotated[int, Field(ge=1, le=65535)]
Cidr = Annotated[IPv4Network, BeforeValidator(rules.cidr)]

class NetworkSettings(_Section):
    container_cidr: Cidr = IPv4Network("172.31.0.0/25")
    provider_cidr: Cidr = IPv4Network("172.31.0.128/25")
    brex_ip: IPv4Address = IPv4Address("172.31.0.129")
    mtu: Annotated[int, Field(ge=1280, le=9000)] = 1500
    int_bridge: IfName = "hot-int"
    ex_bridge: IfName = "hot-ex"
    physnet: Annotated[str, _name(64)] = "provider"  # neutron's physical_network column is 64 wide
    podman_network: Annotated[str, _name(63)] = "hotstack"
    domain: Annotated[str, AfterValidator(rules.domain)] = "hotstack-os.local"
    tenant_cidr: Cidr = IPv4Network("192.168.100.0/24")  # the `private` network post-setup makes
    masquerade: bool = True  # forward and masquerade provider_cidr out of the default route's interface
    tun_bridge: IfName = "hot-tun"  # the underlay bridge to nodes in pods (docs/nodes.md)


class NodesSettings(_Section):
    """More than one node (docs/nodes.md): where nodes reach the control plane, the pods' underlay."""

    control_address: IPv4Address | None = None  # None: brex_ip (nodes on this machine reach it)
    underlay_cidr: Cidr = IPv4Network("172.31.1.0/26")  # the host takes the first address, pods the next
    # Each node's sshd for cold migration and resize (nova copies a guest's disks over SSH), on
    # the node's own address; node one's on its migration address.
    ssh_port: Port = 8022


class PortSettings(_Section):
    """Frontends haproxy (and dnsmasq) publish on brex_ip."""

    keystone: Port = 5000
    glance: Port = 9292
    placement: Port = 8778
    nova: Port = 8774
    nova_metadata: Port = 8775
    neutron: Port = 9696
    cinder: Port = 8776
    heat: Port = 8004
    heat_cfn: Port = 8000
    novnc: Port = 6080
    haproxy_stats: Port = 8404
    horizon: Port = 8080  # the dashboard at its own port
    http: Port = 80  # plain-HTTP names without a port: http://dashboard.<domain>/
    prometheus: Port = 9090  # monitoring: Prometheus's web UI and API (http://prometheus.<domain>:9090/)
    alertmanager: Port = 9093  # monitoring: Alertmanager's UI and API
    dns: Port = 53


class KeystoneSettings(_Section):
    # bcrypt's cost (2^N rounds) for every password keystone hashes. hotstack's passwords are
    # 32 random hex characters (128 bits): a cost factor adds nothing against guessing them,
    # and at keystone's 12 each sign-in costs ~0.26 CPU-s (docs/up.md). Raise it for users
    # with chosen passwords.
    password_hash_rounds: Annotated[int, Field(ge=4, le=31)] = 4


class NovaSettings(_Section):
    virt_type: Literal["auto", "kvm", "qemu"] = "auto"
    # A host name label.
    host: Annotated[str, _name(63)] = Field(default_factory=lambda: socket.gethostname().split(".")[0] or "hotstack")


class CinderSettings(_Section):
    nfs_mode: Literal["auto", "nfs", "local"] = "auto"


class HorizonSettings(_Section):
    enabled: bool = True  # the dashboard; false leaves it out of every rendered file


class MonitoringSettings(_Section):
    # Prometheus, Alertmanager and the exporters (docs/monitoring.md); false leaves them out of
    # every rendered file and the image build.
    enabled: bool = False


class ImageSettings(_Section):
    base: Literal["auto", "pull", "debootstrap"] = "auto"
    mirror: Annotated[str, Field(max_length=rules.MAX_URL, pattern=r"^(https?|file)://\S+$")] = \
        "http://deb.debian.org/debian"
    parallel: Annotated[int, Field(ge=1, le=16)] = 2


class GuestSettings(_Section):
    # A readable local image file (checked at load time); None (or "") builds hotstack's own.
    image: Annotated[str | None, BeforeValidator(rules.guest_image)] = None


class Settings(_Section):
    name: Annotated[str, _name(63)] = "hotstack"  # this deployment's name: its containers are <name>-<service>
    data_dir: Annotated[Path, AfterValidator(rules.data_dir)] = Path("/var/lib/hotstack-os")
    region: Annotated[str, _name(255)] = "RegionOne"  # keystone's region id is 255 wide
    release: Annotated[Literal[RELEASES], BeforeValidator(rules.release)] = RELEASE  # type: ignore[valid-type]
    debug: bool = False
    network: NetworkSettings = NetworkSettings()
    ports: PortSettings = PortSettings()
    keystone: KeystoneSettings = KeystoneSettings()
    nova: NovaSettings = NovaSettings()
    cinder: CinderSettings = CinderSettings()
    quotas: QuotaSettings = QuotaSettings()
    flavors: Flavors = Field(default_factory=lambda: dict(DEFAULT_FLAVORS))
    cloud_images: CloudImages = Field(default_factory=list)  # images by name, beside hotstack-guest
    tenants: Tenants = Field(default_factory=list)  # projects with users, quotas, a network (settings_tenants.py)
    horizon: HorizonSettings = HorizonSettings()
    nodes: NodesSettings = NodesSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    images: ImageSettings = ImageSettings()
    guest: GuestSettings = GuestSettings()


def load(
    config_file: Path | None = None,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge every source (lowest first) and validate; raises BadInput on the first problem."""
    environ = os.environ if environ is None else environ
    explicit = config_file is not None or ENV_CONFIG in environ
    path = config_file or Path(environ.get(ENV_CONFIG, str(DEFAULT_CONFIG)))
    data = settings_file.read(path, required=explicit)
    settings_file.check_types(data, Settings, path)  # the file's YAML types; env and flags are strings
    for key, value in _env_items(environ):
        _set_dotted(data, key, value, source=f"environment variable {_env_name(key)}")
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, source="--set")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise _bad_input(exc, path) from None
    check_consistency(settings)
    return settings


def check_consistency(s: Settings) -> None:
    """Rules that relate several keys to each other."""
    net = s.network
    if net.container_cidr.overlaps(net.provider_cidr):
        _reject("network.provider_cidr", net.provider_cidr,
                f"must not overlap network.container_cidr {net.container_cidr}")
    if net.brex_ip not in net.provider_cidr:
        _reject("network.brex_ip", net.brex_ip, f"must lie inside network.provider_cidr {net.provider_cidr}")
    if net.brex_ip in (net.provider_cidr.network_address, net.provider_cidr.broadcast_address):
        _reject("network.brex_ip", net.brex_ip, "must be a host address, not the network or broadcast address")
    for other in ("container_cidr", "provider_cidr"):
        if net.tenant_cidr.overlaps(getattr(net, other)):
            _reject("network.tenant_cidr", net.tenant_cidr, f"must not overlap network.{other} {getattr(net, other)}")
    # The catalog's fixed address slots and the one-shot job containers need a /26.
    if net.container_cidr.prefixlen > 26:
        _reject("network.container_cidr", net.container_cidr, "must have room for 62 hosts (prefix /26 or shorter)")
    if net.provider_cidr.prefixlen > 28:
        _reject("network.provider_cidr", net.provider_cidr,
                "must have room for at least 14 hosts (prefix /28 or shorter)")
    pool = int(net.provider_cidr.broadcast_address) - 1 - int(net.brex_ip)
    if pool < MIN_FLOATING_POOL:
        _reject("network.brex_ip", net.brex_ip,
                f"leaves {pool} addresses above it in network.provider_cidr {net.provider_cidr}; the floating-IP "
                f"pool (brex_ip + 1 to the last host address) needs at least {MIN_FLOATING_POOL}: use a lower address")
    if SMOKE_FLAVOR not in s.flavors:
        _reject("flavors", "{...}", f"must hold {SMOKE_FLAVOR} (the smoke test boots it); add it back")
    if net.int_bridge == net.ex_bridge:
        _reject("network.ex_bridge", net.ex_bridge, "must differ from network.int_bridge")
    if net.tun_bridge in (net.int_bridge, net.ex_bridge):
        _reject("network.tun_bridge", net.tun_bridge, "must differ from network.int_bridge and network.ex_bridge")
    underlay = s.nodes.underlay_cidr
    for other in ("container_cidr", "provider_cidr", "tenant_cidr"):
        if underlay.overlaps(getattr(net, other)):
            _reject("nodes.underlay_cidr", underlay, f"must not overlap network.{other} {getattr(net, other)}")
    if underlay.prefixlen > 29:
        _reject("nodes.underlay_cidr", underlay, "must have room for the host and nodes (prefix /29 or shorter)")
    seen: dict[int, str] = {}
    for name, port in s.ports.model_dump().items():
        if port in seen:
            _reject(f"ports.{name}", port, f"must differ from ports.{seen[port]}")
        seen[port] = name
    networks = {f"network.{key}": getattr(net, key) for key in ("container_cidr", "provider_cidr", "tenant_cidr")}
    networks["nodes.underlay_cidr"] = s.nodes.underlay_cidr
    # hotstack's own router takes one address of the floating-IP pool for its gateway
    for problem in problems(s.name, s.tenants, s.quotas, networks, routers_room=pool - 1):
        _reject(*problem)


def dump(s: Settings) -> dict[str, Any]:
    """Settings as plain YAML/JSON-friendly data."""
    return s.model_dump(mode="json")


def _reject(key: str, value: object, rule: str) -> None:
    raise BadInput(f"setting {key} = {rules.shown(value)}: {rule}",
                   hint="fix it in the config file, the HOTSTACK_* variable or the --set flag")


def _env_items(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    items = []
    for name, value in sorted(environ.items()):
        if name.startswith(ENV_PREFIX) and name != ENV_CONFIG:
            items.append((name[len(ENV_PREFIX):].lower().replace("__", "."), value))
    return items


def _env_name(key: str) -> str:
    return ENV_PREFIX + key.upper().replace(".", "__")


def _set_dotted(data: dict[str, Any], key: str, value: str, *, source: str) -> None:
    parts = key.split(".")
    if not all(parts):
        raise BadInput(f"setting {rules.shown(key)} from {source}: must be a dotted key such as network.mtu")
    if parts[0] in FILE_ONLY:
        raise BadInput(f"setting {rules.shown(key)} from {source}: {parts[0]} is a set of entries, "
                       "written in the config file only", hint="set it in the config file (--config FILE)")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise BadInput(f"setting {rules.shown(key)} from {source}: {rules.shown(part)} is not a section")
        node = child
    node[parts[-1]] = value


def _bad_input(exc: ValidationError, path: Path) -> BadInput:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    rule = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        rule = "is not a known setting (see `hotstack config show` for every key)"
    elif err["type"] == "literal_error":
        rule = rule.replace("Input should be", "must be")
    value = err.get("input")
    shown = "(missing)" if err["type"] == "missing" else rules.shown(value if not isinstance(value, dict) else "{...}")
    more = len(exc.errors()) - 1
    suffix = f" ({more} more problem{'s' if more > 1 else ''} after this one)" if more else ""
    return BadInput(f"setting {key} = {shown}: {rule}{suffix}",
                    hint=f"fix it in {path}, the HOTSTACK_* variable or the --set flag")


def ip_in(cidr: IPv4Network, index: int) -> IPv4Address:
    """The index-th address of a network (negative counts from the broadcast address)."""
    base = cidr.broadcast_address if index < 0 else cidr.network_address
    return ipaddress.IPv4Address(int(base) + index)
