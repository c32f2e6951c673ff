"""Each built image starts and its main programs answer (real podman, the built images).

Run after `hotstack build`:  pytest -m images tests/integration/test_images_real.py
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hotstack.containers import podman

pytestmark = [pytest.mark.integration, pytest.mark.images]

# image -> shell commands that must succeed inside it
CHECKS: dict[str, list[str]] = {
    "infra": ["mariadbd --version", "test -x /usr/sbin/rabbitmq-server", "haproxy -v",
              "dnsmasq --version", "memcached -V", "id -u mysql | grep -qx 42408",
              "id -u rabbitmq | grep -qx 42409", "id -u memcache | grep -qx 42410",
              "id -u haproxy | grep -qx 42411"],
    "keystone": ["keystone-manage --version", "uwsgi --version",
                 "uwsgi --plugin python3 --help >/dev/null", "id -u keystone | grep -qx 42401"],
    "glance": ["glance-manage --version", "uwsgi --version", "id -u glance | grep -qx 42402"],
    "placement": ["placement-manage --version", "uwsgi --version",
                  "id -u placement | grep -qx 42403"],
    "nova": ["nova-manage --version", "uwsgi --version", "test -x /usr/bin/nova-api-wsgi",
             "test -x /usr/bin/nova-metadata-wsgi",
             "test -x /usr/bin/nova-conductor", "test -x /usr/bin/nova-scheduler",
             "test -x /usr/bin/nova-novncproxy", "test -f /usr/share/novnc/vnc.html",
             "id -u nova | grep -qx 42404"],
    "nova-compute": ["nova-manage --version", "test -x /usr/bin/nova-compute",
                     "qemu-img --version", "test -x /sbin/mount.nfs",
                     "python3 -c 'import libvirt, os_vif'", "ovsdb-client --version",
                     "! test -e /usr/sbin/libvirtd", "! command -v qemu-system-x86_64",
                     "id -u nova | grep -qx 42404"],
    "neutron": ["neutron-server --version", "test -x /usr/bin/neutron-ovn-metadata-agent", "iptables-save --version",
                "haproxy -v", "ovsdb-client --version", "ip -V", "id -u neutron | grep -qx 42405"],
    "cinder": ["cinder-manage --version", "uwsgi --version", "qemu-img --version",
               "test -x /sbin/mount.nfs", "test -x /usr/bin/cinder-volume",
               "id -u cinder | grep -qx 42406"],
    "heat": ["heat-manage --version", "uwsgi --version", "test -x /usr/bin/heat-engine",
             "id -u heat | grep -qx 42407"],
    "ovn": ["ovn-northd --version", "ovsdb-server --version", "ovn-controller --version"],
    # Static files compressed at build time; no Apache, no Debian settings snippet, no secret key.
    "horizon": ["python3 -c 'import openstack_dashboard, horizon'", "uwsgi --version",
                "test -s /var/lib/openstack-dashboard/static/dashboard/manifest.json",
                "! command -v apache2", "! ls /etc/openstack-dashboard/local_settings.d/_000?_debian_*",
                "! test -e /etc/openstack-dashboard/local_settings.py",
                "test -z \"$(ls -A /var/lib/openstack-dashboard/secret-key)\"", "id -u horizon | grep -qx 42412"],
}


def in_image(ref: str, script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a throwaway container of the image, with no network."""
    return podman.run(["run", "--rm", "--network", "none", ref, "sh", "-c", script], check=False, timeout=timeout)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_image_programs_answer(name: str, hotstack_images: dict[str, str]) -> None:
    ref = hotstack_images[name]
    script = " && ".join(f"( {c} ) >/dev/null 2>&1 || {{ echo 'FAILED: {c}'; exit 1; }}"
                         for c in CHECKS[name])
    proc = in_image(ref, script, timeout=120)
    assert proc.returncode == 0, f"{name}: {proc.stdout}{proc.stderr}"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_no_apt_lists_or_debs_in_image(name: str, hotstack_images: dict[str, str]) -> None:
    ref = hotstack_images[name]
    script = ("test -z \"$(ls /var/lib/apt/lists | grep -v -e lock -e partial -e auxfiles)\" "
              "&& test -z \"$(ls /var/cache/apt/archives/*.deb 2>/dev/null)\" "
              "&& test -z \"$(ls /var/cache/hotstack 2>/dev/null)\"")
    proc = in_image(ref, script)
    assert proc.returncode == 0, f"{name} carries apt lists or downloaded packages"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_no_secret_or_identity_baked_in(name: str, hotstack_images: dict[str, str]) -> None:
    ref = hotstack_images[name]
    script = ("! test -e /var/lib/rabbitmq/.erlang.cookie && ! test -s /etc/machine-id "
              "&& ! ls /etc/keystone/fernet-keys/* 2>/dev/null "
              "&& ! grep -rlE --exclude='*.js' 'BEGIN ([A-Z]+ )?PRIVATE KEY' /etc /var/lib 2>/dev/null")
    # (*.js: the dashboard's static files hold PEM markers in jsencrypt's parser and in test
    # fixtures of Horizon's own; JavaScript is never where a key is kept.)
    proc = in_image(ref, script)
    assert proc.returncode == 0, f"{name} carries a secret or machine identity: {proc.stdout}"


def test_the_metadata_agent_shim_imports_what_it_patches(hotstack_images: dict[str, str], tmp_path: Path) -> None:
    """The shim a second deployment's agent runs (configs/neutron/hotstack-metadata-agent.j2)
    names modules and methods of the neutron in the image: a rename upstream must fail here."""
    from hotstack import catalog
    from hotstack.commands.render_cmd import render_catalog
    from hotstack.core.paths import Paths
    from hotstack.core.settings import load

    settings = load(None, {"name": "e2e", "data_dir": str(tmp_path / "data")}, environ={})
    paths = Paths(settings.data_dir, rendered_override=tmp_path / "out")
    render_catalog(catalog.build(settings, paths))
    shim = (tmp_path / "out" / "neutron" / "hotstack-metadata-agent").read_text()
    patched = "agent.MetadataAgent._get_own_chassis_name(None), agent.MetadataAgent._get_ovn_bridge(None)"
    upstream = ("from neutron.agent.ovn.metadata.agent import MetadataAgent as M\n"
                "assert callable(M._get_own_chassis_name) and callable(M._get_ovn_bridge)\n")
    check = upstream + shim.replace("sys.exit(main())", f"assert callable(main)\nprint({patched})")
    proc = in_image(hotstack_images["neutron"], f"python3 - <<'PY'\n{check}\nPY", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("e2e-chassis hot-int")
