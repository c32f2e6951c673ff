"""``build()``: the root file system, then every image parents-first, in parallel where safe.

An image whose tag (a content hash, see :mod:`hotstack.images`) already exists is
kept. Builds run in a thread pool; an image starts as soon as its parent is done,
longest-known builds first (durations of earlier builds are remembered in the log
directory). After a failure no new build starts; running ones finish.

Builds use ``--layers=false``: each image is committed as one layer over its parent and
no intermediate images are left behind; the content-hash tag, not buildah's layer cache,
decides what is rebuilt. The download cache (``BuildOptions.cache_dir``) is mounted at
``/var/cache/hotstack``, where the images' ``hotstack-apt-install`` keeps apt's lists and
.deb files, so they never land in a layer and a rebuild downloads nothing it has.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hotstack.containers import podman
from hotstack.containers.labels import IMAGE_LABEL
from hotstack.core import graph
from hotstack.core.errors import HotstackError
from hotstack.core.settings import RELEASE
from hotstack.images import base as image_base
from hotstack.images import refs as images
from hotstack.images.refs import ImageSpec

State = Literal["queued", "building", "done", "kept", "failed"]
CACHE_MOUNT = "/var/cache/hotstack"  # where hotstack-apt-install looks for the download cache
TAIL_LINES = 30
# One image builds in minutes (the whole cold set in ~5 on two cores); an hour means it hangs.
BUILD_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class Progress:
    name: str
    state: State
    elapsed: float = 0.0


@dataclass(frozen=True)
class ImageResult:
    action: Literal["built", "kept"]
    seconds: float
    size_bytes: int


@dataclass
class BuildReport:
    ok: bool = True
    elapsed_s: float = 0.0
    images: dict[str, ImageResult] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str | None] = field(default_factory=dict)
    failed: str | None = None
    failed_log: Path | None = None
    log_tail: list[str] = field(default_factory=list)

    @property
    def disk_bytes(self) -> int:
        """Disk used by the images in the report, shared parent layers counted once
        (base counts with its root file system)."""
        total = 0
        for name, result in self.images.items():
            parent = self.parents.get(name)
            below = self.images[parent].size_bytes if parent in self.images else 0
            total += result.size_bytes - below
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "elapsed_s": round(self.elapsed_s, 1),
            "images": {
                name: {"action": r.action, "seconds": round(r.seconds, 1),
                       "size_bytes": r.size_bytes}
                for name, r in self.images.items()
            },
        }


@dataclass(frozen=True)
class BuildOptions:
    log_dir: Path
    cache_dir: Path
    release: str = RELEASE
    parallel: int = 2
    base: image_base.BaseMethod = "auto"
    mirror: str = image_base.DEFAULT_MIRROR
    root: Path | None = None  # template root; default hotstack.paths.template_root()


ProgressFn = Callable[[Progress], None]


def build_args(spec: ImageSpec, ref: str, parent_ref: str, cache_dir: Path, release: str = RELEASE) -> list[str]:
    """``podman build`` arguments for one image (runtime and ulimits are added by podman.command);
    its build variables (uids, release) are part of its content hash, see refs.image_hash."""
    arg = "ROOTFS" if spec.parent is None else "PARENT"
    variables = [a for k, v in images.build_vars(spec, release).items() for a in ("--build-arg", f"{k}={v}")]
    return [
        "build", "--network", "host", "--layers=false", "--force-rm",
        "--file", str(spec.containerfile),
        "--build-arg", f"{arg}={parent_ref}", *variables,
        "--volume", f"{cache_dir}:{CACHE_MOUNT}",
        "--label", f"{IMAGE_LABEL}={spec.name}",
        "--tag", ref,
        str(spec.directory),
    ]


def local_images() -> dict[str, int]:
    """Every local image name (``repo:tag``) under localhost/hotstack with its size, in one call."""
    out = podman.run(["images", "--format", "json", "--filter", f"reference={images.REGISTRY}/*"])
    found: dict[str, int] = {}
    for entry in json.loads(out.stdout or "[]"):
        for name in entry.get("Names") or []:
            found[name] = int(entry.get("Size", 0))
    return found


def tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def ready_order(ready: list[str], specs: dict[str, ImageSpec],
                durations: dict[str, float]) -> list[str]:
    """Images with children first (they unblock others), then the longest known builds."""
    return sorted(ready, key=lambda n: (-images.descendants(specs, n), -durations.get(n, 0.0), n))


def _load_durations(log_dir: Path) -> dict[str, float]:
    try:
        data = json.loads((log_dir / "durations.json").read_text())
        return {str(k): float(v) for k, v in data.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _save_durations(log_dir: Path, durations: dict[str, float]) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "durations.json").write_text(json.dumps(durations, indent=1, sort_keys=True))


def build(names: list[str] | None, opts: BuildOptions,
          progress: ProgressFn | None = None) -> BuildReport:
    """Build ``names`` (default: every image) and their parents."""
    started = time.monotonic()
    notify: ProgressFn = progress or (lambda _p: None)
    specs = images.discover(opts.root)
    order = images.selection(specs, names)
    refs = {n: images.ref_for(n, images.image_hash(specs, n, opts.release)) for n in order}
    report = BuildReport(refs=refs, parents={n: specs[n].parent for n in order})
    existing = local_images()
    todo = [n for n in order if refs[n] not in existing]
    for name in order:
        if name not in todo:
            report.images[name] = ImageResult("kept", 0.0, existing[refs[name]])
            notify(Progress(name, "kept"))
    for name in todo:
        notify(Progress(name, "queued"))
    if todo:
        _build_missing(todo, specs, refs, opts, notify, report)
    report.elapsed_s = time.monotonic() - started
    return report


class BuildFailed(Exception):
    """podman build exited non-zero; its log has why."""


def _build_missing(todo: list[str], specs: dict[str, ImageSpec], refs: dict[str, str],
                   opts: BuildOptions, notify: ProgressFn, report: BuildReport) -> None:
    """Each image once its parent is built (core.graph), the ones that unblock most first."""
    durations = _load_durations(opts.log_dir)
    opts.cache_dir.mkdir(parents=True, exist_ok=True)
    if images.BASE in todo and not _ensure_rootfs(opts, notify, report):
        return

    def build_one(name: str) -> float:
        parent = specs[name].parent
        parent_ref = refs[parent] if parent else image_base.ROOTFS_REF
        argv = build_args(specs[name], refs[name], parent_ref, opts.cache_dir, opts.release)
        notify(Progress(name, "building"))
        began = time.monotonic()
        try:
            code = podman.run_to_file(argv, _log(opts, name), timeout=BUILD_TIMEOUT_S)
        except Exception as exc:  # the build could not even start
            _note(_log(opts, name), exc)
            code = -1
        seconds = time.monotonic() - began
        if code != 0:
            notify(Progress(name, "failed", seconds))
            raise BuildFailed(name)
        report.images[name] = ImageResult("built", seconds, podman.image_size(refs[name]))
        notify(Progress(name, "done", seconds))
        durations[name] = seconds
        return seconds

    deps = {name: [p] if (p := specs[name].parent) else [] for name in todo}
    run = graph.run_graph(deps, build_one, workers=max(1, opts.parallel),
                          priority=lambda ready: ready_order(ready, specs, durations))
    if run.failed:
        failed = next(iter(run.failed))
        report.ok, report.failed, report.failed_log = False, failed, _log(opts, failed)
        report.log_tail = tail(_log(opts, failed))
    _save_durations(opts.log_dir, durations)


def _log(opts: BuildOptions, name: str) -> Path:
    return opts.log_dir / f"build-{name}.log"


def _note(log: Path, exc: BaseException) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"\nhotstack: {exc}\n")


def _ensure_rootfs(opts: BuildOptions, notify: ProgressFn, report: BuildReport) -> bool:
    """The root file system base is built FROM; a failure is reported against ``base``."""
    log = opts.log_dir / "build-rootfs.log"
    began = time.monotonic()
    try:
        image_base.ensure_rootfs(opts.base, mirror=opts.mirror, work_dir=opts.cache_dir.parent,
                                 cache_dir=opts.cache_dir / "debootstrap", log=log)
    except HotstackError as exc:
        _note(log, exc)
        notify(Progress(images.BASE, "failed", time.monotonic() - began))
        report.ok, report.failed, report.failed_log = False, images.BASE, log
        report.log_tail = tail(log)
        return False
    return True
