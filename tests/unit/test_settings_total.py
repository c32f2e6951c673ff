"""Settings are total: every file, type, length and bound problem is one short BadInput."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from settingsfiles import refused, write

from hotstack.core import settings_file
from hotstack.core.settings import load

# (YAML text, a fragment the message must hold)
WRONG_TYPES = [
    ("network: {mtu: true}", "network.mtu = True: must be a whole number, not a boolean"),
    ("name: 123", "name = 123: must be a string, not a whole number"),
    ("region: 2025", 'quote it in the file, e.g. "2025"'),
    ("debug: 'yes'", "debug = 'yes': must be a boolean (true or false), not a string"),
    ("horizon: {enabled: 1}", "must be a boolean (true or false), not a whole number"),
    ("ports: {keystone: 5000.0}", "must be a whole number, not a decimal number"),
    ("network: {brex_ip: 1}", "network.brex_ip = 1: must be a string"),
    ("quotas: {cores: [1]}", "must be a whole number, not a list"),
    ("network: [1]", "network = [1]: must be a mapping, not a list"),
    ("guest: {image: 5}", "must be a string or empty, not a whole number"),
    ("data_dir: 5", "data_dir = 5: must be a string"),
    ("nova: {virt_type: true}", "nova.virt_type = True: must be a string, not a boolean"),
]


@pytest.mark.parametrize(("text", "fragment"), WRONG_TYPES)
def test_yaml_types_in_the_file_must_match(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in refused(write(tmp_path, text + "\n"))


def test_strings_from_environment_and_flags_are_parsed(config_file: Path) -> None:
    env = {"HOTSTACK_QUOTAS__CORES": "8", "HOTSTACK_HORIZON__ENABLED": "yes", "HOTSTACK_GUEST__IMAGE": ""}
    s = load(config_file, {"network.mtu": "1400", "debug": "true", "name": "123"}, environ=env)
    assert (s.network.mtu, s.debug, s.name, s.quotas.cores, s.horizon.enabled) == (1400, True, "123", 8, True)
    assert s.guest.image is None


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("network.mtu", "big", "valid integer"), ("debug", "maybe", "valid boolean"),
    ("quotas.cores", "1.5", "valid integer")])
def test_strings_from_flags_that_do_not_parse(config_file: Path, key: str, value: str, fragment: str) -> None:
    message = refused(config_file, {key: value})
    assert key in message and value in message and fragment in message


def test_unquoted_release_is_a_type_error_with_a_hint(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "release: 2025.10\n"))
    assert "release = 2025.1" in message and "quote it" in message and "2025.10" in message
    assert "quote it" in refused(write(tmp_path, "release: 2025.1\n"))
    assert load(write(tmp_path, 'release: "2025.1"\n'), environ={}).release == "2025.1"
    assert load(write(tmp_path, ""), environ={"HOTSTACK_RELEASE": "2025.1"}).release == "2025.1"


@pytest.mark.parametrize(("text", "line"), [
    ("region: A\nname: x\nregion: B\n", "'region' on line 3 (first on line 1)"),
    ("network:\n  mtu: 1400\n  mtu: 1450\n", "'mtu' on line 3 (first on line 2)"),
])
def test_duplicate_keys_are_refused_with_their_line(tmp_path: Path, text: str, line: str) -> None:
    message = refused(write(tmp_path, text))
    assert "duplicate key" in message and line in message


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    cfg = write(tmp_path, "network:\n  <<: {mtu: 1400, physnet: base}\n  mtu: 1450\n")
    s = load(cfg, environ={})
    assert (s.network.mtu, s.network.physnet) == (1450, "base")


def test_non_utf8_file(tmp_path: Path) -> None:
    assert "is not UTF-8 text (byte 8" in refused(write(tmp_path, b"region: \xff\xfe\n"))


def test_directory_as_config_file(tmp_path: Path) -> None:
    assert "is a directory, not a file" in refused(tmp_path)


def test_fifo_as_config_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert "is not a regular file" in refused(fifo)  # and it did not block reading it


def test_unreadable_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path, "region: A\n")
    cfg.chmod(0)
    if os.access(cfg, os.R_OK):  # root reads anything: make the kernel's answer the test's
        real = Path.open

        def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self == cfg:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", denied)
    assert "cannot be read: permission denied" in refused(cfg)


def test_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    cfg = write(tmp_path, "region: " + "a" * settings_file.MAX_BYTES + "\n")
    message = refused(cfg)
    assert "larger than 1024 KiB" in message and len(message) < 400


def test_deep_nesting_is_bad_input(tmp_path: Path) -> None:
    assert "nests too deeply" in refused(write(tmp_path, "[" * 100_000))


def test_huge_value_is_quoted_briefly(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "region: " + "x" * 500_000 + "\n"))
    assert "region" in message and "at most 255 characters" in message and len(message) < 400


def test_huge_value_from_a_flag_is_quoted_briefly(config_file: Path) -> None:
    message = refused(config_file, {"network.mtu": "9" * 100_000})
    assert "network.mtu" in message and len(message) < 400


BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x, x]"] + [
    f"{b}: &{b} [{', '.join(['*' + a] * 10)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)])


@pytest.mark.parametrize("tail", ["\nregion: *i\n", "\nguest: {image: *i}\n"])
def test_anchor_bomb_is_quoted_briefly(tmp_path: Path, tail: str) -> None:
    started = time.monotonic()
    message = refused(write(tmp_path, BOMB + tail))
    assert len(message) < 400 and time.monotonic() - started < 5


LIMITS = [
    ("name", "a" * 64, "at most 63 characters"),
    ("region", "R" * 256, "at most 255 characters"),
    ("network.physnet", "p" * 65, "at most 64 characters"),
    ("network.podman_network", "n" * 64, "at most 63 characters"),
    ("nova.host", "h" * 64, "at most 63 characters"),
    ("network.domain", "a" * 250 + ".local", "at most 253 characters"),
    ("images.mirror", "http://" + "m" * 2100, "at most 2048 characters"),
    ("guest.image", "/" + "g" * 4100, "at most 4096 characters"),
    ("data_dir", "/srv/" + "d" * 300, "at most 255 characters"),
    ("quotas.instances", "1000001", "less than or equal to 1000000"),
    ("quotas.ports", "-2", "greater than or equal to -1"),
    ("quotas.ram_mb", str(2**31), "less than or equal to 2147483647"),
    ("quotas.gigabytes", str(2**31), "less than or equal to 2147483647"),
    ("images.parallel", "17", "less than or equal to 16"),
    ("network.mtu", "1279", "greater than or equal to 1280"),
    ("ports.dns", "65536", "less than or equal to 65535"),
]


@pytest.mark.parametrize(("key", "value", "fragment"), LIMITS, ids=[k for k, _, _ in LIMITS])
def test_every_string_and_number_is_bounded(config_file: Path, key: str, value: str, fragment: str) -> None:
    message = refused(config_file, {key: value})
    assert key in message and fragment in message and len(message) < 400


def test_largest_allowed_values_load(config_file: Path) -> None:
    s = load(config_file, {"name": "a" * 63, "region": "R" * 255, "quotas.instances": "1000000",
                           "quotas.ram_mb": str(2**31 - 1), "quotas.cores": "-1"}, environ={})
    assert (len(s.name), len(s.region), s.quotas.cores) == (63, 255, -1)


@pytest.mark.parametrize(("brex_ip", "left"), [("172.31.0.254", 0), ("172.31.0.250", 4), ("172.31.0.247", 7)])
def test_brex_ip_must_leave_room_for_a_floating_pool(config_file: Path, brex_ip: str, left: int) -> None:
    message = refused(config_file, {"network.brex_ip": brex_ip})
    assert f"leaves {left} addresses above it" in message and "at least 8" in message


def test_brex_ip_with_exactly_eight_above_it_loads(config_file: Path) -> None:
    assert str(load(config_file, {"network.brex_ip": "172.31.0.246"}, environ={}).network.brex_ip) == "172.31.0.246"


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda d: str(d / "missing.img"), "no such file"),
    (lambda d: str(d), "not a directory or device"),
    (lambda d: "https://example.org/cirros.img", "URLs are not supported"),
    (lambda d: "ftp://example.org/cirros.img", "URLs are not supported"),
    (lambda d: "relative.img", "absolute path"),
])
def test_guest_image_is_checked_at_load_time(config_file: Path, tmp_path: Path, make: Any, fragment: str) -> None:
    value = make(tmp_path)
    message = refused(config_file, {"guest.image": value})
    assert "guest.image" in message and fragment in message


def test_unreadable_guest_image(config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = tmp_path / "guest.img"
    image.write_bytes(b"\0" * 512)
    monkeypatch.setattr("hotstack.core.settings_rules.os.access", lambda path, mode: False)
    assert "permission denied" in refused(config_file, {"guest.image": str(image)})


def test_readable_guest_image_loads(tmp_path: Path) -> None:
    image = tmp_path / "guest.qcow2"
    image.write_bytes(b"QFI\xfb")
    cfg = write(tmp_path, yaml.safe_dump({"guest": {"image": str(image)}}))
    assert load(cfg, environ={}).guest.image == str(image)


# data_dir: (value, a fragment of the rule the message must state)
DATA_DIRS = [
    ("relative/dir", "absolute path"),
    ("/", "must not be / itself"),
    ("/etc", "must not be /etc or under it"),
    ("/etc/hotstack", "must not be /etc or under it"),
    ("/usr/local/hotstack", "must not be /usr or under it"),
    ("/bin/x", "must not be /bin or under it"),
    ("/lib64/x", "must not be /lib64 or under it"),
    ("/boot/x", "must not be /boot or under it"),
    ("/dev/shm/x", "must not be /dev or under it"),
    ("/proc/1", "must not be /proc or under it"),
    ("/sys/x", "must not be /sys or under it"),
    ("/run/hotstack", "must not be /run or under it"),
    ("/var/log/hotstack", "must not be /var/log or under it"),
    ("/root", "must not be /root itself"),
    ("/home", "must not be /home itself"),
    ("/home/alice", "must not be a home directory itself"),
    ("/var", "must not be /var itself"),
    ("/var/lib", "must not be /var/lib itself"),
    ("/tmp", "must not be /tmp itself"),
    ("/opt", "must not be /opt itself"),
    ("/srv/../etc", "normalized path"),
    ("//srv/hotstack", "normalized path"),
    ("/srv/hot stack", "only letters, digits"),
    ("/srv/hot;rm -rf", "only letters, digits"),
    ("/srv/$(id)", "only letters, digits"),
    ("/srv/hötstack", "only letters, digits"),
]


@pytest.mark.parametrize(("value", "fragment"), DATA_DIRS, ids=[v for v, _ in DATA_DIRS])
def test_data_dir_rules(config_file: Path, value: str, fragment: str) -> None:
    message = refused(config_file, {"data_dir": value})
    assert "data_dir" in message and fragment in message, message


@pytest.mark.parametrize("value", ["/var/lib/hotstack-os", "/opt/hotstack", "/srv/hs_2.lab", "/home/alice/hotstack",
                                   "/tmp/hotstack", "/root/hotstack", "/var/lib/hotstack-os/"])
def test_data_dir_accepted(config_file: Path, value: str) -> None:
    assert str(load(config_file, {"data_dir": value}, environ={}).data_dir) == value.rstrip("/")


def test_data_dir_through_a_symlink_into_a_system_directory(config_file: Path, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("/etc")
    message = refused(config_file, {"data_dir": str(tmp_path / "link" / "hotstack")})
    assert "resolves through a symlink to /etc/hotstack" in message and "/etc or under it" in message
