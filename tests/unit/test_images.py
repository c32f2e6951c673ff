"""Image discovery, content-hash tags, build order and podman command lines (no podman run)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from hotstack.containers import podman
from hotstack.core.errors import BadInput
from hotstack.core.paths import template_root
from hotstack.images import base as image_base
from hotstack.images import builder, refs

REPO_IMAGES = template_root() / "compose" / "images"


def make_tree(root: Path, tree: dict[str, str | None]) -> Path:
    """A template root with one Containerfile per image; value = parent (None: default)."""
    for name, parent in tree.items():
        d = root / "compose" / "images" / name
        d.mkdir(parents=True)
        header = f"# parent: {parent}\n" if parent else ""
        (d / "Containerfile").write_text(f"{header}ARG PARENT\nFROM ${{PARENT}}\nRUN true\n")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path, {"base": None, "infra": None, "openstack": "base",
                                "nova": "openstack", "heat": "openstack"})


def test_repository_images_are_discovered_with_their_parents() -> None:
    specs = refs.discover()
    assert {"base", "openstack", "infra", "keystone", "glance", "placement", "nova",
            "nova-compute", "neutron", "cinder", "heat", "ovn", "horizon"} <= set(specs)
    assert specs["base"].parent is None
    assert specs["infra"].parent == "base" and specs["ovn"].parent == "base"
    assert specs["keystone"].parent == "openstack" and specs["openstack"].parent == "base"
    assert specs["horizon"].parent == "openstack"


def test_tag_shape_and_stability(tree: Path) -> None:
    ref = refs.image_ref("nova", "2025.1", tree)
    assert re.fullmatch(r"localhost/hotstack/nova:[0-9a-f]{12}", ref)
    assert refs.image_ref("nova", "2025.1", tree) == ref


def test_tag_does_not_depend_on_where_the_templates_live(tree: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere"
    shutil.copytree(tree / "compose", copy / "compose")
    assert refs.all_refs("2025.1", copy) == refs.all_refs("2025.1", tree)


def test_changing_a_file_changes_the_image_and_its_children_only(tree: Path) -> None:
    before = refs.all_refs("2025.1", tree)
    (tree / "compose/images/openstack/extra.conf").write_text("x = 1\n")
    after = refs.all_refs("2025.1", tree)
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {"openstack", "nova", "heat"}


def test_exec_bit_counts(tree: Path) -> None:
    script = tree / "compose/images/heat/helper"
    script.write_text("#!/bin/sh\n")
    before = refs.image_ref("heat", "2025.1", tree)
    script.chmod(0o755)
    assert refs.image_ref("heat", "2025.1", tree) != before


def test_release_changes_every_tag(tree: Path) -> None:
    a, b = refs.all_refs("2025.1", tree), refs.all_refs("2025.2", tree)
    assert all(a[n] != b[n] for n in a)


def test_unknown_parent_and_cycles_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="parent 'nope'"):
        refs.discover(make_tree(tmp_path / "a", {"base": None, "x": "nope"}))
    with pytest.raises(BadInput, match="cycle"):
        refs.discover(make_tree(tmp_path / "b", {"base": None, "x": "y", "y": "x"}))
    with pytest.raises(BadInput, match="no base"):
        refs.discover(make_tree(tmp_path / "c", {"x": None}))


def test_selection_adds_parents_and_orders_them_first(tree: Path) -> None:
    specs = refs.discover(tree)
    assert refs.selection(specs, ["nova"]) == ["base", "openstack", "nova"]
    everything = refs.selection(specs, None)
    for name in everything:
        for parent in refs.ancestors(specs, name):
            assert everything.index(parent) < everything.index(name)
    with pytest.raises(BadInput, match="unknown image"):
        refs.selection(specs, ["nova", "swift"])


def test_every_image_by_default() -> None:
    specs = refs.discover()
    assert set(refs.selection(specs, None)) == set(specs)
    assert refs.selection(specs, ["horizon"]) == ["base", "openstack", "horizon"]


def test_ready_order_unblocks_children_then_longest_first(tree: Path) -> None:
    specs = refs.discover(tree)
    order = builder.ready_order(["infra", "openstack"], specs, {"infra": 100.0})
    assert order == ["openstack", "infra"]
    assert builder.ready_order(["heat", "nova"], specs, {"heat": 90.0, "nova": 30.0}) == [
        "heat", "nova"]


def test_header_parsing_stops_at_first_instruction() -> None:
    text = "# parent: openstack\n# note: dashboard\nARG PARENT\n# parent: nope\n"
    assert refs.parse_header(text) == {"parent": "openstack", "note": "dashboard"}


def test_build_args(tree: Path) -> None:
    specs = refs.discover(tree)
    argv = builder.build_args(specs["nova"], "localhost/hotstack/nova:abc",
                                  "localhost/hotstack/openstack:def", Path("/c/apt"))
    assert argv[0] == "build"
    assert argv[argv.index("--build-arg") + 1] == "PARENT=localhost/hotstack/openstack:def"
    assert argv[argv.index("--volume") + 1] == "/c/apt:/var/cache/hotstack"
    assert argv[argv.index("--tag") + 1] == "localhost/hotstack/nova:abc"
    assert argv[argv.index("--file") + 1].endswith("nova/Containerfile")
    assert argv[-1] == str(specs["nova"].directory)
    base = builder.build_args(specs["base"], "r", image_base.ROOTFS_REF, Path("/c"))
    assert f"ROOTFS={image_base.ROOTFS_REF}" in base


def test_uids_and_release_are_build_args_from_the_catalog(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nova = tree / "compose" / "images" / "nova" / "Containerfile"
    nova.write_text(nova.read_text() + "ARG RELEASE\nARG UID_NOVA\nRUN hotstack-user nova \"${UID_NOVA}\"\n")
    specs = refs.discover(tree)
    argv = builder.build_args(specs["nova"], "r", "p", Path("/c"), "2025.1")
    assert "RELEASE=2025.1" in argv and f"UID_NOVA={refs.USERS['nova']}" in argv
    assert "UID_NOVA=" not in " ".join(builder.build_args(specs["heat"], "r", "p", Path("/c")))
    before = refs.image_hash(specs, "nova")
    monkeypatch.setitem(refs.USERS, "nova", 43000)  # a changed uid must rebuild the image
    assert refs.image_hash(specs, "nova") != before
    assert "UID_NOVA=43000" in builder.build_args(specs["nova"], "r", "p", Path("/c"))


def test_an_arg_nobody_fills_in_is_refused(tree: Path) -> None:
    heat = tree / "compose" / "images" / "heat" / "Containerfile"
    heat.write_text(heat.read_text() + "ARG UID_NOBODY\n")
    with pytest.raises(BadInput, match="UID_NOBODY"):
        refs.discover(tree)


def test_repository_containerfiles_take_every_uid_from_the_catalog() -> None:
    """Each image that creates a service user declares its UID_ arg, and the system range of
    adduser-ranges holds every fixed uid."""
    specs = refs.discover()
    for spec in specs.values():
        users = re.findall(r"hotstack-user (\w+) \"\$\{UID_(\w+)\}\"", spec.containerfile.read_text())
        assert all(name.upper() == arg and f"UID_{arg}" in spec.args for name, arg in users), spec.name
    assert {"UID_MYSQL", "UID_HAPROXY"} <= set(specs["infra"].args)
    ranges = dict(line.split("=") for line in (REPO_IMAGES / "base" / "adduser-ranges").read_text().splitlines()
                  if "=" in line and not line.startswith("#"))
    assert all(int(ranges["FIRST_SYSTEM_UID"]) <= uid <= int(ranges["LAST_SYSTEM_UID"])
               for user, uid in refs.USERS.items() if user != "root")


def test_base_method_choice_and_debootstrap_args() -> None:
    assert image_base.choose_method("auto", probe=False) == "debootstrap"
    assert image_base.choose_method("auto", probe=True) == "pull"
    assert image_base.choose_method("debootstrap", probe=True) == "debootstrap"
    argv = image_base.debootstrap_args(Path("/t/root"), "http://m/debian", Path("/c/d"))
    assert argv == ["debootstrap", "--variant=minbase", "--cache-dir=/c/d", "trixie",
                    "/t/root", "http://m/debian"]


def test_registry_probe_is_bounded() -> None:
    import time

    began = time.monotonic()
    assert image_base.registry_answers("http://127.0.0.1:9/v2/", bound=1.0) is False
    assert time.monotonic() - began < 1.5


def test_trim_removes_docs_and_lists(tmp_path: Path) -> None:
    (tmp_path / "usr/share/doc/pkg").mkdir(parents=True)
    (tmp_path / "usr/share/doc/pkg/README").write_text("x")
    (tmp_path / "var/lib/apt/lists").mkdir(parents=True)
    (tmp_path / "var/lib/apt/lists/Packages").write_text("x")
    (tmp_path / "var/lib/apt/lists/lock").write_text("")
    (tmp_path / "usr/share/locale/de").mkdir(parents=True)
    (tmp_path / "usr/share/locale/locale.alias").write_text("x")
    image_base.trim(tmp_path)
    assert not (tmp_path / "usr/share/doc/pkg").exists()
    assert sorted(p.name for p in (tmp_path / "var/lib/apt/lists").iterdir()) == ["lock"]
    assert sorted(p.name for p in (tmp_path / "usr/share/locale").iterdir()) == ["locale.alias"]


def test_report_json_shape() -> None:
    report = builder.BuildReport(elapsed_s=12.345)
    report.images["nova"] = builder.ImageResult("built", 61.23, 123)
    report.images["base"] = builder.ImageResult("kept", 0.0, 80)
    assert report.to_json() == {
        "ok": True, "elapsed_s": 12.3,
        "images": {"nova": {"action": "built", "seconds": 61.2, "size_bytes": 123},
                   "base": {"action": "kept", "seconds": 0.0, "size_bytes": 80}}}


class FakePodman:
    """Stands in for podman in the scheduler tests: records the order of builds."""

    def __init__(self, fail: str | None = None, existing: dict[str, int] | None = None) -> None:
        self.fail, self.existing = fail, dict(existing or {})
        self.events: list[tuple[str, str]] = []

    def run_to_file(self, argv: list[str], log: Path, *, timeout: float) -> int:
        name = log.name.removeprefix("build-").removesuffix(".log")
        self.events.append(("start", name))
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(f"line {i}\n" for i in range(40)) + f"boom in {name}\n")
        self.events.append(("end", name))
        if name == self.fail:
            return 1
        self.existing[argv[argv.index("--tag") + 1]] = 1000
        return 0


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePodman:
    fake = FakePodman()
    monkeypatch.setattr(podman, "run_to_file", fake.run_to_file)
    monkeypatch.setattr(builder, "local_images", lambda: dict(fake.existing))
    monkeypatch.setattr(podman, "image_size", lambda ref: fake.existing[ref])
    monkeypatch.setattr(image_base, "ensure_rootfs", lambda *a, **k: "kept")
    return fake


def _opts(tree: Path, tmp_path: Path) -> builder.BuildOptions:
    return builder.BuildOptions(log_dir=tmp_path / "logs", cache_dir=tmp_path / "cache",
                                    parallel=3, root=tree)


def test_build_runs_parents_first_then_keeps_everything(
        tree: Path, tmp_path: Path, fake: FakePodman) -> None:
    states: list[tuple[str, str]] = []
    report = builder.build(None, _opts(tree, tmp_path), lambda p: states.append((p.name, p.state)))
    assert report.ok and {r.action for r in report.images.values()} == {"built"}
    specs = refs.discover(tree)
    for name in specs:
        for parent in refs.ancestors(specs, name):
            assert fake.events.index(("end", parent)) < fake.events.index(("start", name))
    assert ("nova", "queued") in states and ("nova", "done") in states
    again = builder.build(None, _opts(tree, tmp_path))
    assert {r.action for r in again.images.values()} == {"kept"}
    assert json_keys(again.to_json()) == {"ok", "elapsed_s", "images"}


def json_keys(data: dict[str, object]) -> set[str]:
    return set(data)


def test_build_failure_names_the_image_and_keeps_its_log(
        tree: Path, tmp_path: Path, fake: FakePodman) -> None:
    fake.fail = "openstack"
    report = builder.build(None, _opts(tree, tmp_path))
    assert not report.ok and report.failed == "openstack"
    assert report.failed_log is not None and report.failed_log.exists()
    assert len(report.log_tail) == 30 and report.log_tail[-1] == "boom in openstack"
    started = {name for kind, name in fake.events if kind == "start"}
    assert not started & {"nova", "heat"}  # children of a failed parent never start


def test_disk_bytes_counts_shared_layers_once() -> None:
    report = builder.BuildReport(parents={"base": None, "openstack": "base", "nova": "openstack",
                                              "heat": "openstack"})
    for name, size in {"base": 100, "openstack": 700, "nova": 900, "heat": 750}.items():
        report.images[name] = builder.ImageResult("kept", 0.0, size)
    assert report.disk_bytes == 100 + 600 + 200 + 50
