"""The host-wide names of one deployment, all derived from its `name`.

Two deployments share one host: its /etc/hosts, clouds.yaml, nftables, firewalld, NFS exports,
Open vSwitch and libvirt. Whatever hotstack writes there carries the deployment's name, so a
second deployment never overwrites the first's entries and its `clean` leaves them alone. The
default deployment (`hotstack`) keeps the names it always had, so existing clouds, their
clouds.yaml users and their guests are unchanged.
"""

from __future__ import annotations

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
