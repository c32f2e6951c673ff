"""The settings of tenants: projects post-setup makes beside hotstack's own, each with its users
(and their one role), its quotas (the deployment's `quotas`, key by key overridden) and, when
asked, a private network with a router to `public`.

Single-entry rules are attached to the fields; the rules that look at several tenants or at the
deployment's networks are `problems()`, which settings.check_consistency reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from hotstack.core import settings_rules as rules
from hotstack.core.scope import Scope
from hotstack.core.settings_cloud import INT32_MAX, QUOTA_MAX, QuotaSettings, Section

# Keystone's default roles (bootstrap makes them; admin implies member implies reader).
Role = Literal["admin", "member", "reader"]
# Projects and users hotstack makes itself: a tenant of that name would take theirs over.
RESERVED_PROJECTS = ("admin", "service", "hotstack")
RESERVED_USERS = ("admin", "hotstack", "heat_domain_admin", "cinder", "glance", "heat", "neutron", "nova",
                  "placement")
MAX_PREFIX = 29  # a tenant network holds the router's port, OVN's metadata port and a few guests
# What post-setup makes for a tenant's network, per neutron quota key: the network, its subnet
# and OVN's metadata port; with a router, the router and its interface port too.
NETWORK_NEEDS = {"networks": 1, "subnets": 1, "ports": 1}
ROUTER_NEEDS = {"routers": 1, "ports": 2}

OptCount = Annotated[int | None, Field(ge=-1, le=QUOTA_MAX)]  # None: the deployment's value
OptBig = Annotated[int | None, Field(ge=-1, le=INT32_MAX)]


def _not_reserved(reserved: tuple[str, ...], what: str) -> AfterValidator:
    def rule(value: str) -> str:
        if value in reserved:
            raise ValueError(f"is a {what} hotstack makes itself (reserved: {', '.join(reserved)})")
        return value
    return AfterValidator(rule)


class TenantQuotas(Section):
    """The keys of `quotas`; an unset one takes the deployment's value (tested to stay in step)."""

    instances: OptCount = None
    cores: OptCount = None
    ram_mb: OptBig = None
    key_pairs: OptCount = None
    server_groups: OptCount = None
    server_group_members: OptCount = None
    networks: OptCount = None
    subnets: OptCount = None
    ports: OptCount = None
    routers: OptCount = None
    floating_ips: OptCount = None
    security_groups: OptCount = None
    security_group_rules: OptCount = None
    volumes: OptCount = None
    snapshots: OptCount = None
    gigabytes: OptBig = None
    per_volume_gigabytes: OptBig = None


class TenantUser(Section):
    # keystone's user name column is 255 wide
    name: Annotated[str, AfterValidator(rules.name_of(255)), _not_reserved(RESERVED_USERS, "user")]
    role: Role = "member"


class TenantNetwork(Section):
    """The tenant's own `private` network and subnet, routed to `public` by its `router`."""

    cidr: Annotated[IPv4Network, BeforeValidator(rules.cidr)]
    router: bool = True


def _unique(what: str, where: str = "") -> AfterValidator:
    """A list's entries have distinct names; the message names the first listed twice."""
    def check(entries: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for entry in entries:
            if entry.name in seen:
                raise ValueError(f"{what} name {rules.shown(entry.name)} is listed twice{where}")
            seen.add(entry.name)
        return entries
    return AfterValidator(check)


class Tenant(Section):
    # keystone's project name column is 64 wide
    name: Annotated[str, AfterValidator(rules.name_of(64)), _not_reserved(RESERVED_PROJECTS, "project")]
    description: Annotated[str, Field(max_length=255)] = ""
    users: Annotated[list[TenantUser], _unique("user", " in this tenant")] = Field(default_factory=list)
    quotas: TenantQuotas = TenantQuotas()
    network: TenantNetwork | None = None


Tenants = Annotated[list[Tenant], _unique("tenant")]


def quotas_of(tenant: Tenant, base: QuotaSettings) -> QuotaSettings:
    """The tenant's quotas: the deployment's, with the tenant's own keys in their place."""
    return base.model_copy(update=tenant.quotas.model_dump(exclude_none=True))


def cloud_names(name: str, tenants: list[Tenant]) -> dict[tuple[str, str], str]:
    """(tenant, user) -> its clouds.yaml entry."""
    scope = Scope(name)
    return {(t.name, u.name): scope.tenant_cloud(t.name, u.name) for t in tenants for u in t.users}


Problem = tuple[str, object, str]  # key, value, rule


def problems(name: str, tenants: list[Tenant], base: QuotaSettings,
             networks: dict[str, IPv4Network], routers_room: int) -> Iterator[Problem]:
    """Every rule across tenants: networks that overlap (the deployment's `networks`, by key, or
    another tenant's), quotas too small for what post-setup makes, clouds.yaml names that clash,
    more routers than the floating-IP pool has addresses for their gateways."""
    for i, tenant in enumerate(tenants):
        key = f"tenants.{i}"
        if tenant.network is not None:
            yield from _network_problems(key, tenant.network.cidr, networks)
            networks = {**networks, f"{key}.network.cidr": tenant.network.cidr}
            yield from _quota_problems(key, tenant, quotas_of(tenant, base))
    yield from _cloud_name_problems(name, tenants)
    routers = sum(1 for t in tenants if t.network is not None and t.network.router)
    if routers > routers_room:
        yield ("tenants", "[...]", f"ask for {routers} routers; the floating-IP pool of network.provider_cidr has "
                                   f"{routers_room} addresses left for router gateways beside hotstack's own")


def _network_problems(key: str, cidr: IPv4Network, others: dict[str, IPv4Network]) -> Iterator[Problem]:
    if cidr.prefixlen > MAX_PREFIX:
        yield (f"{key}.network.cidr", cidr, f"must have room for a router, DHCP and guests (prefix /{MAX_PREFIX} "
                                            "or shorter)")
    for other_key, other in others.items():
        if cidr.overlaps(other):
            yield (f"{key}.network.cidr", cidr, f"must not overlap {other_key} {other}")


def _quota_problems(key: str, tenant: Tenant, quotas: QuotaSettings) -> Iterator[Problem]:
    needs = NETWORK_NEEDS | (ROUTER_NEEDS if tenant.network is not None and tenant.network.router else {})
    for quota, need in needs.items():
        have = getattr(quotas, quota)
        if have != -1 and have < need:
            yield (f"{key}.quotas.{quota}", have, f"must be at least {need} (or -1, unlimited): what "
                                                  "post-setup makes for the tenant's network counts against it")


def _cloud_name_problems(name: str, tenants: list[Tenant]) -> Iterator[Problem]:
    scope = Scope(name)
    taken = {scope.admin_cloud: "the admin's clouds.yaml entry", scope.user_cloud: "the hotstack user's entry"}
    for i, tenant in enumerate(tenants):
        for j, user in enumerate(tenant.users):
            cloud = scope.tenant_cloud(tenant.name, user.name)
            if cloud in taken:
                yield (f"tenants.{i}.users.{j}.name", user.name,
                       f"makes the clouds.yaml entry {cloud}, the same as {taken[cloud]}: choose another name")
            taken[cloud] = f"tenant {tenant.name}'s user {user.name}"
