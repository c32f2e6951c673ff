"""Cloud images: the settings, the download into the cache (against a real HTTP server on
127.0.0.1), and what post-setup would change in glance (pure comparisons, and openstacksdk's
own Image resource where glance's answer is needed)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
import yaml
from localhttp import QuietHandler, serving
from openstack.image.v2.image import Image

from hotstack.cloud import setup
from hotstack.cloud.downloads import PARTIAL, cache_file, image_file
from hotstack.cloud.glance import current_properties, ensure_image, property_drift
from hotstack.cloud.outcome import Outcome
from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import load
from hotstack.core.settings_cloud import CloudImage

BODY = b"qcow2 image bytes " * 50_000  # ~900 kB: several reads of the downloader's blocks
BODY_SHA256 = hashlib.sha256(BODY).hexdigest()


def write(tmp_path: Path, images: object) -> Path:
    cfg = tmp_path / "hotstack.yaml"
    cfg.write_text(yaml.safe_dump({"cloud_images": images}))
    return cfg


def refused(cfg: Path) -> str:
    with pytest.raises(BadInput) as caught:
        load(cfg, environ={})
    return str(caught.value)


# --- the settings ------------------------------------------------------------------------------


def test_no_cloud_images_by_default(config_file: Path) -> None:
    assert load(config_file, environ={}).cloud_images == []


def test_an_entry_loads_with_glance_defaults_and_string_properties(tmp_path: Path) -> None:
    cfg = tmp_path / "hotstack.yaml"
    cfg.write_text(f"""
cloud_images:
  - name: CentOS-Stream-GenericCloud-9
    source: https://cloud.centos.org/centos/9-stream/x86_64/images/CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2
  - name: ipxe-rescue-uefi
    source: /srv/images/ipxe-efi.img
    disk_format: raw
    sha256: {BODY_SHA256.upper()}
    size: 1474560
    properties: {{hw_firmware_type: uefi, hw_machine_type: q35, os_shutdown_timeout: 5, hw_rescue_device: cdrom,
                 hw_rescue_bus: usb, hw_boot_menu: true}}
""")
    centos, ipxe = load(cfg, environ={}).cloud_images
    assert (centos.disk_format, centos.container_format, centos.properties) == ("qcow2", "bare", {})
    assert centos.sha256 is None
    assert ipxe.properties == {"hw_firmware_type": "uefi", "hw_machine_type": "q35", "os_shutdown_timeout": "5",
                               "hw_rescue_device": "cdrom", "hw_rescue_bus": "usb", "hw_boot_menu": "true"}
    assert (ipxe.disk_format, ipxe.sha256, ipxe.size) == ("raw", BODY_SHA256, 1474560)


GOOD = {"name": "cirros", "source": "/srv/cirros.img"}
# (entries, a fragment of the message)
BAD_IMAGES = [
    ([GOOD | {"name": "bad name"}], "cloud_images.0.name = 'bad name': must be a non-empty name"),
    ([GOOD | {"name": "n" * 256}], "at most 255 characters"),
    ([GOOD | {"source": "relative/cirros.img"}], "cloud_images.0.source = 'relative/cirros.img': must be an absolute"),
    ([GOOD | {"source": "ftp://example.org/c.img"}], "must be an http:// or https:// URL"),
    ([GOOD | {"source": "https://" + "u" * 2100}], "at most 2048 characters"),
    ([GOOD | {"disk_format": "qcow3"}], "cloud_images.0.disk_format = 'qcow3': must be 'qcow2', 'raw'"),
    ([GOOD | {"container_format": "tar"}], "cloud_images.0.container_format = 'tar'"),
    ([GOOD | {"sha256": "abc"}], "cloud_images.0.sha256 = 'abc': must be a SHA-256 digest"),
    ([GOOD | {"size": 0}], "cloud_images.0.size = 0: Input should be greater than or equal to 1"),
    ([GOOD | {"size": "1 GB"}], "cloud_images.0.size = '1 GB': must be a whole number or empty, not a string"),
    ([GOOD | {"properties": {"min_disk": "1"}}], "property name 'min_disk' is an image field glance sets itself"),
    ([GOOD | {"properties": {"bad key": "1"}}], "property name 'bad key' must be 1 to 255 letters"),
    ([GOOD | {"properties": {"hw_firmware_type": ["uefi"]}}], "must be a string, a number or a boolean"),
    ([GOOD | {"properties": ["hw_firmware_type"]}], "cloud_images.0.properties = ['hw_firmware_type']: must be"),
    ([GOOD | {"url": "http://x/y"}], "cloud_images.0.url = 'http://x/y': is not a known setting"),
    ([{"name": "cirros"}], "cloud_images.0.source = (missing)"),
    ([GOOD, GOOD], "image name 'cirros' is listed twice"),
    ([GOOD | {"name": "hotstack-guest"}], "is hotstack's own test image"),
    (["cirros"], "cloud_images.0 = 'cirros': must be a mapping, not a string"),
    (GOOD, "cloud_images = {'name': 'cirros', 'source': '/srv/cirros.img'}: must be a list, not a mapping"),
]


@pytest.mark.parametrize(("images", "fragment"), BAD_IMAGES)
def test_bad_entries_name_the_key_the_value_and_the_rule(tmp_path: Path, images: object, fragment: str) -> None:
    message = refused(write(tmp_path, images))
    assert fragment in message and len(message) < 400, message


def test_cloud_images_come_from_the_file_only(config_file: Path) -> None:
    with pytest.raises(BadInput, match="cloud_images is a set of entries"):
        load(config_file, {"cloud_images.0.name": "cirros"}, environ={})


# --- the download --------------------------------------------------------------------------------


class Handler(QuietHandler):
    """/image: BODY; /short: fewer bytes than it announces; /slow: nothing for 5 s; else 404."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Range")))
        if self.path.startswith("/image"):
            self._send(BODY, len(BODY))
        elif self.path == "/short":
            self._send(BODY[:1000], len(BODY))
        elif self.path == "/slow":
            time.sleep(5)
        else:
            self.send_error(404, "Not Found")

    def _send(self, body: bytes, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    Handler.seen = []
    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}"


def image(source: str, **more: Any) -> CloudImage:
    return CloudImage(name="cirros", source=source, **more)


def fetch(img: CloudImage, cache: Path, timeout: float = 10.0) -> tuple[Path, list[str]]:
    lines: list[str] = []
    return image_file(img, cache, lines.append, timeout=timeout), lines


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.is_file())


def test_a_download_is_cached_whole_and_reused(server: str, tmp_path: Path) -> None:
    img = image(f"{server}/image", sha256=BODY_SHA256, size=len(BODY))
    path, lines = fetch(img, tmp_path)
    assert path == cache_file(tmp_path, img) and path.read_bytes() == BODY
    assert lines[0] == f"downloading cirros from {server}/image" and "MB in" in lines[1]
    assert leftovers(tmp_path) == [path.name]
    again, lines = fetch(img, tmp_path)
    assert again == path and lines == [] and len(Handler.seen) == 1  # no second request


def test_a_partial_file_is_never_resumed(server: str, tmp_path: Path) -> None:
    img = image(f"{server}/image")
    target = cache_file(tmp_path, img)
    target.parent.mkdir(parents=True)
    target.with_name(target.name + PARTIAL).write_bytes(b"garbage from an interrupted run" * 100)
    path, _ = fetch(img, tmp_path)
    assert path.read_bytes() == BODY and Handler.seen == [("/image", None)]  # from byte 0, no Range
    assert leftovers(tmp_path) == [path.name]


@pytest.mark.parametrize(("more", "fragment"), [
    ({"sha256": "0" * 64}, f"has SHA-256 {BODY_SHA256}, not {'0' * 64}"),
    ({"size": len(BODY) + 1}, f"has {len(BODY)} bytes, not {len(BODY) + 1}"),
])
def test_a_mismatch_leaves_nothing_in_the_cache(server: str, tmp_path: Path, more: dict[str, Any],
                                                fragment: str) -> None:
    with pytest.raises(HotstackError) as caught:
        fetch(image(f"{server}/image", **more), tmp_path)
    assert f"cloud image cirros: {server}/image {fragment}" in str(caught.value)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("path", "fragment"), [
    ("/missing", "HTTP 404 Not Found"),
    ("/short", f"the transfer stopped after 1000 of {len(BODY)} bytes"),
])
def test_a_failed_download_names_the_image_and_the_url(server: str, tmp_path: Path, path: str,
                                                       fragment: str) -> None:
    with pytest.raises(HotstackError) as caught:
        fetch(image(server + path), tmp_path)
    assert f"cloud image cirros: cannot download {server}{path}: {fragment}" in str(caught.value)
    assert leftovers(tmp_path) == []


def test_a_stalled_download_times_out(server: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(HotstackError, match=f"cloud image cirros: cannot download {server}/slow"):
        fetch(image(f"{server}/slow"), tmp_path, timeout=0.5)
    assert time.monotonic() - started < 4 and leftovers(tmp_path) == []


def test_a_refused_connection_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(HotstackError) as caught:
        fetch(image("http://127.0.0.1:9/x.img"), tmp_path)
    assert "cloud image cirros: cannot download http://127.0.0.1:9/x.img: " in str(caught.value)


def test_a_new_source_replaces_the_old_download(server: str, tmp_path: Path) -> None:
    old, _ = fetch(image(f"{server}/image?v=1"), tmp_path)
    new, _ = fetch(image(f"{server}/image?v=2"), tmp_path)
    assert old != new and not old.exists() and leftovers(tmp_path) == [new.name]


def test_a_local_file_is_used_in_place_and_checked(tmp_path: Path) -> None:
    local = tmp_path / "cirros.img"
    local.write_bytes(BODY)
    path, lines = fetch(image(str(local), sha256=BODY_SHA256, size=len(BODY)), tmp_path / "cache")
    assert path == local and lines == [] and not (tmp_path / "cache").exists()
    with pytest.raises(HotstackError, match="has SHA-256"):
        fetch(image(str(local), sha256="1" * 64), tmp_path / "cache")
    with pytest.raises(BadInput, match=f"cloud image cirros: source {tmp_path}/gone.img: no such file"):
        fetch(image(str(tmp_path / "gone.img")), tmp_path / "cache")


# --- glance: what differs ------------------------------------------------------------------------

WANTED = {"hw_firmware_type": "uefi", "os_shutdown_timeout": "5", "hw_boot_menu": "true", "hw_rescue_bus": "usb"}


def test_properties_are_read_from_openstacksdk_fields_and_extras() -> None:
    """openstacksdk keeps some properties as typed fields (os_shutdown_timeout an int, hw_boot_menu
    by glance's name) and the rest in `properties`: both are found by glance's name."""
    img = Image.existing(id="i1", name="x", os_shutdown_timeout="5", hw_boot_menu=True, hw_firmware_type="uefi",
                         hw_machine_type="q35")
    assert current_properties(img, WANTED) == {"hw_firmware_type": "uefi", "os_shutdown_timeout": 5,
                                               "hw_boot_menu": True}
    assert property_drift(current_properties(img, WANTED), WANTED) == {"hw_rescue_bus": "usb"}


def test_property_drift_compares_glance_strings() -> None:
    assert property_drift({"a": "1", "b": True, "c": 5}, {"a": "1", "b": "true", "c": "5"}) == {}
    assert property_drift({"a": "1", "b": False}, {"a": "2", "b": "true", "c": "x"}) == {"a": "2", "b": "true",
                                                                                        "c": "x"}


class FakeImages:
    """glance through openstacksdk's image proxy (a fake: no glance runs in the unit tests)."""

    def __init__(self, existing: Any) -> None:
        self.existing, self.calls = existing, []  # type: list[tuple[str, Any]]

    def find_image(self, name: str) -> Any:
        return self.existing

    def update_image(self, image: Any, **attrs: str) -> None:
        self.calls.append(("update", attrs))

    def delete_image(self, image: Any) -> None:
        self.calls.append(("delete", image.id))

    def create_image(self, **kwargs: Any) -> None:
        self.calls.append(("create", kwargs))


def glance_record(path: Path, **more: Any) -> Image:
    return Image.existing(id="i1", name="cirros", status="active", size=path.stat().st_size, disk_format="raw",
                          container_format="bare", os_hash_algo="sha512",
                          os_hash_value=hashlib.sha512(path.read_bytes()).hexdigest(), **more)


def test_same_file_and_properties_change_nothing_then_only_drifted_properties(tmp_path: Path) -> None:
    local = tmp_path / "cirros.img"
    local.write_bytes(BODY)
    images = FakeImages(glance_record(local, hw_firmware_type="uefi", hw_rescue_bus="usb"))
    admin = SimpleNamespace(image=images)
    assert ensure_image(admin, "cirros", local, "raw", "bare", {"hw_firmware_type": "uefi"}) == []
    out = ensure_image(admin, "cirros", local, "raw", "bare", {"hw_firmware_type": "bios", "hw_rescue_bus": "usb"})
    assert out == [Outcome("image cirros properties (hw_firmware_type)", "updated")]
    assert images.calls == [("update", {"hw_firmware_type": "bios"})]


@pytest.mark.parametrize("change", ["content", "disk_format"])
def test_other_bytes_or_format_upload_again(tmp_path: Path, change: str) -> None:
    local = tmp_path / "cirros.img"
    local.write_bytes(BODY)
    images = FakeImages(glance_record(local))
    if change == "content":
        local.write_bytes(BODY[::-1])  # same size, other bytes
    fmt = "qcow2" if change == "disk_format" else "raw"
    out = ensure_image(SimpleNamespace(image=images), "cirros", local, fmt, "bare", {"hw_rescue_bus": "usb"})
    assert out == [Outcome("image cirros", "updated")]
    assert [c[0] for c in images.calls] == ["delete", "create"]
    created = images.calls[1][1]
    assert (created["filename"], created["disk_format"], created["properties"]) == (str(local), fmt,
                                                                                    {"hw_rescue_bus": "usb"})
    assert created["visibility"] == "public"


def test_a_missing_image_is_created(tmp_path: Path) -> None:
    local = tmp_path / "cirros.img"
    local.write_bytes(BODY)
    images = FakeImages(None)
    assert ensure_image(SimpleNamespace(image=images), "cirros", local, "qcow2", "bare", {}) == [
        Outcome("image cirros", "created")]
    assert [c[0] for c in images.calls] == ["create"]


def test_post_setup_has_every_image_file_before_it_touches_the_cloud(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    guest = tmp_path / "guest.qcow2"
    guest.write_bytes(b"guest")
    cfg = write(tmp_path, [{"name": "cirros", "source": str(tmp_path / "gone.img")}])
    settings = load(cfg, {"data_dir": str(tmp_path / "data"), "guest.image": str(guest)}, environ={})

    def no_cloud(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("connected to the cloud")

    monkeypatch.setattr(setup, "connect", no_cloud)
    with pytest.raises(BadInput, match=r"cloud image cirros: source .*gone\.img: no such file"):
        setup.post_setup(settings, Paths(settings.data_dir), lambda _: None)
