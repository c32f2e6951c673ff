"""Where hotstack keeps things: one explicit object, no globals, so tests can point it anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA_MARKER = ".hotstack-data"  # in data_dir: hotstack made this directory, for this deployment


def template_root() -> Path:
    """The directory holding compose/, configs/ and systemd/ (inside the wheel, or the checkout)."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_data"
    return packaged if (packaged / "configs").is_dir() else package.parent


@dataclass(frozen=True)
class Paths:
    data_dir: Path
    rendered_override: Path | None = None  # `render --output DIR`
    # Where the openstack client looks for clouds.yaml system-wide; hotstack merges its entries in.
    system_clouds_yaml: Path = Path("/etc/openstack/clouds.yaml")
    # The host's resolvers, which dnsmasq forwards to (render/upstream.py): the first file that
    # names a server a container can reach (systemd-resolved's own list behind its 127.0.0.53 stub).
    resolv_confs: tuple[Path, ...] = (Path("/etc/resolv.conf"), Path("/run/systemd/resolve/resolv.conf"))

    @property
    def marker(self) -> Path:
        """Names the deployment that owns data_dir (core/datadir.py writes and checks it)."""
        return self.data_dir / DATA_MARKER

    @property
    def rendered(self) -> Path:
        """Rendered configs and the compose file (mounted read-only into the containers)."""
        return self.rendered_override or self.data_dir / "config"

    @property
    def compose_file(self) -> Path:
        return self.rendered / "podman-compose.yml"

    @property
    def secrets_file(self) -> Path:
        return self.data_dir / "secrets.yaml"

    @property
    def state(self) -> Path:
        """hotstack's own bookkeeping: job records, hashes, the podman override."""
        return self.data_dir / "state"

    @property
    def container_ids(self) -> Path:
        """Container name → podman id, written by `up` for hotstack's exporter (monitoring)."""
        return self.state / "monitoring" / "container-ids.json"

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def cache(self) -> Path:
        return self.data_dir / "cache"

    @property
    def guest_image(self) -> Path:
        """hotstack's own guest disk (built by `guest-image`, uploaded by post-setup)."""
        return self.data_dir / "images" / "hotstack-guest.img"

    @property
    def guest_cache(self) -> Path:
        return self.cache / "guest"

    @property
    def cloud_image_cache(self) -> Path:
        """Downloaded cloud images (cloud_images entries with a URL), one directory per image."""
        return self.cache / "cloud-images"

    @property
    def clouds_yaml(self) -> Path:
        return self.data_dir / "clouds.yaml"

    def service_data(self, name: str) -> Path:
        """Persistent data of one service (mysql/, rabbitmq/, ovn/, ...)."""
        return self.data_dir / name

    @property
    def nova_instances(self) -> Path:
        # Same path inside nova-compute and on the host: libvirt reads it on the host.
        return self.data_dir / "nova-instances"

    @property
    def nova_mnt(self) -> Path:
        # NFS mount base; identical inside and outside the containers for the same reason.
        return self.data_dir / "nova-mnt"

    @property
    def cinder_nfs(self) -> Path:
        """The directory exported (or bind-mounted, in local mode) as cinder's NFS share."""
        return self.data_dir / "cinder-nfs"

    @property
    def pki(self) -> Path:
        """The deployment's certificate authority and the certificates it issued (core/pki.py)."""
        return self.data_dir / "pki"

    @property
    def ssh_trust(self) -> Path:
        """The deployment's SSH keys for cold migration, and node one's folder of them (core/sshtrust.py)."""
        return self.pki / "ssh"

    @property
    def nodes(self) -> Path:
        """The state of the nodes that run on this machine, one directory each (catalog/node.py)."""
        return self.data_dir / "nodes"

    def own_entries(self) -> frozenset[str]:
        """The top-level names hotstack itself makes under data_dir (the services' data volumes
        add theirs: catalog.data_entries)."""
        made = (self.marker, self.data_dir / "config", self.secrets_file, self.state, self.logs, self.cache,
                self.guest_image, self.clouds_yaml, self.nova_instances, self.nova_mnt, self.cinder_nfs,
                self.pki, self.nodes)
        return frozenset(p.relative_to(self.data_dir).parts[0] for p in made)
