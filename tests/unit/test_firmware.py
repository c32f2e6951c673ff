"""UEFI firmware: the descriptors read the way nova reads them (real JSON files of Debian's
shape in a temp dir), the doctor's finding, and nova-compute mounting what prepare found."""

from __future__ import annotations

import json
from pathlib import Path

from hotstack import catalog
from hotstack.core.hostfacts import FACTS_FILE
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import doctor, firmware
from hotstack.host.system import Host


def descriptor(folder: Path, name: str, code: Path, features: list[str], machines: list[str] | None = None) -> Path:
    """A descriptor shaped like those of Debian's ovmf (60-edk2-x86_64.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"description": name, "interface-types": ["uefi"],
            "mapping": {"device": "flash", "executable": {"filename": str(code), "format": "raw"},
                        "nvram-template": {"filename": str(code.with_name("VARS.fd")), "format": "raw"}},
            "targets": [{"architecture": "x86_64", "machines": machines or ["pc-i440fx-*", "pc-q35-*"]}],
            "features": features, "tags": []}
    path = folder / name
    path.write_text(json.dumps(spec))
    return path


def firmware_files(tmp_path: Path) -> Path:
    code = tmp_path / "ovmf" / "CODE.fd"
    code.parent.mkdir()
    code.write_bytes(b"code")
    code.with_name("VARS.fd").write_bytes(b"vars")
    return code


def test_plain_uefi_is_the_first_without_secure_boot_for_q35(tmp_path: Path) -> None:
    code = firmware_files(tmp_path)
    share, etc = tmp_path / "share", tmp_path / "etc"
    descriptor(share, "40-secure-enrolled.json", code, ["secure-boot", "requires-smm", "enrolled-keys"])
    descriptor(share, "50-i440fx-only.json", code, [], ["pc-i440fx-*"])
    plain = descriptor(share, "60-plain.json", code, ["acpi-s3"])
    descriptor(etc, "10-local.json", code, [])
    (share / "70-broken.json").write_text("{not json")
    (share / "80-bios.json").write_text(json.dumps({"interface-types": ["bios"], "mapping": {"device": "memory"}}))
    found = firmware.descriptors((share, etc, tmp_path / "absent"))
    assert [f.descriptor.name for f in found] == ["40-secure-enrolled.json", "50-i440fx-only.json",
                                                  "60-plain.json", "10-local.json"]  # nova's order
    chosen = firmware.plain_uefi(found)
    assert chosen is not None and chosen.descriptor == plain and chosen.code == code
    assert firmware.missing_files(chosen) == []
    assert firmware.plain_uefi(found, "pc-i440fx").descriptor.name == "50-i440fx-only.json"  # type: ignore[union-attr]


def findings(settings: Settings, paths: Paths, dirs: tuple[Path, ...]) -> list[doctor.Finding]:
    return doctor.uefi_firmware(catalog.build(settings, paths), Host(qemu_firmware=dirs))


def test_doctor_warns_without_firmware_and_when_nova_compute_does_not_see_it(settings: Settings, paths: Paths,
                                                                            tmp_path: Path) -> None:
    share = tmp_path / "share"
    none = findings(settings, paths, (share,))
    assert none[0].level == "warn" and "hw_firmware_type=uefi" in none[0].message and "ovmf" in none[0].fix
    code = firmware_files(tmp_path)
    descriptor(share, "60-plain.json", code, [])
    ok = findings(settings, paths, (share,))
    assert ok[0].level == "ok" and str(code) in ok[0].message  # before prepare: nothing recorded yet
    paths.state.mkdir(parents=True, exist_ok=True)
    (paths.state / FACTS_FILE).write_text(json.dumps({"firmware_dirs": ""}))
    unseen = findings(settings, paths, (share,))
    assert unseen[0].level == "warn" and "hotstack prepare" in unseen[0].fix
    code.unlink()
    gone = findings(settings, paths, (share,))
    assert gone[0].level == "warn" and str(code) in gone[0].message


def test_nova_compute_mounts_the_recorded_descriptor_dirs_read_only(settings: Settings, paths: Paths) -> None:
    before = catalog.build(settings, paths)["nova-compute"].volumes
    assert not [v for v in before if "firmware" in v.source]
    paths.state.mkdir(parents=True, exist_ok=True)
    (paths.state / FACTS_FILE).write_text(json.dumps({"firmware_dirs": "/usr/share/qemu/firmware /etc/qemu/firmware"}))
    mounted = [v for v in catalog.build(settings, paths)["nova-compute"].volumes if "firmware" in v.source]
    assert [(v.source, v.target, v.read_only) for v in mounted] == [
        ("/usr/share/qemu/firmware", "/usr/share/qemu/firmware", True),
        ("/etc/qemu/firmware", "/etc/qemu/firmware", True)]
