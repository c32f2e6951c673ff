"""The pod node's command lines and names, checked without running anything."""

from __future__ import annotations

from pathlib import Path

from hotstack.host.node_pod import PodSpec, libvirt_run_argv, ovs_run_argv, pod_create_argv
from hotstack.host.underlay import host_end

SPEC = PodSpec("hotstack", "compute-2", "ovn:1", "node-libvirt:1", "base:1",
               run=Path("/run/hotstack/hotstack-compute-2"), root=Path("/var/lib/hotstack-os/nodes/compute-2"))


def test_names_derive_from_the_deployment_and_the_node() -> None:
    assert (SPEC.pod, SPEC.infra, SPEC.ovs, SPEC.libvirt) == (
        "hotstack-compute-2", "hotstack-compute-2-infra", "hotstack-compute-2-ovs", "hotstack-compute-2-libvirt")
    assert SPEC.ovsdb == "unix:/run/hotstack/hotstack-compute-2/openvswitch/db.sock"
    assert SPEC.libvirt_uri == "qemu+unix:///system?socket=/run/hotstack/hotstack-compute-2/libvirt/libvirt-sock"


def test_the_pod_has_a_namespace_of_its_own_and_a_sleeping_infra() -> None:
    argv = pod_create_argv(SPEC)
    assert argv[argv.index("--network") + 1] == "none"
    assert argv[argv.index("--infra-image") + 1] == "base:1"
    # podman splits --infra-command on spaces: one plain command, no JSON
    assert argv[argv.index("--infra-command") + 1] == "sleep infinity"


def test_the_daemons_run_in_the_pod_with_the_node_s_run_and_state_dirs() -> None:
    ovs, virt = ovs_run_argv(SPEC), libvirt_run_argv(SPEC)
    for argv in (ovs, virt):
        assert argv[argv.index("--pod") + 1] == SPEC.pod and "--privileged" in argv
    assert "/run/hotstack/hotstack-compute-2/openvswitch:/run/openvswitch" in ovs
    assert "/var/lib/hotstack-os/nodes/compute-2/openvswitch:/var/lib/openvswitch" in ovs
    assert "other_config:userspace-tso-enable=true" in ovs[-1]
    assert virt[virt.index("node-libvirt:1") + 1:][:2] == ["tini", "--"]  # PID 1 reaps qemu probes
    assert "/run/hotstack/hotstack-compute-2/openvswitch:/run/openvswitch" in virt


def test_host_veth_ends_are_short_and_differ_per_pod() -> None:
    names = {host_end(f"hotstack-compute-{i}") for i in range(50)}
    assert len(names) == 50 and all(len(n) <= 15 for n in names)
