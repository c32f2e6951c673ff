"""The rules of single settings: names and their lengths, data_dir, the guest image, flavor
names, cloud images (sources, digests, glance properties), and how a bad value is quoted in a
message (never more than about 76 characters of it).

Each rule is a plain function that returns the value or raises ValueError with the rule in
words; settings.py attaches them to the model's fields.
"""

from __future__ import annotations

import os
import re
import reprlib
from collections.abc import Callable
from ipaddress import IPv4Network
from pathlib import Path, PurePosixPath
from typing import Any

SHOWN_CHARS = 76  # at most this much of a bad value is quoted in a message
MAX_DATA_DIR = 255  # every path hotstack makes starts with it: keep the sum well below PATH_MAX
MAX_PATH = 4096  # PATH_MAX on Linux
MAX_URL = 2048

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DNS = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SAFE_PATH = re.compile(r"^[A-Za-z0-9/._-]+$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)

# data_dir must not be one of these trees nor lie anywhere under them ...
SYSTEM_TREES = tuple(PurePosixPath(p) for p in (
    "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/efi", "/dev",
    "/proc", "/sys", "/run", "/var/run", "/var/lock", "/var/log", "/var/cache", "/var/spool",
    "/var/mail", "/lost+found"))
# ... and must not be one of these itself (a subdirectory of them is fine).
SYSTEM_DIRS = tuple(PurePosixPath(p) for p in (
    "/", "/root", "/home", "/var", "/var/lib", "/var/tmp", "/tmp", "/opt", "/srv", "/mnt", "/media"))

_shortrepr = reprlib.Repr()
_shortrepr.maxlevel, _shortrepr.maxlong = 2, 40
_shortrepr.maxdict = _shortrepr.maxlist = _shortrepr.maxtuple = _shortrepr.maxset = 4
_shortrepr.maxstring = _shortrepr.maxother = SHOWN_CHARS


def shown(value: object) -> str:
    """A value as quoted in a message: repr-like, bounded even for a YAML anchor bomb."""
    text = _shortrepr.repr(value if not isinstance(value, PurePosixPath | IPv4Network) else str(value))
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 3] + "..."


def name_of(max_len: int) -> Callable[[str], str]:
    """A name of letters, digits, '.', '_' and '-', at most max_len characters."""
    def rule(value: str) -> str:
        if len(value) > max_len:
            raise ValueError(f"must be at most {max_len} characters long")
        if not _NAME.match(value):
            raise ValueError("must be a non-empty name of letters, digits, '.', '_' or '-'")
        return value
    return rule


def ifname(value: str) -> str:
    if len(value) > 15:
        raise ValueError("must be a network interface name of at most 15 characters")
    return name_of(15)(value)


def domain(value: str) -> str:
    if not _DNS.match(value):
        raise ValueError("must be a lower-case DNS domain such as hotstack-os.local (at most 253 characters)")
    return value


def cidr(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"must be an IPv4 network in CIDR form with no host bits set, "
                             f"e.g. 172.31.0.0/25 ({shown(str(exc))})") from None
    return value


def release(value: Any) -> Any:
    if isinstance(value, float | int) and not isinstance(value, bool):
        raise ValueError(f'must be a string: quote it, e.g. release: "{value}" '
                         "(unquoted, YAML reads 2025.10 as the number 2025.1)")
    return value


def data_dir(value: Path) -> Path:
    """Absolute, normalized, a safe character set, not a system directory (nor resolving to one)."""
    text = str(value)
    if not PurePosixPath(text).is_absolute():
        raise ValueError("must be an absolute path")
    if len(text) > MAX_DATA_DIR:
        raise ValueError(f"must be at most {MAX_DATA_DIR} characters long")
    if not _SAFE_PATH.match(text):
        raise ValueError("must use only letters, digits, '/', '.', '_' and '-' "
                         "(it reaches shell scripts, /etc/exports and volume specs)")
    if ".." in PurePosixPath(text).parts or text.startswith("//"):
        raise ValueError("must be a normalized path (no '..' and no leading '//')")
    _not_system(PurePosixPath(text), "must not be")
    resolved = PurePosixPath(os.path.realpath(text))
    if resolved != PurePosixPath(text):
        _not_system(resolved, f"resolves through a symlink to {resolved}, which must not be")
    return Path(text)


def _not_system(path: PurePosixPath, lead: str) -> None:
    for tree in SYSTEM_TREES:
        if path == tree or path.is_relative_to(tree):
            raise ValueError(f"{lead} {tree} or under it (a system directory)")
    if path in SYSTEM_DIRS:
        raise ValueError(f"{lead} {path} itself (a system directory); use a subdirectory such as "
                         f"{PurePosixPath('/var/lib' if path == PurePosixPath('/') else path) / 'hotstack-os'}")
    if len(path.parts) == 3 and path.parts[1] == "home":
        raise ValueError(f"{lead} a home directory itself; use a subdirectory such as {path / 'hotstack-os'}")


def guest_image(value: Any) -> Any:
    """A readable local image file (checked now, not after the whole stack is up); '' means unset."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value  # the type check names it
    if len(value) > MAX_PATH:
        raise ValueError(f"must be at most {MAX_PATH} characters long")
    if _URL.match(value):
        raise ValueError("must be a local image file: URLs are not supported (download it first)")
    path = Path(value)
    if not path.is_absolute():
        raise ValueError("must be an absolute path to a local image file")
    if not path.exists():
        raise ValueError("must be an existing local image file: no such file")
    if not path.is_file():
        raise ValueError("must be a local image file, not a directory or device")
    if not os.access(path, os.R_OK):
        raise ValueError("must be a readable local image file: permission denied")
    return value


def keys_named(max_len: int, what: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Every key of a mapping is a name (as name_of); the message quotes the bad key."""
    check = name_of(max_len)

    def rule(value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            try:
                check(key)
            except ValueError as exc:
                raise ValueError(f"{what} {shown(key)} {exc}") from None
        return value
    return rule


# Image fields glance keeps itself: not settable as properties (and some are typed, not strings).
GLANCE_FIELDS = frozenset((
    "id", "name", "status", "visibility", "protected", "os_hidden", "owner", "size", "virtual_size", "checksum",
    "os_hash_algo", "os_hash_value", "disk_format", "container_format", "min_disk", "min_ram", "tags",
    "created_at", "updated_at", "locations", "direct_url", "self", "file", "schema", "stores"))
_PROPERTY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")
MAX_PROPERTY = 2048


def glance_property_names(value: dict[str, Any]) -> dict[str, Any]:
    for key in value:
        if not _PROPERTY_KEY.match(key):
            raise ValueError(f"property name {shown(key)} must be 1 to 255 letters, digits, '_', '.', ':' or '-'")
        if key in GLANCE_FIELDS:
            raise ValueError(f"property name {shown(key)} is an image field glance sets itself, not a property")
    return value


def glance_property_value(value: Any) -> Any:
    """glance keeps properties as strings: a YAML number or boolean becomes its usual text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and len(value) > MAX_PROPERTY:
        raise ValueError(f"must be at most {MAX_PROPERTY} characters long")
    if not isinstance(value, str):
        raise ValueError("must be a string, a number or a boolean")
    return value


_HTTP = re.compile(r"^https?://[^\s/]+\S*$", re.IGNORECASE)
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def image_source(value: str) -> str:
    """An http(s) URL or an absolute local path; whether it exists is checked when it is used."""
    if _URL.match(value):
        if not _HTTP.match(value):
            raise ValueError("must be an http:// or https:// URL or an absolute path to a local file")
        if len(value) > MAX_URL:
            raise ValueError(f"must be at most {MAX_URL} characters long")
        return value
    if len(value) > MAX_PATH:
        raise ValueError(f"must be at most {MAX_PATH} characters long")
    if not PurePosixPath(value).is_absolute():
        raise ValueError("must be an absolute path to a local file or an http:// or https:// URL")
    return value


def sha256_hex(value: str | None) -> str | None:
    if value is not None and not _SHA256.match(value):
        raise ValueError("must be a SHA-256 digest: 64 hexadecimal digits")
    return None if value is None else value.lower()


def unique_images(reserved: str) -> Callable[[list[Any]], list[Any]]:
    """Image names are unique and leave hotstack's own guest image alone."""
    def rule(value: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for image in value:
            if image.name == reserved:
                raise ValueError(f"image name {shown(reserved)} is hotstack's own test image: "
                                 "choose another name (guest.image replaces that one)")
            if image.name in seen:
                raise ValueError(f"image name {shown(image.name)} is listed twice")
            seen.add(image.name)
        return value
    return rule
