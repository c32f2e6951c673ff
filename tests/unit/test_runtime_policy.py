"""The one runtime/ulimit policy: detected from this host, rendered to containers.conf, turned
into podman flags, written by the prepare step; the compose file carries none of its own."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from hotstack import catalog
from hotstack.containers import podman, runtime
from hotstack.core.errors import HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host.runtime import PodmanRuntime, conf_path
from hotstack.render import compose

HYBRID = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
50 27 0:40 / /sys/fs/cgroup rw - tmpfs tmpfs rw
51 50 0:41 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
52 50 0:42 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
"""
RUNC = runtime.Policy("runc", runtime.Limits(20000, 32768), "test")


def test_cgroup_modes() -> None:
    assert runtime.cgroup_mode(HYBRID) == "hybrid"
    assert runtime.cgroup_mode("1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n") == "unified"
    assert runtime.cgroup_mode("1 0 0:1 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw\n") == "legacy"


def test_runtime_choice() -> None:
    both = {"crun", "runc"}.__contains__
    assert runtime.choose_runtime("hybrid", both)[0] == "runc"
    assert runtime.choose_runtime("unified", both)[0] == "crun"
    assert runtime.choose_runtime("legacy", {"runc"}.__contains__)[0] == "runc"
    name, why = runtime.choose_runtime("hybrid", {"crun"}.__contains__)
    assert name is None and "no working OCI runtime" in why
    with pytest.raises(HotstackError, match="no working OCI runtime"):
        runtime.require(runtime.Policy(None, runtime.Limits(1, 1), why))


def test_limits_are_capped_by_the_hard_limits() -> None:
    assert runtime.capped(20000, 96365) == runtime.Limits(20000, 32768)
    inf = resource.RLIM_INFINITY
    assert runtime.capped(inf, inf) == runtime.Limits(runtime.WANT_NOFILE, runtime.WANT_NPROC)
    assert runtime.capped(1024, 512) == runtime.Limits(1024, 512)
    mine = runtime.host_limits()
    for limit, got in ((resource.RLIMIT_NOFILE, mine.nofile), (resource.RLIMIT_NPROC, mine.nproc)):
        hard = resource.getrlimit(limit)[1]
        assert hard == inf or got <= hard


def test_this_hosts_policy(tmp_path: Path) -> None:
    """Real detection on this machine: hybrid cgroups must never pick crun."""
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(HYBRID)
    policy = runtime.detect(mountinfo)
    assert policy.runtime in ("runc", None) and policy.limits == runtime.host_limits()
    if runtime.runtime_works("runc"):
        assert policy.runtime == "runc" and "hybrid" in policy.why


def test_conf_text() -> None:
    text = runtime.conf_text(RUNC)
    assert 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]' in text
    assert '[engine]\nruntime = "runc"' in text
    assert "[engine]" not in runtime.conf_text(runtime.Policy(None, RUNC.limits, ""))


def test_podman_flags_come_from_the_policy() -> None:
    assert podman.command(["build", "x"], RUNC) == [
        "podman", "--runtime", "runc", "build",
        "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768", "x"]
    bare = runtime.Policy(None, runtime.Limits(1024, 512), "")
    assert podman.command(["run", "--rm", "i"], bare) == [
        "podman", "run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=512:512", "--rm", "i"]
    assert podman.command(["image", "exists", "i"], RUNC) == ["podman", "--runtime", "runc", "image", "exists", "i"]


def test_conf_env_writes_the_same_policy(tmp_path: Path) -> None:
    env = podman.conf_env(tmp_path / "state")
    conf = Path(env["CONTAINERS_CONF"])
    assert conf == tmp_path / "state" / runtime.CONF_NAME
    assert conf.read_text() == runtime.conf_text(runtime.current())
    mtime = conf.stat().st_mtime_ns
    podman.conf_env(tmp_path / "state")
    assert conf.stat().st_mtime_ns == mtime  # unchanged content is not rewritten


def test_prepare_step_writes_checks_and_removes(paths: Paths, tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(HYBRID)
    step = PodmanRuntime(paths, mountinfo)
    if not runtime.runtime_works("runc"):
        pytest.skip("runc is not installed here")
    assert step.check() and "runtime runc" in step.check()[0]
    step.apply()
    assert step.check() == []
    assert conf_path(paths).read_text() == runtime.conf_text(runtime.detect(mountinfo))
    assert step.remove() == [f"removed {conf_path(paths)}"] and not conf_path(paths).exists()


def test_compose_definitions_carry_no_ulimits(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    definition = compose.service_definition(cat, cat["mariadb"], "img", "digest")
    assert "ulimits" not in definition
