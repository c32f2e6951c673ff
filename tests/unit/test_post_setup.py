"""When `up` runs post-setup: after anything was (re)created, or until one succeeded with these settings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hotstack.cloud.glance import same_content
from hotstack.cloud.outcome import Outcome as SetupOutcome
from hotstack.cloud.post_setup import QUOTA_KEYS, ensure_flavors, ensure_quotas, quota_drift
from hotstack.cloud.setup import SETUP_RECORD, post_setup_current, settings_digest
from hotstack.commands.up_cmd import cloud_setup_needed
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, load
from hotstack.probes.basic import ProbeResult
from hotstack.stack.bringup import Outcome

KEPT = Outcome("kept", None, ProbeResult(True, "ok", 0.0))
CREATED = Outcome("created", 3.0, ProbeResult(True, "ok", 0.0))


def record(paths: Paths, digest: str) -> None:
    (paths.state).mkdir(parents=True, exist_ok=True)
    (paths.state / SETUP_RECORD).write_text(json.dumps({"settings": digest}))


def test_kept_stack_with_a_current_record_skips(settings: Settings, paths: Paths) -> None:
    record(paths, settings_digest(settings))
    assert post_setup_current(settings, paths)
    assert not cloud_setup_needed(settings, paths, {"keystone": KEPT})


def test_anything_created_runs_it(settings: Settings, paths: Paths) -> None:
    record(paths, settings_digest(settings))
    assert cloud_setup_needed(settings, paths, {"keystone": KEPT, "nova-api": CREATED})


def test_no_record_or_other_settings_run_it(settings: Settings, paths: Paths, tmp_path: Path,
                                             config_file: Path) -> None:
    assert cloud_setup_needed(settings, paths, {"keystone": KEPT})
    record(paths, settings_digest(settings))
    changed = load(config_file, {"data_dir": str(settings.data_dir), "quotas.instances": "5"}, environ={})
    assert cloud_setup_needed(changed, paths, {"keystone": KEPT})
    (paths.state / SETUP_RECORD).write_text("not json")
    assert not post_setup_current(settings, paths)


def test_a_new_guest_init_runs_it(settings: Settings, paths: Paths, monkeypatch: Any) -> None:
    """hotstack's guest changed (a new release's init): the image must be rebuilt and uploaded."""
    from hotstack.guest import init

    record(paths, settings_digest(settings))
    monkeypatch.setattr(init, "init_script", lambda modules: "#!/bin/sh\n# another init\n")
    assert not post_setup_current(settings, paths)


def test_guest_image_is_compared_by_content_not_size(tmp_path: Path) -> None:
    """A rebuilt guest of the same size must replace glance's copy (the record is glance's
    image fields, as openstacksdk returns them)."""
    image = tmp_path / "guest.img"
    image.write_bytes(b"new guest" * 1000)
    record = SimpleNamespace(size=9000, hash_algo="sha512", hash_value=hashlib.sha512(image.read_bytes()).hexdigest())
    assert same_content(record, image)
    image.write_bytes(b"old guest" * 1000)  # same size, other bytes
    assert not same_content(record, image)
    assert not same_content(SimpleNamespace(size=9000, hash_algo=None, hash_value=None), image)


# --- flavors and quotas: compared first, only what differs is changed ---------------------------


class FakeCompute:
    """Nova's flavors as openstacksdk shows them (a fake: no nova runs in the unit tests)."""

    def __init__(self, flavors: dict[str, tuple[int, int, int]]) -> None:
        self.flavors = {n: SimpleNamespace(name=n, vcpus=v, ram=r, disk=d) for n, (v, r, d) in flavors.items()}
        self.calls: list[str] = []

    def find_flavor(self, name: str, ignore_missing: bool = True) -> Any:
        return self.flavors.get(name)

    def delete_flavor(self, flavor: Any) -> None:
        self.calls.append(f"delete {flavor.name}")
        del self.flavors[flavor.name]

    def create_flavor(self, *, name: str, vcpus: int, ram: int, disk: int, is_public: bool) -> None:
        self.calls.append(f"create {name}")
        self.flavors[name] = SimpleNamespace(name=name, vcpus=vcpus, ram=ram, disk=disk)


def test_flavors_are_made_replaced_when_drifted_and_otherwise_kept(settings: Settings) -> None:
    compute = FakeCompute({"hotstack.tiny": (1, 192, 1), "hotstack.small": (1, 1024, 10), "m1.user": (1, 1, 1)})
    out = ensure_flavors(SimpleNamespace(compute=compute), settings.flavors)
    assert SetupOutcome("flavor hotstack.small", "updated") in out
    assert SetupOutcome("flavor hotstack.xxxlarge", "created") in out
    assert "delete hotstack.small" in compute.calls and not any("tiny" in c or "m1.user" in c for c in compute.calls)
    assert (compute.flavors["hotstack.small"].ram, compute.flavors["hotstack.small"].disk) == (2048, 20)
    assert len(out) == len(settings.flavors) - 1
    compute.calls.clear()
    assert ensure_flavors(SimpleNamespace(compute=compute), settings.flavors) == [] and compute.calls == []


def test_quota_drift_names_only_what_differs(settings: Settings) -> None:
    q = settings.quotas
    current = SimpleNamespace(instances=20, cores=40, ram=51200, key_pairs=100, server_groups=10,
                              server_group_members=10, fixed_ips=-1)
    assert quota_drift(current, q, "compute") == {"ram": 102400, "key_pairs": 10}
    volume = SimpleNamespace(volumes=20, snapshots=20, gigabytes=1000, per_volume_gigabytes=-1)
    assert quota_drift(volume, q, "volume") == {"per_volume_gigabytes": 500}
    every = {key for keys in QUOTA_KEYS.values() for key in keys}
    assert every == set(type(q).model_fields)  # every quota setting reaches one service


def test_quotas_update_only_the_differing_keys(settings: Settings) -> None:
    q, calls = settings.quotas, []
    have = {"compute": SimpleNamespace(**{a: getattr(q, k) for k, a in QUOTA_KEYS["compute"].items()}),
            "network": SimpleNamespace(**{k: getattr(q, k) for k in QUOTA_KEYS["network"]} | {"routers": 5}),
            "volume": SimpleNamespace(**{k: getattr(q, k) for k in QUOTA_KEYS["volume"]})}

    def service(kind: str) -> SimpleNamespace:
        def setter(current: Any, **attrs: int) -> None:
            calls.append((kind, attrs))
        return SimpleNamespace(get_quota_set=lambda _p: have[kind], get_quota=lambda _p: have[kind],
                               update_quota_set=setter, update_quota=setter)

    admin = SimpleNamespace(compute=service("compute"), network=service("network"), block_storage=service("volume"))
    assert ensure_quotas(admin, settings.quotas, "p1") == [SetupOutcome("network quotas (routers)", "updated")]
    assert calls == [("network", {"routers": 10})]
