"""Post-setup as one stage: the guest image and the cloud images' files, every ensure step,
clouds.yaml with both entries, and a record of the settings it succeeded with (so `up` on a
kept stack can skip it)."""

from __future__ import annotations

import json
from pathlib import Path

from hotstack.cloud.clouds_yaml import write_clouds_yaml
from hotstack.cloud.downloads import image_file
from hotstack.cloud.outcome import Outcome
from hotstack.cloud.post_setup import Progress, setup_cloud
from hotstack.core.credentials import connect
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


def post_setup(settings: Settings, paths: Paths, progress: Progress) -> list[Outcome]:
    """Every post-setup step (each looks first, so a re-run changes nothing)."""
    password = Secrets(paths.secrets_file).ensure(["hotstack_user_password"])["hotstack_user_password"]
    guest = guest_image_for(settings, paths, progress)
    # Every image file is at hand (checked, downloaded) before the cloud is touched.
    images = [(image, image_file(image, paths.cloud_image_cache, progress)) for image in settings.cloud_images]
    try:
        outcomes = setup_cloud(connect(settings, paths), lambda: connect(settings, paths, as_user=True),
                               settings, password, guest, progress, images)
    except HotstackError:
        raise
    except Exception as exc:  # any SDK or API error: the services are up, a retry usually passes
        raise HotstackError(f"post-setup failed: {type(exc).__name__}: {str(exc)[:300]}",
                            hint="the services are up; run `hotstack setup-cloud` to try again") from exc
    write_clouds_yaml(settings, paths, with_user=True)
    write_if_changed(paths.state / SETUP_RECORD, json.dumps({"settings": settings_digest(settings)}) + "\n")
    return outcomes


def settings_digest(settings: Settings) -> str:
    """The settings and what hotstack puts into its guest image (a new init needs a new image)."""
    return sha256(json.dumps([dump(settings), init.recipe_digest()], sort_keys=True))[:16]


def post_setup_current(settings: Settings, paths: Paths) -> bool:
    """Did a post-setup with these settings already succeed?"""
    try:
        return bool(json.loads((paths.state / SETUP_RECORD).read_text())["settings"] == settings_digest(settings))
    except (OSError, ValueError, KeyError, TypeError):
        return False
