"""The settings of what post-setup makes inside the cloud: flavors, the hotstack project's
quotas and images by name — with the base every settings section shares.

The defaults follow upstream HotStack-OS, so HotStack scenarios find the flavors and the room
they expect; `hotstack.tiny` is hotstack's own (the smoke and e2e tests boot it).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from hotstack.core import settings_rules as rules

QUOTA_MAX = 1_000_000  # a count of instances, ports, ...; ram_mb and gigabytes may reach int32
INT32_MAX = 2**31 - 1  # what nova's and cinder's quota columns (and nova's flavor columns) hold
SMOKE_FLAVOR = "hotstack.tiny"  # the smoke test boots it, so every flavor set must hold it
GUEST_IMAGE = "hotstack-guest"  # hotstack's own test image (guest.image), never a cloud image

Count = Annotated[int, Field(ge=-1, le=QUOTA_MAX)]  # -1: unlimited
Big = Annotated[int, Field(ge=-1, le=INT32_MAX)]


class Section(BaseModel):
    """A settings section: unknown keys refused, frozen, defaults validated too."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Flavor(Section):
    # nova's own bounds; disk 0 is nova's "the image's size" (boot from volume)
    vcpus: Annotated[int, Field(ge=1, le=INT32_MAX)]
    ram_mb: Annotated[int, Field(ge=1, le=INT32_MAX)]
    disk_gb: Annotated[int, Field(ge=0, le=INT32_MAX)]


def _flavor(vcpus: int, ram_mb: int, disk_gb: int) -> Flavor:
    return Flavor(vcpus=vcpus, ram_mb=ram_mb, disk_gb=disk_gb)


DEFAULT_FLAVORS: dict[str, Flavor] = {
    SMOKE_FLAVOR: _flavor(1, 192, 1),
    "hotstack.small": _flavor(1, 2048, 20),
    "hotstack.medium": _flavor(2, 4096, 40),
    "hotstack.mlarge": _flavor(2, 6144, 40),
    "hotstack.large": _flavor(4, 8192, 80),
    "hotstack.xlarge": _flavor(8, 16384, 160),
    "hotstack.xxlarge": _flavor(12, 32768, 160),
    "hotstack.xxxlarge": _flavor(12, 49152, 160),
}

# name -> sizes; nova's flavor name column is 255 wide
Flavors = Annotated[dict[str, Flavor], AfterValidator(rules.keys_named(255, "flavor name"))]


class QuotaSettings(Section):
    """The hotstack project's quotas (and every project's defaults in nova, neutron, cinder)."""

    # compute
    instances: Count = 20
    cores: Count = 40
    ram_mb: Big = 102400
    key_pairs: Count = 10
    server_groups: Count = 10
    server_group_members: Count = 10
    # network
    networks: Count = 20
    subnets: Count = 20
    ports: Count = 100
    routers: Count = 10
    floating_ips: Count = 20
    security_groups: Count = 20
    security_group_rules: Count = 100
    # block storage
    volumes: Count = 20
    snapshots: Count = 20
    gigabytes: Big = 1000
    per_volume_gigabytes: Big = 500


# glance's own lists (its default disk_formats and container_formats options)
DiskFormat = Literal["qcow2", "raw", "vmdk", "vdi", "vhd", "vhdx", "iso", "ploop", "aki", "ari", "ami"]
ContainerFormat = Literal["bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed"]
PropertyValue = Annotated[str, BeforeValidator(rules.glance_property_value)]
Properties = Annotated[dict[str, PropertyValue], AfterValidator(rules.glance_property_names)]


class CloudImage(Section):
    """An image uploaded by name: a local file or a download (cached under data_dir)."""

    name: Annotated[str, AfterValidator(rules.name_of(255))]  # glance's name column is 255 wide
    source: Annotated[str, AfterValidator(rules.image_source)]
    disk_format: DiskFormat = "qcow2"
    container_format: ContainerFormat = "bare"
    properties: Properties = Field(default_factory=dict)  # glance properties, as strings
    sha256: Annotated[str | None, AfterValidator(rules.sha256_hex)] = None  # checked after a download
    size: Annotated[int | None, Field(ge=1, le=2**63 - 1)] = None  # bytes, checked after a download


CloudImages = Annotated[list[CloudImage], AfterValidator(rules.unique_images(GUEST_IMAGE))]
