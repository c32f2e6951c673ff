"""Post-setup as one stage: the guest image and the cloud images' files, every ensure step, the
tenants (and, when asked, the deletion of the ones the settings dropped), clouds.yaml with
every entry, and a record of the settings it succeeded with (so `up` on a kept stack can skip it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hotstack.cloud.clouds_yaml import write_clouds_yaml
from hotstack.cloud.downloads import image_file
from hotstack.cloud.outcome import Outcome
from hotstack.cloud.post_setup import Progress, reported, setup_cloud
from hotstack.cloud.prune import prune_tenants, report_orphans
from hotstack.cloud.tenants import ensure_tenants
from hotstack.core.credentials import cloud_entry, connect, connect_entry, tenant_secrets
from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import sha256, write_if_changed
from hotstack.core.paths import Paths
from hotstack.core.secrets import Secrets
from hotstack.core.settings import Settings, dump
from hotstack.guest import init
from hotstack.guest.image import build_guest_image

SETUP_RECORD = "post-setup.json"


def guest_image_for(settings: Settings, paths: Paths, progress: Progress) -> tuple[Path, str]:
    """The image post-setup uploads: the user's file, or hotstack's own, built offline."""
    if settings.guest.image:
        path = Path(settings.guest.image)
        if not path.is_file():
            raise HotstackError(f"setting guest.image = {settings.guest.image!r}: no such file",
                                hint="give a local image file, or unset guest.image to build hotstack's own")
        return path, "qcow2" if path.suffix == ".qcow2" else "raw"
    image = build_guest_image(paths.guest_image, paths.guest_cache, progress=progress)
    return image.path, image.format


def post_setup(settings: Settings, paths: Paths, progress: Progress, *, prune: bool = False) -> list[Outcome]:
    """Every post-setup step (each looks first, so a re-run changes nothing); `prune` also deletes
    the tenants and tenant users the settings no longer list."""
    secrets = Secrets(paths.secrets_file).ensure(["admin_password", "hotstack_user_password",
                                                  *tenant_secrets(settings)])
    guest = guest_image_for(settings, paths, progress)
    # Every image file is at hand (checked, downloaded) before the cloud is touched.
    images = [(image, image_file(image, paths.cloud_image_cache, progress)) for image in settings.cloud_images]
    try:
        admin = connect(settings, paths)
        outcomes = setup_cloud(admin, lambda: connect(settings, paths, as_user=True),
                               settings, secrets["hotstack_user_password"], guest, progress, images)
        outcomes += tenant_steps(admin, settings, secrets, progress, prune)
    except HotstackError:
        raise
    except Exception as exc:  # any SDK or API error: the services are up, a retry usually passes
        raise HotstackError(f"post-setup failed: {type(exc).__name__}: {str(exc)[:300]}",
                            hint="the services are up; run `hotstack setup-cloud` to try again") from exc
    write_clouds_yaml(settings, paths, with_user=True)
    write_if_changed(paths.state / SETUP_RECORD, json.dumps({"settings": settings_digest(settings)}) + "\n")
    return outcomes


def tenant_steps(admin: Any, settings: Settings, secrets: dict[str, str], progress: Progress,
                 prune: bool) -> list[Outcome]:
    """The tenants of the settings; then the dropped ones: deleted with `prune`, else reported."""
    out = reported(progress, "tenants", ensure_tenants(admin, settings, secrets)) if settings.tenants else []
    if prune:
        def project_conn(project: str) -> Any:
            return connect_entry(settings, cloud_entry(settings, "admin", project, secrets["admin_password"]))
        return out + reported(progress, "pruned tenants", prune_tenants(admin, settings.tenants, project_conn))
    orphans = report_orphans(admin, settings.tenants)
    return out + (reported(progress, "dropped from the settings (kept)", orphans) if orphans else [])


def settings_digest(settings: Settings) -> str:
    """The settings and what hotstack puts into its guest image (a new init needs a new image)."""
    return sha256(json.dumps([dump(settings), init.recipe_digest()], sort_keys=True))[:16]


def post_setup_current(settings: Settings, paths: Paths) -> bool:
    """Did a post-setup with these settings already succeed?"""
    try:
        return bool(json.loads((paths.state / SETUP_RECORD).read_text())["settings"] == settings_digest(settings))
    except (OSError, ValueError, KeyError, TypeError):
        return False
