"""Post-setup: what a fresh cloud needs before anyone can boot a VM on it, made idempotently
through openstacksdk — every `ensure_*` looks first and changes only what differs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hotstack.cloud.glance import ensure_image
from hotstack.cloud.outcome import Outcome
from hotstack.core.credentials import USER_NAME, USER_PROJECT
from hotstack.core.settings import Settings, ip_in
from hotstack.core.settings_cloud import GUEST_IMAGE, CloudImage, Flavor, QuotaSettings

Progress = Callable[[str], None]

PUBLIC_NET, PUBLIC_SUBNET = "public", "public-subnet"
PRIVATE_NET, PRIVATE_SUBNET, ROUTER = "private", "private-subnet", "router"

GUEST_PROPERTIES = {"hw_disk_bus": "virtio", "hw_vif_model": "virtio", "os_distro": "hotstack-guest"}


def ensure_project_and_user(admin: Any, password: str) -> list[Outcome]:
    ident = admin.identity
    out = []
    project = ident.find_project(USER_PROJECT, domain_id="default")
    if project is None:
        project = ident.create_project(name=USER_PROJECT, domain_id="default",
                                       description="hotstack's own project (smoke tests, examples)")
        out.append(Outcome(f"project {USER_PROJECT}", "created"))
    user = ident.find_user(USER_NAME, domain_id="default")
    if user is None:
        user = ident.create_user(name=USER_NAME, password=password, domain_id="default",
                                 default_project_id=project.id)
        out.append(Outcome(f"user {USER_NAME}", "created"))
    elif not password_works(admin, user.id, password):
        # The secrets file is the source of truth: a restored data dir must keep working. Only
        # then: keystone revokes every token of a user whose password is set, even to the same
        # value, so setting it on each run broke every client of the user's cloud entry.
        ident.update_user(user, password=password)
        out.append(Outcome(f"password of {USER_NAME}", "updated"))
    for role_name in ("member", "reader"):
        role = ident.find_role(role_name)
        if role is not None and not ident.validate_user_has_project_role(project, user, role):
            ident.assign_project_role_to_user(project, user, role)
            out.append(Outcome(f"role {role_name} for {USER_NAME}", "created"))
    return out


def password_works(admin: Any, user_id: str, password: str) -> bool:
    """Does keystone accept this password for the user (an unscoped token request)?"""
    body = {"auth": {"identity": {"methods": ["password"],
                                  "password": {"user": {"id": user_id, "password": password}}}}}
    return bool(admin.identity.post("/auth/tokens", json=body, raise_exc=False).status_code == 201)


def ensure_flavors(admin: Any, flavors: Mapping[str, Flavor]) -> list[Outcome]:
    """Every flavor of the settings, public; others (a user's, a dropped setting's) are left alone."""
    out = []
    for name, want in flavors.items():
        flavor = admin.compute.find_flavor(name, ignore_missing=True)
        if flavor and (flavor.vcpus, flavor.ram, flavor.disk) == (want.vcpus, want.ram_mb, want.disk_gb):
            continue
        if flavor:
            admin.compute.delete_flavor(flavor)  # flavors are immutable: replace a drifted one
        admin.compute.create_flavor(name=name, vcpus=want.vcpus, ram=want.ram_mb, disk=want.disk_gb, is_public=True)
        out.append(Outcome(f"flavor {name}", "updated" if flavor else "created"))
    return out


def ensure_public_network(admin: Any, s: Settings) -> list[Outcome]:
    # by its external flag too: the admin sees every project's networks, and a tenant may name one `public`
    net, out = next(iter(admin.network.networks(name=PUBLIC_NET, is_router_external=True)), None), []
    if net is None:
        net = admin.network.create_network(
            name=PUBLIC_NET, is_router_external=True, is_shared=False,
            provider_network_type="flat", provider_physical_network=s.network.physnet)
        out.append(Outcome(f"network {PUBLIC_NET}", "created"))
    if admin.network.find_subnet(PUBLIC_SUBNET, network_id=net.id) is None:
        cidr = s.network.provider_cidr
        # brex_ip is the gateway (the host); the pool is everything above it.
        start, end = s.network.brex_ip + 1, ip_in(cidr, -1) - 1
        admin.network.create_subnet(
            name=PUBLIC_SUBNET, network_id=net.id, ip_version=4, cidr=str(cidr), gateway_ip=str(s.network.brex_ip),
            is_dhcp_enabled=False, allocation_pools=[{"start": str(start), "end": str(end)}])
        out.append(Outcome(f"subnet {PUBLIC_SUBNET} {cidr}", "created"))
    return out


def ensure_private_network(user: Any, s: Settings) -> list[Outcome]:
    out = []
    net = user.network.find_network(PRIVATE_NET)
    if net is None:
        net = user.network.create_network(name=PRIVATE_NET)
        out.append(Outcome(f"network {PRIVATE_NET}", "created"))
    subnet = user.network.find_subnet(PRIVATE_SUBNET, network_id=net.id)
    if subnet is None:
        subnet = user.network.create_subnet(name=PRIVATE_SUBNET, network_id=net.id, ip_version=4,
                                            cidr=str(s.network.tenant_cidr), is_dhcp_enabled=True)
        out.append(Outcome(f"subnet {PRIVATE_SUBNET} {s.network.tenant_cidr}", "created"))
    router = user.network.find_router(ROUTER)
    public = user.network.find_network(PUBLIC_NET)
    if router is None:
        router = user.network.create_router(name=ROUTER, external_gateway_info={"network_id": public.id})
        out.append(Outcome(f"router {ROUTER}", "created"))
    ports = user.network.ports(device_id=router.id, network_id=net.id)
    if not any(True for _ in ports):
        user.network.add_interface_to_router(router, subnet_id=subnet.id)
        out.append(Outcome(f"router interface on {PRIVATE_SUBNET}", "created"))
    return out


def ensure_security_rules(user: Any, project_id: str) -> list[Outcome]:
    group = next(iter(user.network.security_groups(name="default", project_id=project_id)), None)
    if group is None:
        group = user.network.find_security_group("default")
    wanted = [("icmp", None, None), ("tcp", 22, 22)]
    have = {(r.protocol, r.port_range_min, r.port_range_max)
            for r in user.network.security_group_rules(security_group_id=group.id, direction="ingress")
            if r.ether_type == "IPv4" and r.remote_ip_prefix in ("0.0.0.0/0", None) and r.remote_group_id is None}
    out = []
    for proto, low, high in wanted:
        if (proto, low, high) not in have:
            user.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", ether_type="IPv4", protocol=proto,
                port_range_min=low, port_range_max=high, remote_ip_prefix="0.0.0.0/0")
            out.append(Outcome(f"security rule {proto} {low or ''}".rstrip(), "created"))
    return out


# service -> {settings key: the attribute of openstacksdk's quota resource}
QUOTA_KEYS: dict[str, dict[str, str]] = {
    "compute": {"instances": "instances", "cores": "cores", "ram_mb": "ram", "key_pairs": "key_pairs",
                "server_groups": "server_groups", "server_group_members": "server_group_members"},
    "network": {k: k for k in ("networks", "subnets", "ports", "routers", "floating_ips", "security_groups",
                               "security_group_rules")},
    "volume": {k: k for k in ("volumes", "snapshots", "gigabytes", "per_volume_gigabytes")},
}


def quota_drift(current: Any, q: QuotaSettings, kind: str) -> dict[str, int]:
    """The attributes of one service's quota set that differ from the settings, with the wanted value."""
    wanted = {attr: getattr(q, key) for key, attr in QUOTA_KEYS[kind].items()}
    return {attr: value for attr, value in wanted.items() if getattr(current, attr, None) != value}


def ensure_quotas(admin: Any, quotas: QuotaSettings, project_id: str, label: str = "") -> list[Outcome]:
    """One project's quotas in nova, neutron and cinder; `label` leads each outcome's thing."""
    getters = {"compute": admin.compute.get_quota_set, "volume": admin.block_storage.get_quota_set,
               "network": admin.network.get_quota}
    setters = {"compute": admin.compute.update_quota_set, "volume": admin.block_storage.update_quota_set,
               "network": admin.network.update_quota}
    out = []
    for kind in QUOTA_KEYS:
        current = getters[kind](project_id)
        drift = quota_drift(current, quotas, kind)
        if drift:
            setters[kind](current, **drift)  # only what differs
            out.append(Outcome(f"{label}{kind} quotas ({', '.join(sorted(drift))})", "updated"))
    return out


def ensure_guest_image(admin: Any, image_file: Path, disk_format: str) -> list[Outcome]:
    return ensure_image(admin, GUEST_IMAGE, image_file, disk_format, "bare", GUEST_PROPERTIES)


def ensure_cloud_images(admin: Any, images: Sequence[tuple[CloudImage, Path]]) -> list[Outcome]:
    """Every cloud_images entry, from its local file (downloads.image_file found or fetched it)."""
    out: list[Outcome] = []
    for image, path in images:
        out += ensure_image(admin, image.name, path, image.disk_format, image.container_format, image.properties)
    return out


def reported(progress: Progress, label: str, outcomes: list[Outcome]) -> list[Outcome]:
    """One step's line of progress; its outcomes, for the report."""
    progress(f"{label}: " + (", ".join(f"{o.thing} {o.action}" for o in outcomes) or "unchanged"))
    return outcomes


def setup_cloud(admin: Any, user_conn: Callable[[], Any], s: Settings, user_password: str,
                guest: tuple[Path, str] | None, progress: Progress,
                images: Sequence[tuple[CloudImage, Path]] = ()) -> list[Outcome]:
    """Run every ensure step in order; `user_conn` connects as the hotstack user once it exists."""
    out: list[Outcome] = []

    def step(label: str, outcomes: list[Outcome]) -> None:
        out.extend(reported(progress, label, outcomes))

    step("project", ensure_project_and_user(admin, user_password))
    project_id = admin.identity.find_project(USER_PROJECT, domain_id="default").id
    step("flavors", ensure_flavors(admin, s.flavors))
    step("public network", ensure_public_network(admin, s))
    step("quotas", ensure_quotas(admin, s.quotas, project_id))
    user = user_conn()
    step("private network", ensure_private_network(user, s))
    step("security group", ensure_security_rules(user, project_id))
    if guest is not None:
        step("guest image", ensure_guest_image(admin, *guest))
    if images:
        step("cloud images", ensure_cloud_images(admin, images))
    return out
