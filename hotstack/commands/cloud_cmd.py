"""`hotstack setup-cloud` and `hotstack smoke`: post-setup and the smoke test, through openstacksdk."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from hotstack.cli.main import emit_json
from hotstack.cloud.post_setup import Outcome, setup_cloud
from hotstack.cloud.smoke import run_smoke
from hotstack.core.credentials import USER_CLOUD, connect, write_clouds_yaml
from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import sha256, write_if_changed
from hotstack.core.paths import Paths
from hotstack.core.secrets import Secrets
from hotstack.core.settings import Settings, dump

SETUP_RECORD = "post-setup.json"


def guest_image_for(settings: Settings, paths: Paths, progress: Callable[[str], None]) -> tuple[Path, str]:
    """The image post-setup uploads: the user's file, or hotstack's own, built offline."""
    if settings.guest.image:
        path = Path(settings.guest.image)
        if not path.is_file():
            raise HotstackError(f"setting guest.image = {settings.guest.image!r}: no such file",
                                hint="give a local image file, or unset guest.image to build hotstack's own")
        return path, "qcow2" if path.suffix == ".qcow2" else "raw"
    from hotstack.guest.image import build_guest_image

    image = build_guest_image(paths.guest_image, paths.guest_cache, progress=progress)
    return image.path, image.format


def post_setup(settings: Settings, paths: Paths, progress: Callable[[str], None]) -> list[Outcome]:
    """Every post-setup step (each looks first, so a re-run changes nothing), then clouds.yaml
    with both entries; success is recorded with a digest of the settings it used."""
    password = Secrets(paths.secrets_file).ensure(["hotstack_user_password"])["hotstack_user_password"]
    guest = guest_image_for(settings, paths, progress)
    outcomes = setup_cloud(connect(settings, paths), lambda: connect(settings, paths, USER_CLOUD),
                           settings, password, guest, progress)
    write_clouds_yaml(settings, paths, with_user=True)
    write_if_changed(paths.state / SETUP_RECORD, json.dumps({"settings": settings_digest(settings)}) + "\n")
    return outcomes


def settings_digest(settings: Settings) -> str:
    return sha256(json.dumps(dump(settings), sort_keys=True))[:16]


def post_setup_current(settings: Settings, paths: Paths) -> bool:
    """Did a post-setup with these settings already succeed (so `up` on a kept stack skips it)?"""
    try:
        return bool(json.loads((paths.state / SETUP_RECORD).read_text())["settings"] == settings_digest(settings))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def setup_cloud_command(settings: Settings, as_json: bool) -> int:
    paths = Paths(settings.data_dir)
    echo = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    outcomes = post_setup(settings, paths, echo)
    if as_json:
        emit_json({"ok": True, "changes": [{"thing": o.thing, "action": o.action} for o in outcomes]})
    else:
        click.echo(f"cloud ready: {len(outcomes)} change(s); try: OS_CLOUD={USER_CLOUD} openstack server list")
    return 0


def smoke_command(settings: Settings, as_json: bool, keep: bool) -> int:
    paths = Paths(settings.data_dir)
    echo = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    report = run_smoke(connect(settings, paths, USER_CLOUD), echo, keep=keep)
    if as_json:
        emit_json(report.as_json())
    else:
        click.echo(f"smoke {'passed' if report.ok else 'FAILED'} in {report.elapsed_s:.1f} s")
    return 0 if report.ok else 1
