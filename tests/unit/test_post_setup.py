"""When `up` runs post-setup: after anything was (re)created, or until one succeeded with these settings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

from hotstack.cloud.post_setup import same_content
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
