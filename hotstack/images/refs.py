"""hotstack's container images: discovery, content-hash tags and build order.

Every directory ``compose/images/<name>/`` holding a ``Containerfile`` is an
image. The Containerfile's leading comment lines declare its place in the
tree (which images a deployment needs is the catalog's business: `up` and `build` ask
it)::

    # parent: openstack        (the hotstack image it is built FROM; default: base)

and it starts with ``ARG PARENT`` / ``FROM ${PARENT}``; hotstack passes the
parent's full tag as the build argument. ``base`` itself has no parent: it is
built FROM the Debian trixie root file system (``ARG ROOTFS``), see
:mod:`hotstack.images.base`. Every other ``ARG`` it declares after ``FROM`` is
filled in from the catalog and the settings (:func:`build_vars`): ``RELEASE``,
and ``UID_<USER>`` (the user's fixed uid, ``catalog.USERS``), so no uid is
written in a Containerfile.

Tags are ``<catalog.IMAGE_REPOSITORY>/<name>:<hash>``: 12 hex digits of a sha256
over the image directory (every file's relative path, exec bit and bytes), its
build variables, the parent's hash and the release: a changed uid rebuilds the
images that create that user. Computing one reads a few small files and never
calls podman, so renderers may call :func:`image_ref` freely.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from hotstack.catalog import IMAGE_REPOSITORY, USERS
from hotstack.core.errors import BadInput
from hotstack.core.paths import template_root
from hotstack.core.settings import RELEASE

REGISTRY = IMAGE_REPOSITORY
BASE = "base"
HASH_LEN = 12
PARENT_ARGS = ("PARENT", "ROOTFS")  # the FROM argument: the parent's tag, passed by the builder
_ARG = re.compile(r"^ARG\s+([A-Z][A-Z0-9_]*)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ImageSpec:
    name: str
    directory: Path
    parent: str | None  # None only for base
    args: tuple[str, ...] = ()  # the ARGs it declares besides its parent's (RELEASE, UID_<USER>)

    @property
    def containerfile(self) -> Path:
        return self.directory / "Containerfile"


def images_dir(root: Path | None = None) -> Path:
    return (root or template_root()) / "compose" / "images"


def parse_header(text: str) -> dict[str, str]:
    """The ``# key: value`` lines at the top of a Containerfile (up to the first other line)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line[1:].partition(":")
        if sep and key.strip().isidentifier():
            found.setdefault(key.strip().lower(), value.strip())
    return found


def load_spec(directory: Path) -> ImageSpec:
    name = directory.name
    header = parse_header((directory / "Containerfile").read_text())
    parent = None if name == BASE else header.get("parent", BASE)
    text = (directory / "Containerfile").read_text()
    args = tuple(a for a in dict.fromkeys(_ARG.findall(text)) if a not in PARENT_ARGS)
    spec = ImageSpec(name=name, directory=directory, parent=parent, args=args)
    build_vars(spec)  # an ARG nobody fills in is refused here, not in the middle of a build
    return spec


def build_vars(spec: ImageSpec, release: str = RELEASE) -> dict[str, str]:
    """The values of the ARGs ``spec`` declares: RELEASE, and UID_<USER> from catalog.USERS."""
    found: dict[str, str] = {}
    for arg in spec.args:
        user = arg.removeprefix("UID_").lower()
        if arg == "RELEASE":
            found[arg] = release
        elif arg.startswith("UID_") and user in USERS:
            found[arg] = str(USERS[user])
        else:
            raise BadInput(f"image {spec.name}: ARG {arg} is neither RELEASE nor UID_<a user of catalog.USERS>")
    return found


def discover(root: Path | None = None) -> dict[str, ImageSpec]:
    """All images under ``compose/images``, checked: known parents, no cycles, a base."""
    top = images_dir(root)
    specs = {d.name: load_spec(d) for d in sorted(top.iterdir()) if (d / "Containerfile").is_file()}
    if BASE not in specs:
        raise BadInput(f"no {BASE} image in {top}", hint="the package data is incomplete")
    for spec in specs.values():
        if spec.parent is not None and spec.parent not in specs:
            raise BadInput(f"image {spec.name}: parent {spec.parent!r} is not an image in {top}")
        ancestors(specs, spec.name)  # raises on a cycle
    return specs


def ancestors(specs: dict[str, ImageSpec], name: str) -> list[str]:
    """Parents of ``name``, nearest first, ending with base."""
    chain: list[str] = []
    parent = specs[name].parent
    while parent is not None:
        if parent in chain or parent == name:
            raise BadInput(f"image {name}: its parents form a cycle ({' -> '.join(chain)})")
        chain.append(parent)
        parent = specs[parent].parent
    return chain


def directory_digest(directory: Path) -> str:
    """sha256 over every file in ``directory``: relative path, exec bit and content."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        executable = "x" if path.stat().st_mode & 0o111 else "-"
        digest.update(f"{rel}\0{executable}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def image_hash(specs: dict[str, ImageSpec], name: str, release: str = RELEASE) -> str:
    """The 12-hex content hash of ``name``: its directory, build variables, parent's hash and the release."""
    spec = specs[name]
    parent = image_hash(specs, spec.parent, release) if spec.parent else "rootfs"
    variables = "\0".join(f"{k}={v}" for k, v in sorted(build_vars(spec, release).items()))
    text = f"hotstack-image\0{name}\0{release}\0{parent}\0{directory_digest(spec.directory)}\0{variables}"
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LEN]


def ref_for(name: str, digest: str) -> str:
    return f"{REGISTRY}/{name}:{digest}"


def all_refs(release: str = RELEASE, root: Path | None = None) -> dict[str, str]:
    """Every image's full tag."""
    specs = discover(root)
    return {name: ref_for(name, image_hash(specs, name, release)) for name in specs}


def image_ref(name: str, release: str = RELEASE, root: Path | None = None) -> str:
    """The tag of image ``name`` for ``release``, e.g. ``localhost/hotstack/nova:0123456789ab``."""
    specs = discover(root)
    if name not in specs:
        raise BadInput(f"unknown image {name!r}", hint=f"known images: {', '.join(sorted(specs))}")
    return ref_for(name, image_hash(specs, name, release))


def selection(specs: dict[str, ImageSpec], names: list[str] | None) -> list[str]:
    """The images to build: ``names`` (default: every image) plus their parents, parents first."""
    if names is None:
        wanted = list(specs)
    else:
        unknown = sorted(set(names) - set(specs))
        if unknown:
            raise BadInput(
                f"unknown image(s): {', '.join(unknown)}",
                hint=f"known images: {', '.join(sorted(specs))}",
            )
        wanted = list(names)
    chosen = {n for w in wanted for n in (w, *ancestors(specs, w))}
    return sorted(chosen, key=lambda n: (len(ancestors(specs, n)), n))


def descendants(specs: dict[str, ImageSpec], name: str) -> int:
    """How many images are built (directly or not) FROM ``name``."""
    return sum(1 for other in specs if name in ancestors(specs, other))
