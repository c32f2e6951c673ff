"""data_dir is made in one place and marked; clean removes only a directory hotstack made."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from hotstack import catalog
from hotstack.cli.main import Ctx
from hotstack.commands import clean_cmd
from hotstack.core import datadir, log
from hotstack.core.errors import BadInput
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, load

NAME = "unit"


@pytest.fixture
def known(settings: Settings) -> frozenset[str]:
    return catalog.data_entries(settings, Paths(settings.data_dir))


@pytest.fixture
def d(tmp_path: Path) -> Path:
    """An empty directory of the test's own (tmp_path holds the settings file)."""
    path = tmp_path / "d"
    path.mkdir()
    return path


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def legacy_layout(d: Path) -> None:
    (d / "state").mkdir(parents=True)
    (d / "mysql").mkdir()
    (d / "secrets.yaml").write_text("admin_password: x\n")


def refused(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(BadInput) as caught:
        fn(*args, **kwargs)
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_known_names_come_from_paths_and_the_catalog(known: frozenset[str]) -> None:
    assert {".hotstack-data", "config", "state", "logs", "secrets.yaml", "clouds.yaml", "images", "cache",
            "nova-instances", "nova-mnt", "cinder-nfs"} <= known  # core/paths.py
    assert {"mysql", "rabbitmq", "ovn", "ovn-controller", "keystone", "glance", "cinder", "nova", "neutron"} <= known


def test_ensure_makes_data_dir_0755_with_the_marker(tmp_path: Path, known: frozenset[str]) -> None:
    paths = Paths(tmp_path / "a" / "data")
    datadir.ensure_data_dir(paths, NAME, known)
    assert paths.data_dir.stat().st_mode & 0o777 == 0o755
    assert "deployment: unit" in paths.marker.read_text()
    datadir.ensure_data_dir(paths, NAME, known)  # again: nothing to do
    assert tree(paths.data_dir) == [".hotstack-data"]


@pytest.mark.parametrize("content", [[], ["logs"]], ids=["empty", "only-an-older-debug-log"])
def test_ensure_marks_an_empty_directory(d: Path, known: frozenset[str], content: list[str]) -> None:
    for name in content:
        (d / name).mkdir()
    datadir.ensure_data_dir(Paths(d), NAME, known)
    assert (d / ".hotstack-data").is_file()


def test_an_older_hotstacks_directory_is_accepted_and_marked(d: Path, known: frozenset[str]) -> None:
    legacy_layout(d)
    assert datadir.check_removable(Paths(d), NAME, known) is True
    assert "deployment: unit" in (d / ".hotstack-data").read_text()


def test_a_file_is_refused(tmp_path: Path, known: frozenset[str]) -> None:
    (tmp_path / "data").write_text("mine\n")
    assert "exists and is not a directory" in refused(datadir.ensure_data_dir, Paths(tmp_path / "data"), NAME, known)
    assert (tmp_path / "data").read_text() == "mine\n"


def test_a_symlink_is_refused(tmp_path: Path, known: frozenset[str]) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "data").symlink_to(tmp_path / "real")
    for fn in (datadir.ensure_data_dir, datadir.check_removable):
        assert "is a symlink (to" in refused(fn, Paths(tmp_path / "data"), NAME, known)
    assert tree(tmp_path / "real") == []


def test_a_parent_that_is_a_file_is_one_clear_error(tmp_path: Path, known: frozenset[str]) -> None:
    (tmp_path / "file").write_text("")
    message = refused(datadir.ensure_data_dir, Paths(tmp_path / "file" / "data"), NAME, known)
    assert "cannot be inspected: Not a directory" in message


def test_an_unreadable_directory_is_refused(d: Path, known: frozenset[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(path: Any) -> list[str]:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(datadir.os, "listdir", denied)  # root reads any mode: the kernel's answer, simulated
    assert "cannot be read: Permission denied" in refused(datadir.ensure_data_dir, Paths(d), NAME, known)


def test_a_read_only_directory_is_refused_unmarked(d: Path, known: frozenset[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datadir.os, "access", lambda path, mode: False)
    assert "is not writable" in refused(datadir.ensure_data_dir, Paths(d), NAME, known)
    assert tree(d) == []


def test_another_deployments_directory_is_refused(d: Path, known: frozenset[str]) -> None:
    legacy_layout(d)
    datadir.write_marker(Paths(d), "other")
    for fn in (datadir.ensure_data_dir, datadir.check_removable):
        assert "belongs to the hotstack deployment 'other', not 'unit'" in refused(fn, Paths(d), NAME, known)


def test_a_foreign_directory_is_refused_and_left_alone(d: Path, known: frozenset[str]) -> None:
    (d / "photos").mkdir()
    (d / "config").mkdir()
    before = tree(d)
    for fn in (datadir.ensure_data_dir, datadir.check_removable):
        message = refused(fn, Paths(d), NAME, known)
        assert "has no .hotstack-data marker" in message and "'photos'" in message
    assert tree(d) == before


def test_a_marked_directory_with_foreign_entries_is_not_removable(d: Path, known: frozenset[str]) -> None:
    datadir.ensure_data_dir(Paths(d), NAME, known)
    (d / "backup.sql").write_text("")
    (d / ".secrets.yaml.k2j3h4").write_text("")  # an interrupted atomic write is hotstack's
    message = refused(datadir.check_removable, Paths(d), NAME, known)
    assert "entries hotstack never makes: 'backup.sql'; nothing was removed" in message
    datadir.ensure_data_dir(Paths(d), NAME, known)  # writing into it stays allowed


def test_a_damaged_marker_is_bad_input(d: Path, known: frozenset[str]) -> None:
    legacy_layout(d)
    (d / ".hotstack-data").write_text("- just a list\n")
    assert "is damaged: it names no deployment" in refused(datadir.check_removable, Paths(d), NAME, known)


def test_absent_data_dir_is_nothing_to_remove(tmp_path: Path, known: frozenset[str]) -> None:
    assert datadir.check_removable(Paths(tmp_path / "none"), NAME, known) is False
    assert not (tmp_path / "none").exists()


def test_the_debug_log_never_goes_into_a_foreign_directory(tmp_path: Path, config_file: Path) -> None:
    foreign, mine = tmp_path / "foreign", tmp_path / "mine"
    foreign.mkdir()
    log.start(["hotstack", "status"])
    Ctx(config_file, (f"data_dir={foreign}",)).settings()
    assert tree(foreign) == []
    log.stop()
    datadir.write_marker(Paths(mine), "hotstack")
    log.start(["hotstack", "status"])
    Ctx(config_file, (f"data_dir={mine}",)).settings()
    assert (mine / "logs" / "hotstack.log").exists()  # a directory hotstack made gets its log


# --- clean ---------------------------------------------------------------------------------------

@pytest.fixture
def isolated_clean(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """clean with every host-touching phase replaced by a recorder (the data-dir phase stays real)."""
    ran: list[str] = []
    monkeypatch.setattr(clean_cmd.cleanup, "remove_containers", lambda paths: ran.append("containers") or [])
    monkeypatch.setattr(clean_cmd.cleanup, "remove_network", lambda s: ran.append("podman-network") or [])
    monkeypatch.setattr(clean_cmd.plan, "steps", lambda cat, host: ran.append("host-plan") or [])
    monkeypatch.setattr(clean_cmd, "remove_credentials", lambda s, paths: ran.append("credentials") or [])
    return ran


def unique_settings(config_file: Path, data_dir: Path) -> Settings:
    return load(config_file, {"data_dir": str(data_dir), "name": f"t-{uuid.uuid4().hex[:12]}"}, environ={})


def test_clean_refuses_a_foreign_directory_before_any_step(tmp_path: Path, config_file: Path,
                                                           isolated_clean: list[str]) -> None:
    data = tmp_path / "data"
    (data / "projects").mkdir(parents=True)
    (data / "projects" / "thesis.tex").write_text("years of work\n")
    before = tree(data)
    message = refused(clean_cmd.clean, unique_settings(config_file, data), yes=True, images=False)
    assert "hotstack did not make it" in message
    assert isolated_clean == []  # not even the containers phase ran
    assert tree(data) == before


def test_clean_removes_a_marked_directory(tmp_path: Path, config_file: Path, isolated_clean: list[str]) -> None:
    settings = unique_settings(config_file, tmp_path / "data")
    paths = Paths(settings.data_dir)
    datadir.ensure_data_dir(paths, settings.name, catalog.data_entries(settings, paths))
    (paths.data_dir / "mysql").mkdir()
    report = clean_cmd.clean(settings, yes=True, images=False)
    assert report.ok and not paths.data_dir.exists()
    assert isolated_clean == ["containers", "podman-network", "host-plan", "credentials"]


def test_clean_without_data_dir_leaves_none_behind(tmp_path: Path, config_file: Path,
                                                   isolated_clean: list[str]) -> None:
    settings = unique_settings(config_file, tmp_path / "never-made")
    assert clean_cmd.clean(settings, yes=True, images=False).ok
    assert not settings.data_dir.exists()  # the run lock's state/ went with it
    assert "containers" in isolated_clean


def test_marker_is_written_with_mode_0644(d: Path) -> None:
    datadir.write_marker(Paths(d), NAME)
    assert os.stat(d / ".hotstack-data").st_mode & 0o777 == 0o644


def test_a_writing_command_refuses_a_foreign_data_dir_first(tmp_path: Path, config_file: Path) -> None:
    from hotstack.commands.render_cmd import render_command

    data, out = tmp_path / "data", tmp_path / "out"
    (data / "notes").mkdir(parents=True)
    assert "hotstack did not make it" in refused(render_command, unique_settings(config_file, data), out)
    assert tree(data) == ["notes"] and not out.exists()  # no secrets.yaml, no rendered file
