"""The host-wide names of one deployment, all derived from its `name`.

Two deployments share one host: its /etc/hosts, clouds.yaml, nftables, firewalld, NFS exports,
Open vSwitch and libvirt. Whatever hotstack writes there carries the deployment's name, so a
second deployment never overwrites the first's entries and its `clean` leaves them alone. The
default deployment (`hotstack`) keeps the names it always had, so existing clouds, their
clouds.yaml users and their guests are unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEFAULT = "hotstack"


@dataclass(frozen=True)
class Scope:
    name: str

    @property
    def default(self) -> bool:
        return self.name == DEFAULT

    def _named(self, default: str, other: str) -> str:
        return default if self.default else other

    @property
    def user_cloud(self) -> str:
        """clouds.yaml entry of the deployment's own user and project."""
        return self._named("hotstack-os", f"{self.name}-os")

    @property
    def admin_cloud(self) -> str:
        return self._named("hotstack-os-admin", f"{self.name}-os-admin")

    def tenant_cloud(self, tenant: str, user: str) -> str:
        """clouds.yaml entry of one user of a tenant declared in the settings."""
        return f"{self.name}-{tenant}-{user}"

    @property
    def hosts_block(self) -> str:
        """The word after BEGIN/END that marks this deployment's block in /etc/hosts."""
        return self._named("hotstack", f"hotstack:{self.name}")

    @property
    def exports_file(self) -> str:
        return self._named("hotstack.exports", f"hotstack-{self.name}.exports")

    @property
    def nft_table(self) -> str:
        return self._named("hotstack", f"hotstack-{self.name}")

    @property
    def instance_name_template(self) -> str:
        """nova's libvirt domain names: the host's one libvirt holds every deployment's guests."""
        return self._named("instance-%08x", f"{self.name}-%08x")

    @property
    def ovn_suffix(self) -> str:
        """Open vSwitch external_ids are host-wide: a second deployment's ovn-controller runs as a
        chassis of its own name and reads keys suffixed with it (`ovn-remote-<chassis>`, ...),
        OVN's way of running several controllers on one Open vSwitch."""
        return self._named("", f"-{self.chassis}")

    @property
    def chassis(self) -> str:
        """The OVN chassis name of a non-default deployment (the default keeps the system-id)."""
        return f"{self.name}-chassis"

    @property
    def _short(self) -> str:
        """A prefix for names with small limits (firewalld: 17 characters a zone, 18 a policy)."""
        name = self.name if len(self.name) <= 9 else hashlib.sha256(self.name.encode()).hexdigest()[:9]
        return f"hs-{name}"

    @property
    def container_zone(self) -> str:
        """firewalld zone of the container network."""
        return self._named("hotstack-os", f"{self._short}-os")

    @property
    def external_zone(self) -> str:
        """firewalld zone of the external bridge."""
        return self._named("hotstack-external", f"{self._short}-ext")

    @property
    def masquerade_policy(self) -> str:
        """firewalld policy: the provider network to the uplink's zone, masqueraded."""
        return self._named("hotstack-masq", f"{self._short}-masq")

    @property
    def nodes_zone(self) -> str:
        """firewalld zone of other machines' node addresses (what they reach on node one)."""
        return self._named("hotstack-nodes", f"{self._short}-nd")

    def firewalld_objects(self) -> tuple[tuple[str, str], ...]:
        """Every firewalld object this deployment owns, as (kind, name), the policy first."""
        return (("policy", self.masquerade_policy), ("zone", self.container_zone), ("zone", self.external_zone),
                ("zone", self.nodes_zone))
