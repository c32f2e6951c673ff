"""The guest image: its init script, module order, initramfs, package reading and build skipping.

Packages and kernel trees are real files made in tmp_path (an ar archive holding a
data.tar.xz, modules carrying a .modinfo `depends=` string); nothing is downloaded.
"""

from __future__ import annotations

import gzip
import io
import lzma
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from hotstack.core import distro
from hotstack.core.errors import CommandError, HotstackError
from hotstack.guest import debian as guest_debian
from hotstack.guest import image as guest
from hotstack.guest import init as guest_init
from hotstack.guest import initramfs as guest_initramfs
from hotstack.guest import kernel as guest_kernel
from hotstack.guest import sources as guest_sources
from hotstack.guest.kernel import Kernel, load_order

ORDER = ["virtio_ring", "virtio", "virtio_pci", "failover", "net_failover", "virtio_net",
         "virtio_blk"]
DEPS = {"virtio_ring": [], "virtio": ["virtio_ring"], "virtio_pci": ["virtio_ring", "virtio"],
        "failover": [], "net_failover": ["failover"],
        "virtio_net": ["virtio_ring", "virtio", "net_failover"], "virtio_blk": ["virtio"],
        "button": [], "evdev": []}


def ko(name: str, deps: list[str]) -> bytes:
    """A stand-in module: ELF-ish junk around the .modinfo strings the kernel would read."""
    return b"\x7fELF\0junk\0" + f"name={name}\0depends={','.join(deps)}\0".encode() + b"\0tail"


# --- init script ------------------------------------------------------------------------

def test_init_has_marker_mounts_dhcp_and_metadata() -> None:
    script = guest_init.init_script(ORDER)
    assert script.startswith("#!/bin/sh\n")
    assert f'say "{guest_init.MARKER}"' in script
    assert "mount -t devtmpfs" in script and "mount -t proc" in script
    assert f"udhcpc -i eth0 -s {guest_init.UDHCPC_SCRIPT}" in script
    assert "-O staticroutes" in script and "-O mtu" in script
    assert guest_init.METADATA_URL in script and "HOTSTACK-METADATA ok" in script
    assert "HOTSTACK-DISKS" in script
    assert script.rstrip().endswith("done")  # ends in the endless loop: PID 1 never exits
    assert "wget -q -T" not in script  # busybox 1.35's static wget crashes on -T


def test_init_loads_modules_in_the_given_order() -> None:
    script = guest_init.init_script(ORDER)
    assert f"for m in {' '.join(ORDER)}; do" in script
    assert script.index("for m in") < script.index("udhcpc") < script.index(guest_init.MARKER)
    assert "HOTSTACK-MODULES none needed" in guest_init.init_script([])


def test_udhcpc_script_sets_address_routes_dns_and_reports() -> None:
    script = guest_init.udhcpc_script()
    for needle in ('ip addr add "$ip/$mask"', "staticroutes", 'default via "$1"',
                   "/etc/resolv.conf", "HOTSTACK-IP $ip/$mask", 'mtu "$mtu"'):
        assert needle in script


def run_hook(tmp_path: Path, event: str, lease: dict[str, str]) -> tuple[list[str], str, str]:
    """Run the DHCP hook on this host with a fake `ip` that logs; (ip calls, console, resolv)."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "ip").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/ip.log\n')
    (fake / "ip").chmod(0o755)
    hook = tmp_path / "hook"
    hook.write_text(guest_init.udhcpc_script())
    env = {"PATH": f"{fake}:/usr/bin:/bin", "HOTSTACK_CONSOLE": str(tmp_path / "console"),
           "HOTSTACK_RESOLV": str(tmp_path / "resolv"), "interface": "eth0", **lease}
    subprocess.run(["sh", str(hook), event], env=env, check=True)
    calls = (tmp_path / "ip.log").read_text().splitlines()
    return calls, (tmp_path / "console").read_text(), (tmp_path / "resolv").read_text()


def test_dhcp_hook_prefers_classless_routes_as_ovn_sends_them(tmp_path: Path) -> None:
    # OVN sends option 121 with the metadata route; a client must then ignore option 3.
    calls, console, resolv = run_hook(tmp_path, "bound", {
        "ip": "10.0.0.5", "mask": "26", "router": "10.0.0.1", "dns": "10.0.0.2 10.0.0.3",
        "mtu": "1442", "staticroutes": "169.254.169.254/32 10.0.0.2 0.0.0.0/0 10.0.0.1"})
    assert "addr add 10.0.0.5/26 broadcast + dev eth0" in calls
    assert "link set dev eth0 mtu 1442" in calls
    assert "route replace 169.254.169.254/32 via 10.0.0.2 dev eth0" in calls
    assert "route replace 0.0.0.0/0 via 10.0.0.1 dev eth0" in calls
    assert not any("default" in c for c in calls)
    assert console == "HOTSTACK-IP 10.0.0.5/26 router 10.0.0.1 mtu 1442\n"
    assert resolv == "nameserver 10.0.0.2\nnameserver 10.0.0.3\n"


def test_dhcp_hook_uses_the_router_without_classless_routes(tmp_path: Path) -> None:
    calls, console, _ = run_hook(tmp_path, "bound", {"ip": "10.0.2.15", "mask": "24",
                                                     "router": "10.0.2.2 10.0.2.3"})
    assert "route replace default via 10.0.2.2 dev eth0" in calls
    assert console.startswith("HOTSTACK-IP 10.0.2.15/24 ")


def test_init_answers_tcp_with_the_greeting(tmp_path: Path) -> None:
    script = guest_init.init_script(ORDER)
    assert f"nc -ll -p {guest_init.TCP_PORT} -e {guest_init.TCP_HELLO}" in script
    hello = tmp_path / "hello"
    hello.write_text(guest_init.hello_script())
    out = subprocess.run(["sh", str(hello)], check=True, capture_output=True, text=True).stdout
    assert out == guest_init.TCP_GREETING + "\n"


@pytest.mark.parametrize("text", [guest_init.init_script(ORDER), guest_init.udhcpc_script(),
                                  guest_init.hello_script()])
def test_scripts_parse_as_posix_shell(text: str, tmp_path: Path) -> None:
    path = tmp_path / "script"
    path.write_text(text)
    subprocess.run(["sh", "-n", str(path)], check=True)


def test_syslinux_cfg_boots_the_kernel_on_the_serial_console() -> None:
    cfg = guest_init.syslinux_cfg("vmlinuz", "initrd.gz")
    assert "KERNEL /vmlinuz" in cfg and "INITRD /initrd.gz" in cfg
    assert "console=ttyS0" in cfg.split("APPEND", 1)[1]
    assert "TIMEOUT 0" in cfg
    assert "SYSAPPEND 0x40000\n" in cfg  # FSUUID=<serial>: the guest's HOTSTACK-BOOT line reads it


def test_boot_line_names_firmware_serial_and_disk(tmp_path: Path) -> None:
    """The init's boot_line, run by a host shell against a fake /proc/cmdline, /sys and findfs."""
    script = guest_init.init_script(ORDER)
    func = script[script.index("boot_line() {"):script.index("\n}\n", script.index("boot_line() {")) + 3]
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("BOOT_IMAGE=/vmlinuz console=ttyS0 initrd=/initrd.gz FSUUID=BEEF-5E5C\n")
    (tmp_path / "bin").mkdir()
    findfs = tmp_path / "bin" / "findfs"
    findfs.write_text('#!/bin/sh\n[ "$1" = UUID=BEEF-5E5C ] && echo /dev/vdb\n')
    findfs.chmod(0o755)
    body = func.replace("/proc/cmdline", str(cmdline)).replace("/sys/firmware/efi", str(tmp_path / "efi"))
    run = lambda: subprocess.run(["sh", "-c", body + "boot_line"], check=True, capture_output=True, text=True,  # noqa: E731
                                 env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}).stdout
    assert run() == "bios BEEF-5E5C vdb\n"
    (tmp_path / "efi").mkdir()
    cmdline.write_text("console=ttyS0\n")
    assert run() == "uefi unknown unknown\n"


def test_image_folders_come_parent_first() -> None:
    assert guest.folders(["vmlinuz", guest.EFI_LOADER, guest.ENTRY]) == ["EFI", "loader", "EFI/BOOT",
                                                                       "loader/entries"]
    assert guest.volume_id(guest.SERIAL) == "4853-5354" and guest.volume_id("beef5e5c") == "BEEF-5E5C"


# --- modules ----------------------------------------------------------------------------

def test_load_order_puts_dependencies_first_and_skips_builtins() -> None:
    order = load_order(DEPS, builtin=set())
    for name, deps in DEPS.items():
        assert all(order.index(d) < order.index(name) for d in deps)
    assert order[-2:] == ["button", "evdev"]
    assert "failover" not in load_order(DEPS, builtin={"failover", "net_failover"})


def test_load_order_names_a_missing_required_module() -> None:
    deps = {k: v for k, v in DEPS.items() if k != "virtio_ring"}
    with pytest.raises(ValueError, match="virtio_ring"):
        load_order(deps, builtin=set())
    assert load_order({}, builtin={"virtio_pci", "virtio_net", "virtio_blk"}) == []


def test_modinfo_and_modules_dep_parsing() -> None:
    assert guest_kernel.modinfo_depends(ko("x", ["virtio", "virtio-ring"])) == [
        "virtio", "virtio_ring"]
    assert guest_kernel.modinfo_depends(ko("x", [])) == []
    table = guest_kernel.parse_modules_dep(
        "kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz\n")
    assert table == {"virtio_net": ("kernel/drivers/net/virtio_net.ko.xz", ["net_failover"])}
    assert guest_kernel.module_name("a/virtio-rng.ko.zst") == "virtio_rng"


def test_host_kernel_from_a_tree(tmp_path: Path) -> None:
    boot, mods = tmp_path / "boot", tmp_path / "modules" / "9.9.9-test"
    boot.mkdir()
    (boot / "vmlinuz-9.9.9-test").write_bytes(b"KERNEL")
    (mods / "kernel").mkdir(parents=True)
    lines = []
    for name, deps in DEPS.items():
        (mods / "kernel" / f"{name}.ko.xz").write_bytes(lzma.compress(ko(name, deps)))
        lines.append(f"kernel/{name}.ko.xz: " + " ".join(f"kernel/{d}.ko.xz" for d in deps))
    (mods / "modules.dep").write_text("\n".join(lines) + "\n")
    (mods / "modules.builtin").write_text("kernel/drivers/block/virtio_blk.ko\n")
    kernel = guest_kernel.host_kernel(boot, tmp_path / "modules", "9.9.9-test")
    assert kernel is not None and kernel.vmlinuz == b"KERNEL"
    assert "virtio_blk" not in kernel.modules
    assert kernel.modules["virtio"] == ko("virtio", ["virtio_ring"])
    assert guest_kernel.host_kernel(boot, tmp_path / "modules", "0.0-absent") is None


# --- Debian packages --------------------------------------------------------------------

def make_deb(path: Path, files: dict[str, bytes]) -> Path:
    """A real .deb layout: ar archive with debian-binary and an xz data tarball."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    out = bytearray(b"!<arch>\n")
    for name, content in (("debian-binary", b"2.0\n"), ("data.tar.xz", data.getvalue())):
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(content):<10}`\n".encode()
        out += content + (b"\n" if len(content) % 2 else b"")
    path.write_bytes(bytes(out))
    return path


def test_scan_kernel_reads_vmlinuz_and_orders_modules(tmp_path: Path) -> None:
    # virtio_pci sorts before its dependency virtio_ring here, forcing the second pass.
    files = {"boot/vmlinuz-6.1.0-9-amd64": b"KERNEL",
             "lib/modules/6.1.0-9-amd64/modules.builtin": b"kernel/x/evdev.ko\n",
             "lib/modules/6.1.0-9-amd64/kernel/a/virtio_ring_dep.ko": ko("y", []),
             "lib/modules/6.1.0-9-amd64/kernel/a/sound.ko": ko("sound", [])}
    files.update({f"lib/modules/6.1.0-9-amd64/kernel/{'b' if n == 'virtio_ring' else 'a'}/{n}.ko":
                  ko(n, d) for n, d in DEPS.items() if n != "evdev"})
    kernel = guest_debian.scan_kernel(make_deb(tmp_path / "k.deb", files))
    assert kernel.version == "6.1.0-9-amd64" and kernel.vmlinuz == b"KERNEL"
    assert list(kernel.modules) == load_order(DEPS, {"evdev"})
    assert "sound" not in kernel.modules


def test_apt_show_parsing_finds_the_versioned_kernel() -> None:
    table = guest_debian.parse_apt_show(
        "Package: linux-image-amd64\nVersion: 6.1.192-2\n"
        "Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)\nDescription: x\n more\n\n"
        "Package: busybox-static\nVersion: 1:1.35.0-4\n")
    assert guest_debian.kernel_package(table["linux-image-amd64"]) == (
        "linux-image-6.1.0-56-amd64", "6.1.192-2")
    assert table["busybox-static"]["Version"] == "1:1.35.0-4"


# --- initramfs --------------------------------------------------------------------------

def read_newc(blob: bytes) -> dict[str, tuple[int, int, bytes]]:
    """name -> (mode, rdev major, data) from a newc archive."""
    entries: dict[str, tuple[int, int, bytes]] = {}
    pos = 0
    while True:
        fields = [int(blob[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        name_end = pos + 110 + fields[11]
        name = blob[pos + 110: name_end - 1].decode()
        data_start = name_end + (-name_end % 4)
        data = blob[data_start: data_start + fields[6]]
        pos = data_start + fields[6] + (-(data_start + fields[6]) % 4)
        if name == "TRAILER!!!":
            return entries
        entries[name] = (fields[1], fields[9], data)


def test_initramfs_holds_init_busybox_console_and_modules() -> None:
    blob = guest_initramfs.initramfs(b"BUSYBOX", {"virtio": b"KO"})
    assert blob == guest_initramfs.initramfs(b"BUSYBOX", {"virtio": b"KO"})  # reproducible
    entries = read_newc(gzip.decompress(blob))
    mode, _, init = entries["init"]
    assert stat.S_ISREG(mode) and mode & 0o111 and b"for m in virtio;" in init
    assert stat.S_ISCHR(entries["dev/console"][0]) and entries["dev/console"][1] == 5
    assert entries["bin/sh"][2] == b"busybox" and entries["lib/modules/virtio.ko"][2] == b"KO"
    assert "etc/udhcpc.script" in entries
    hello_mode, _, hello = entries[guest_init.TCP_HELLO.lstrip("/")]
    assert hello_mode & 0o111 and hello == guest_init.hello_script().encode()


# --- build and skip ---------------------------------------------------------------------

@pytest.fixture
def fake_sources(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    state = {"vmlinuz": b"K" * 1000}
    monkeypatch.setattr(guest_sources, "sources", lambda cache, progress: (
        Kernel("6.1.0-test", "test", state["vmlinuz"], {"virtio": b"KO"}), b"BUSYBOX"))
    # SYSLINUX's EFI files as bytes of their own (the real ones boot in tests/integration)
    monkeypatch.setattr(guest, "efi_loader", lambda: b"EFI")
    return state


def test_a_missing_efi_loader_names_its_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(distro, "current", lambda: distro.Distro("debian"))
    monkeypatch.setattr(guest, "SYSTEMD_BOOT", tmp_path / "systemd-bootx64.efi")
    with pytest.raises(HotstackError) as caught:
        guest.efi_loader()
    assert "systemd-bootx64.efi" in caught.value.message and "systemd-boot-efi" in (caught.value.hint or "")


def test_the_uefi_entry_boots_the_same_kernel_with_the_fat_serial() -> None:
    entry = guest_init.boot_entry("vmlinuz", "initrd.gz", "4853-5354")
    assert "linux /vmlinuz\n" in entry and "initrd /initrd.gz\n" in entry
    assert f"options {guest_init.KERNEL_CMDLINE} FSUUID=4853-5354\n" in entry
    assert guest_init.loader_conf() == "default hotstack.conf\ntimeout 0\n"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def assemble(work: Path, files: dict[str, bytes], fmt: str) -> Path:
        calls.append(fmt)
        (work / "disk").write_bytes(b"".join(files.values()))
        return work / "disk"

    monkeypatch.setattr(guest, "_assemble", assemble)
    return calls


def test_build_skips_when_inputs_are_unchanged(tmp_path: Path, fake_sources: dict[str, bytes],
                                               counted: list[str]) -> None:
    out = tmp_path / "img" / "guest.img"
    first = guest.build_guest_image(out, tmp_path / "cache")
    assert first.built and first.format == "raw" and first.size_bytes == out.stat().st_size
    again = guest.build_guest_image(out, tmp_path / "cache")
    assert not again.built and again.kernel_version == "6.1.0-test" and counted == ["raw"]
    fake_sources["vmlinuz"] = b"new kernel"
    assert guest.build_guest_image(out, tmp_path / "cache").built
    out.write_bytes(b"truncated")  # a damaged image is rebuilt, whatever its stamp says
    assert guest.build_guest_image(out, tmp_path / "cache").built
    assert len(counted) == 3 and not list(out.parent.glob(".guest.img.*"))


def test_qcow2_name_gives_qcow2(tmp_path: Path, fake_sources: dict[str, bytes],
                                counted: list[str]) -> None:
    image = guest.build_guest_image(tmp_path / "guest.qcow2", tmp_path / "cache")
    assert image.format == "qcow2" and counted == ["qcow2"]


TOOLS = ("mkfs.vfat", "syslinux", "mcopy", "mdir")


@pytest.mark.skipif(not all(map(shutil.which, TOOLS)), reason="needs dosfstools, syslinux, mtools")
def test_real_disk_holds_loader_kernel_and_initrd(tmp_path: Path,
                                                  fake_sources: dict[str, bytes]) -> None:
    image = guest.build_guest_image(tmp_path / "guest.img", tmp_path / "cache")
    with image.path.open("rb") as disk:
        sector = disk.read(512)
    assert sector[510:] == b"\x55\xaa"  # syslinux's boot sector
    listing = subprocess.run(["mdir", "-a", "-b", "-s", "-i", str(image.path), "::/"], check=True,
                             capture_output=True, text=True,
                             env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"}).stdout
    for name in ("vmlinuz", "initrd.gz", "syslinux.cfg", "ldlinux.sys", "ldlinux.c32", "efi/boot/bootx64.efi",
                 "loader/loader.conf", "loader/entries/hotstack.conf"):
        assert f"::/{name}" in listing.lower()


# --- sources and their cache ------------------------------------------------------------

@pytest.fixture
def fake_apt(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """apt answering from local fake packages; records what was downloaded."""
    downloads: list[str] = []
    kernel_files = {"boot/vmlinuz-6.1.0-9-amd64": b"KERNEL"}
    kernel_files.update({f"lib/modules/6.1.0-9-amd64/kernel/{n}.ko": ko(n, d)
                         for n, d in DEPS.items()})
    debs = {"linux-image-6.1.0-9-amd64": kernel_files, "busybox-static": {"bin/busybox": b"BB"}}
    table = {"linux-image-amd64": {"Version": "1", "Depends": "linux-image-6.1.0-9-amd64 (= 2)"},
             "busybox-static": {"Version": "1:1.35"}}

    def download(name: str, version: str, into: Path) -> Path:
        downloads.append(f"{name}={version}")
        return make_deb(into / f"{name}_{version}.deb", debs[name])

    monkeypatch.setattr(guest_sources, "host_kernel", lambda: None)
    monkeypatch.setattr(guest_debian, "candidates", lambda: table)
    monkeypatch.setattr(guest_debian, "download", download)
    return downloads


def test_sources_download_once_then_use_the_cache(tmp_path: Path, fake_apt: list[str]) -> None:
    cache = tmp_path / "cache"
    kernel, busybox = guest_sources.sources(cache, lambda _m: None)
    assert busybox == b"BB" and kernel.version == "6.1.0-9-amd64"
    assert list(kernel.modules) == load_order(DEPS, set())
    again, _ = guest_sources.sources(cache, lambda _m: None)
    assert again == kernel
    assert fake_apt == ["busybox-static=1:1.35", "linux-image-6.1.0-9-amd64=2"]
    assert sorted(p.name for p in cache.iterdir()) == [
        "busybox-static_1_1.35", "linux-image-6.1.0-9-amd64_2"]


def test_sources_without_apt_use_an_earlier_cache_or_fail(
        tmp_path: Path, fake_apt: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> dict[str, dict[str, str]]:
        raise CommandError(["apt-cache"], 100, "E: no lists")

    guest_sources.sources(tmp_path / "cache", lambda _m: None)
    monkeypatch.setattr(guest_debian, "candidates", broken)
    kernel, _ = guest_sources.sources(tmp_path / "cache", lambda _m: None)
    assert kernel.vmlinuz == b"KERNEL"
    with pytest.raises(CommandError):
        guest_sources.sources(tmp_path / "empty", lambda _m: None)


def test_the_guest_reaches_an_address_only_when_its_user_data_asks() -> None:
    from hotstack.guest.init import REACH, USER_DATA_URL, init_script

    script = init_script(["virtio_net"])
    assert USER_DATA_URL in script and f'[ "$1" = "{REACH}" ]' in script
    assert "HOTSTACK-REACH ping $got $2 try $n" in script and "HOTSTACK-REACH tcp ok" in script
    assert script.index("reach\n") > script.index("HOTSTACK-METADATA ok")  # after the metadata answered


def test_heartbeats_are_read_in_order_and_other_lines_ignored() -> None:
    boot = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    console = (f"HOTSTACK-GUEST-READY\r\nHOTSTACK-ALIVE {boot} 10\r\nnoise HOTSTACK-ALIVE x 1\n"
               f"HOTSTACK-ALIVE {boot} 20\n")
    assert guest_init.heartbeats(console) == [(boot, 10), (boot, 20)]
    assert f'say "{guest_init.HEARTBEAT} $boot_id' in guest_init.init_script([])
