"""An image in glance made to match a local file and its properties, for hotstack's guest image
and every cloud image alike: the content is compared by glance's own multihash, properties one
by one; a different file is uploaded again, different properties are patched in place."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hotstack.cloud.outcome import Outcome


def same_content(image: Any, path: Path) -> bool:
    """Does glance hold exactly this file? (Its multihash: the size alone misses a rebuilt guest.)"""
    algo, value = getattr(image, "hash_algo", None), getattr(image, "hash_value", None)
    if image.size != path.stat().st_size or not algo or not value:
        return False
    with path.open("rb") as data:
        return bool(hashlib.file_digest(data, algo).hexdigest() == value)


def current_properties(image: Any, keys: Iterable[str]) -> dict[str, Any]:
    """What glance holds for these property names (openstacksdk keeps the ones it knows as typed
    fields, the rest in `properties`; its to_dict names both as glance does); absent ones left out."""
    fields = image.to_dict(original_names=True)
    extra = fields.get("properties") or {}
    found = {key: extra[key] if key in extra else fields.get(key) for key in keys}
    return {key: value for key, value in found.items() if value is not None}


def property_drift(current: Mapping[str, Any], wanted: Mapping[str, str]) -> dict[str, str]:
    """The wanted properties glance lacks or holds otherwise, compared as glance's strings."""
    return {key: value for key, value in wanted.items() if key not in current or _text(current[key]) != value}


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def ensure_image(admin: Any, name: str, path: Path, disk_format: str, container_format: str,
                 properties: Mapping[str, str]) -> list[Outcome]:
    """Public image `name` holding path's bytes with these properties; [] when it already does."""
    existing = admin.image.find_image(name)
    if (existing is not None and existing.status == "active" and same_content(existing, path)
            and (existing.disk_format, existing.container_format) == (disk_format, container_format)):
        drift = property_drift(current_properties(existing, properties), properties)
        if not drift:
            return []
        admin.image.update_image(existing, **drift)  # one JSON patch of just these
        return [Outcome(f"image {name} properties ({', '.join(sorted(drift))})", "updated")]
    if existing is not None:
        admin.image.delete_image(existing)
    admin.image.create_image(
        name=name, filename=str(path), disk_format=disk_format, container_format=container_format,
        visibility="public", wait=True, allow_duplicates=True, properties=dict(properties))
    return [Outcome(f"image {name}", "updated" if existing else "created")]
