"""Real renders of every template into temp dirs: they parse, leak nothing, and re-render idempotently."""

from __future__ import annotations

import configparser
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest
import yaml

from hotstack import catalog
from hotstack.containers import podman
from hotstack.core.errors import HotstackError
from hotstack.core.paths import Paths, template_root
from hotstack.core.settings import Settings, load
from hotstack.images import refs
from hotstack.render import configs as render
from hotstack.render import upstream


def image_ref(name: str) -> str:
    return f"localhost/hotstack/{name}:test"


class SideSecrets(Paths):
    """Paths whose secrets file lives in the test's temp dir, so a data_dir such as /srv/other
    can be rendered into configs without anything being written there."""

    secrets_at: Path

    @property
    def secrets_file(self) -> Path:
        return self.secrets_at


Loader = Callable[..., Settings]


@pytest.fixture
def make_settings(config_file: Path, tmp_path: Path) -> Loader:
    def make(**overrides: str) -> Settings:
        return load(config_file, {"data_dir": str(tmp_path / "data"), **overrides}, environ={})

    return make


# The test's own host resolv.conf: a loopback stub, a server a container can reach, an IPv6 one.
RESOLV_CONF = "# test\nsearch example.test\nnameserver 127.0.0.53\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n"


def do_render(settings: Settings, out: Path) -> tuple[Paths, render.RenderResult]:
    resolv = out.parent / "resolv.conf"
    resolv.parent.mkdir(parents=True, exist_ok=True)
    resolv.write_text(RESOLV_CONF)
    paths = Paths(settings.data_dir, rendered_override=out, resolv_confs=(resolv,))
    return paths, render.render(catalog.build(settings, paths), image_ref)


def templates(settings: Settings, paths: Paths) -> list[str]:
    return sorted({cf.template for svc in catalog.build(settings, paths) for cf in svc.configs})


def oslo_style(template: str) -> bool:
    """OpenStack and uwsgi files: INI syntax that configparser reads."""
    return template.endswith((".conf", ".ini")) and not template.startswith(("rabbitmq/", "dnsmasq/"))


def parse_ini(text: str, allow_no_value: bool = False) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False, allow_no_value=allow_no_value)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def ini_values(parser: configparser.ConfigParser) -> list[tuple[str, str, str | None]]:
    values: list[tuple[str, str, str | None]] = [("DEFAULT", k, v) for k, v in parser.defaults().items()]
    for section in parser.sections():
        values += [(section, k, v) for k, v in parser.items(section, raw=True)]
    return values


@pytest.fixture
def rendered(make_settings: Loader, tmp_path: Path) -> tuple[Settings, Paths, render.RenderResult]:
    settings = make_settings()
    paths, result = do_render(settings, tmp_path / "out")
    return settings, paths, result


def read(paths: Paths, template: str) -> str:
    return (paths.rendered / template).read_text()


# --- every file is well-formed -------------------------------------------------------------------


def test_every_config_file_has_a_template(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    names = templates(settings, paths)
    assert "horizon/local_settings.py" in names
    for name in names:
        assert (template_root() / "configs" / f"{name}.j2").is_file(), name
        assert (paths.rendered / name).is_file(), name


def test_no_template_syntax_or_none_survives(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    for name in templates(settings, paths):
        text = read(paths, name)
        assert "{{" not in text and "{%" not in text and "{#" not in text, name
        assert text.endswith("\n"), name


def test_openstack_and_uwsgi_files_parse_without_none_values(
    rendered: tuple[Settings, Paths, render.RenderResult],
) -> None:
    settings, paths, _ = rendered
    checked = 0
    for name in templates(settings, paths):
        if not oslo_style(name):
            continue
        for section, key, value in ini_values(parse_ini(read(paths, name))):
            assert value is not None and value.strip() not in ("", "None"), f"{name} [{section}] {key}"
        checked += 1
    assert checked >= 17


def test_mariadb_files(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    own = str(catalog.build(settings, paths).ip("mariadb"))
    cnf = parse_ini(read(paths, "mariadb/hotstack.cnf"), allow_no_value=True)
    assert cnf["mysqld"]["bind-address"] == own  # its container address, not every address
    assert cnf["mysqld"]["port"] == "3306"
    script = paths.rendered / "mariadb/start.sh"
    subprocess.run(["sh", "-n", str(script)], check=True)
    text = script.read_text()
    assert "mariadb-install-db" in text and "--auth-root-authentication-method=socket" in text
    assert "exec mariadbd --user=mysql" in text and f"--bind-address={own} " in text
    assert "password" not in text.lower().replace("no root password", "")
    assert stat.S_IMODE(script.stat().st_mode) == 0o755


def test_rabbitmq_conf_is_key_value(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    _, paths, _ = rendered
    pairs = dict(
        line.split(" = ", 1)
        for line in read(paths, "rabbitmq/rabbitmq.conf").splitlines()
        if line.strip() and not line.startswith("#")
    )
    secrets = yaml.safe_load(paths.secrets_file.read_text())
    assert pairs["default_user"] == "openstack"
    assert pairs["default_pass"] == secrets["rabbitmq_password"]
    assert pairs["loopback_users"] == "none"
    cat = catalog.build(*rendered[:2])
    assert pairs["listeners.tcp.1"] == f"{cat.ip('rabbitmq')}:5672" and "listeners.tcp.default" not in pairs
    assert "None" not in pairs.values()


def test_dnsmasq_answers_every_endpoint_and_forwards_the_rest(
    rendered: tuple[Settings, Paths, render.RenderResult],
) -> None:
    settings, paths, _ = rendered
    lines = [ln for ln in read(paths, "dnsmasq/dnsmasq.conf").splitlines() if ln and not ln.startswith("#")]
    assert "no-resolv" in lines and "no-hosts" in lines
    # The host's reachable resolver only: not its loopback stub, not the IPv6 one.
    assert [ln for ln in lines if ln.startswith("server=")] == ["server=192.0.2.53"]
    assert f"local=/{settings.network.domain}/" in lines  # the API domain is never forwarded
    assert not any(ln.startswith(("dhcp-range", "resolv-file")) for ln in lines)
    cat = catalog.build(settings, paths)
    records = {ln.split("=", 1)[1] for ln in lines if ln.startswith("host-record=")}
    brex = settings.network.brex_ip
    assert records == {f"{ep.dns_name},{brex}" for _, ep in cat.endpoints()}
    assert f"listen-address={cat.ip('dnsmasq')},127.0.0.1" in lines
    assert parse_ini(read(paths, "neutron/ml2_conf.ini"))["ovn"]["dns_servers"] == str(brex)


def test_upstream_nameservers_fall_back_past_a_stub(tmp_path: Path) -> None:
    stub, real = tmp_path / "stub.conf", tmp_path / "real.conf"
    stub.write_text("nameserver 127.0.0.53\noptions edns0\n")
    real.write_text("nameserver 10.0.0.2\nnameserver 10.0.0.2\nnameserver 10.0.0.3 # second\n")
    assert upstream.host_nameservers([stub, real]) == ["10.0.0.2", "10.0.0.3"]
    assert upstream.host_nameservers([tmp_path / "missing", stub]) == []


def test_haproxy_fronts_every_endpoint(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    text = read(paths, "haproxy/haproxy.cfg")
    cat = catalog.build(settings, paths)
    own = cat.ip("haproxy")  # every frontend binds on haproxy's container address, never `*`
    assert "bind *" not in text
    for svc, ep in cat.endpoints():
        assert f"frontend {svc.name}-{ep.port}\n    bind {own}:{ep.port}\n" in text
        assert f"server {svc.name} {cat.ip(svc.name)}:{cat.port(svc.name)} check" in text
    assert f"bind {own}:{settings.ports.nova_metadata}" in text
    assert f"server nova-metadata {cat.ip('nova-metadata')}:8775 check" in text
    assert f"bind {own}:{settings.ports.haproxy_stats}" in text and "stats uri /stats" in text


def test_haproxy_stats_need_the_generated_password(make_settings: Loader, tmp_path: Path) -> None:
    passwords = set()
    for run in ("one", "two"):  # two installs, two passwords: none is fixed in the project
        settings = make_settings(data_dir=str(tmp_path / run))
        paths, _ = do_render(settings, tmp_path / run / "out")
        stats = read(paths, "haproxy/haproxy.cfg").split("frontend stats\n", 1)[1].split("\n\n", 1)[0]
        auth = [ln.split() for ln in stats.splitlines() if ln.strip().startswith("stats auth ")]
        assert len(auth) == 1 and "monitor-uri /healthz" in stats
        user, _, password = auth[0][2].partition(":")
        secrets = yaml.safe_load(paths.secrets_file.read_text())
        assert user == "hotstack" and password == secrets["haproxy_stats_password"] and len(password) >= 16
        passwords.add(password)
    assert len(passwords) == 2
    cat = catalog.build(settings, paths)
    assert cat["haproxy"].probe.path == "/healthz"  # the probe needs no password


def _newest_image(name: str) -> str | None:
    """This checkout's image, else the newest one built (the check is about the config syntax)."""
    if not podman.available():
        return None
    if podman.image_exists(ref := refs.image_ref(name)):
        return ref
    out = podman.run(["images", "--format", "{{.Repository}}:{{.Tag}}", f"localhost/hotstack/{name}"]).stdout
    tags = [line for line in out.split() if not line.endswith(":<none>")]
    return tags[0] if tags else None


@pytest.mark.images
def test_infra_programs_accept_their_configs(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    """haproxy -c and dnsmasq --test, run by the very binaries of the infra image."""
    ref = _newest_image("infra")
    if ref is None:
        pytest.skip("needs podman and an infra image (hotstack build infra)")
    _, paths, _ = rendered
    script = "haproxy -c -q -f /cfg/haproxy/haproxy.cfg && dnsmasq --test --conf-file=/cfg/dnsmasq/dnsmasq.conf"
    result = podman.run(
        ["run", "--rm", "--network", "none", "-v", f"{paths.rendered}:/cfg:ro", ref, "sh", "-c", script], check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_uwsgi_apps_listen_on_their_endpoint_port(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    cat = catalog.build(settings, paths)
    ports = {
        "keystone/hotstack-uwsgi.ini": cat["keystone"].endpoint,
        "glance/hotstack-uwsgi.ini": cat["glance"].endpoint,
        "placement/hotstack-uwsgi.ini": cat["placement"].endpoint,
        "nova/hotstack-uwsgi.ini": cat["nova-api"].endpoint,
        "cinder/hotstack-uwsgi.ini": cat["cinder-api"].endpoint,
        "heat/hotstack-uwsgi.ini": cat["heat-api"].endpoint,
        "neutron/hotstack-uwsgi.ini": cat["neutron-server"].endpoint,
    }
    for name, ep in ports.items():
        assert ep is not None
        uwsgi = parse_ini(read(paths, name))["uwsgi"]
        service = next(svc for svc in cat if svc.endpoint == ep)
        assert uwsgi["http-socket"] == f"{cat.ip(service.name)}:{ep.port}", name
        assert "apparmor" not in uwsgi["plugins"] and "logto" not in uwsgi, name
        assert ("module" in uwsgi) != ("wsgi-file" in uwsgi), name
        assert int(uwsgi["processes"]) <= 2, name
        # uwsgi's http-socket closes after each response; clients must be told.
        assert uwsgi["add-header"] == "Connection: close", name
    glance = parse_ini(read(paths, "glance/hotstack-uwsgi.ini"))["uwsgi"]
    assert glance["http-chunked-input"] == "true" and int(glance["chunked-input-limit"]) > 1 << 20
    metadata = parse_ini(read(paths, "nova/hotstack-uwsgi-metadata.ini"))["uwsgi"]
    assert metadata["http-socket"] == f"{cat.ip('nova-metadata')}:8775"
    assert metadata["module"] == "nova.wsgi.metadata:application"


def test_openstack_services_log_to_stderr_only(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    for name in templates(settings, paths):
        if oslo_style(name) and "uwsgi" not in name and name.split("/")[0] not in ("mariadb",):
            text = read(paths, name)
            assert "log_file" not in text and "log_dir" not in text, name
    for name in ("keystone/keystone.conf", "nova/nova.conf", "neutron/neutron.conf", "cinder/cinder.conf"):
        default = parse_ini(read(paths, name))["DEFAULT"]
        assert default["use_stderr"] == "true" and default["debug"] == "false", name


def test_nova_conf(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    nova = parse_ini(read(paths, "nova/nova.conf"))
    compute = parse_ini(read(paths, "nova/nova-compute.conf"))
    cinder = parse_ini(read(paths, "cinder/cinder.conf"))
    assert nova["service_user"]["send_service_user_token"] == "true"
    assert "libvirt" not in nova and set(compute) == {"DEFAULT", "libvirt", "os_vif_ovs"}
    # the conductor reads it before a live migration (in nova-compute.conf it was never seen)
    assert nova["workarounds"]["skip_hypervisor_version_check_on_lm"] == "true"
    assert compute["libvirt"]["virt_type"] == "qemu" and compute["libvirt"]["cpu_mode"] == "none"
    assert nova["DEFAULT"]["instances_path"] == str(paths.nova_instances)
    assert nova["DEFAULT"]["host"] == settings.nova.host
    assert compute["libvirt"]["nfs_mount_point_base"] == cinder["nfs"]["nfs_mount_point_base"] == str(paths.nova_mnt)
    assert nova["scheduler"]["discover_hosts_in_cells_interval"] == "-1"
    assert compute["os_vif_ovs"]["ovsdb_connection"] == "unix:/run/openvswitch/db.sock"
    assert (
        nova["neutron"]["metadata_proxy_shared_secret"]
        == parse_ini(read(paths, "neutron/neutron_ovn_metadata_agent.ini"))["DEFAULT"]["metadata_proxy_shared_secret"]
    )
    assert nova["vnc"]["novncproxy_base_url"].startswith(f"http://{settings.network.brex_ip}:{settings.ports.novnc}/")


def test_default_quotas_reach_every_service(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    """Every quota setting is also each project's default in the service that enforces it."""
    settings, paths, _ = rendered
    q = settings.quotas
    conf = {"nova": parse_ini(read(paths, "nova/nova.conf"))["quota"],
            "neutron": parse_ini(read(paths, "neutron/neutron.conf"))["quotas"],
            "cinder": parse_ini(read(paths, "cinder/cinder.conf"))["DEFAULT"]}
    wanted = [
        ("nova", "instances", q.instances), ("nova", "cores", q.cores), ("nova", "ram", q.ram_mb),
        ("nova", "key_pairs", q.key_pairs), ("nova", "server_groups", q.server_groups),
        ("nova", "server_group_members", q.server_group_members),
        ("neutron", "quota_network", q.networks), ("neutron", "quota_subnet", q.subnets),
        ("neutron", "quota_port", q.ports), ("neutron", "quota_router", q.routers),
        ("neutron", "quota_floatingip", q.floating_ips), ("neutron", "quota_security_group", q.security_groups),
        ("neutron", "quota_security_group_rule", q.security_group_rules),
        ("cinder", "quota_volumes", q.volumes), ("cinder", "quota_snapshots", q.snapshots),
        ("cinder", "quota_gigabytes", q.gigabytes), ("cinder", "per_volume_size_limit", q.per_volume_gigabytes),
    ]
    assert [conf[s][k] for s, k, _ in wanted] == [str(v) for _, _, v in wanted]
    assert len(wanted) == len(type(q).model_fields)


def test_cinder_nfs_share_is_the_bind_mounted_one(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    share = read(paths, "cinder/nfs_shares").strip()
    assert share == f"{settings.network.brex_ip}:{paths.cinder_nfs}"
    cat = catalog.build(settings, paths)
    ctx = render.context(cat, {n: "x" for n in catalog.secret_names(cat)})
    cinder_volume = cat["cinder-volume"]
    assert any(v.target == ctx["nfs_mount_dir"] for v in cinder_volume.volumes)


def test_neutron_ovn_settings(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    cat = catalog.build(settings, paths)
    ml2 = parse_ini(read(paths, "neutron/ml2_conf.ini"))
    assert ml2["ovn"]["ovn_nb_connection"] == f"tcp:{cat.ip('ovn-nb-db')}:6641"
    assert ml2["ovn"]["ovn_sb_connection"] == f"tcp:{cat.ip('ovn-sb-db')}:6642"
    assert ml2["ml2_type_flat"]["flat_networks"] == settings.network.physnet
    agent = parse_ini(read(paths, "neutron/neutron_ovn_metadata_agent.ini"))
    assert agent["DEFAULT"]["nova_metadata_host"] == str(settings.network.brex_ip)
    assert agent["DEFAULT"]["nova_metadata_port"] == str(settings.ports.nova_metadata)


# --- the compose file ------------------------------------------------------------------------------


def test_compose_file_services_and_ports(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    settings, paths, _ = rendered
    compose = yaml.safe_load(paths.compose_file.read_text())
    assert len(compose["services"]) >= 24
    published = [port for svc in compose["services"].values() for port in svc.get("ports", [])]
    assert published
    for port in published:
        assert port.startswith(f"{settings.network.brex_ip}:"), port
    for name, svc in compose["services"].items():
        for volume in svc["volumes"]:
            assert Path(volume.split(":")[0]).is_absolute(), (name, volume)


def test_podman_compose_accepts_the_file(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    exe = shutil.which("podman-compose")
    if exe is None:
        pytest.skip("podman-compose is not installed")
    _, paths, _ = rendered
    result = subprocess.run([exe, "-f", str(paths.compose_file), "config"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "keystone" in result.stdout


# --- nothing of the defaults leaks into another install ---------------------------------------------


def test_alternate_settings_leak_no_default_address_or_path(config_file: Path, tmp_path: Path) -> None:
    settings = load(
        config_file,
        {
            "data_dir": "/srv/other",
            "network.container_cidr": "10.99.0.0/25",
            "network.provider_cidr": "10.99.0.128/25",
            "network.brex_ip": "10.99.0.129",
        },
        environ={},
    )
    paths = SideSecrets(settings.data_dir, rendered_override=tmp_path / "out")
    object.__setattr__(paths, "secrets_at", tmp_path / "secrets.yaml")
    render.render(catalog.build(settings, paths), image_ref)
    assert not Path("/srv/other").exists()
    files = [p for p in paths.rendered.rglob("*") if p.is_file()]
    assert len(files) >= 20
    for path in files:
        text = path.read_text()
        assert "172.31." not in text, path
        assert "/var/lib/hotstack-os" not in text, path
    nova = parse_ini((paths.rendered / "nova/nova.conf").read_text())
    assert nova["DEFAULT"]["instances_path"] == "/srv/other/nova-instances"
    assert nova["vnc"]["server_listen"] == "10.99.0.129"


# --- idempotence, hashes and secrets -----------------------------------------------------------------


def test_second_render_writes_nothing(make_settings: Loader, tmp_path: Path) -> None:
    settings = make_settings()
    paths, first = do_render(settings, tmp_path / "out")
    assert first.written
    mtimes = {p: p.stat().st_mtime_ns for p in paths.rendered.rglob("*") if p.is_file()}
    secrets_before = paths.secrets_file.read_text()
    _, second = do_render(settings, tmp_path / "out")
    assert second.written == []
    assert second.hashes == first.hashes
    assert {p: p.stat().st_mtime_ns for p in paths.rendered.rglob("*") if p.is_file()} == mtimes
    assert paths.secrets_file.read_text() == secrets_before
    assert stat.S_IMODE(paths.secrets_file.stat().st_mode) == 0o600


def test_one_setting_changes_only_the_services_whose_files_changed(make_settings: Loader, tmp_path: Path) -> None:
    before_settings = make_settings()
    paths, before = do_render(before_settings, tmp_path / "out")
    texts_before = {p: p.read_bytes() for p in paths.rendered.rglob("*") if p.is_file()}
    after_settings = make_settings(**{"nova.virt_type": "kvm"})
    _, after = do_render(after_settings, tmp_path / "out")
    changed_files = {str(p.relative_to(paths.rendered)) for p, data in texts_before.items() if p.read_bytes() != data}
    assert changed_files - {"hashes.json", "podman-compose.yml"} == {"nova/nova-compute.conf"}
    cat = catalog.build(after_settings, paths)
    expected = {svc.name for svc in cat if any(cf.template in changed_files for cf in svc.configs)}
    changed_hashes = {name for name in after.hashes if after.hashes[name] != before.hashes[name]}
    assert changed_hashes == expected == {"nova-compute"}, "a compute setting restarts no other nova service"
    compute = parse_ini((paths.rendered / "nova/nova-compute.conf").read_text())
    assert compute["libvirt"]["virt_type"] == "kvm" and "cpu_mode" not in compute["libvirt"]


def test_secrets_file_is_private(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    _, paths, _ = rendered
    assert stat.S_IMODE(paths.secrets_file.stat().st_mode) == 0o600
    secrets = yaml.safe_load(paths.secrets_file.read_text())
    keystone = read(paths, "keystone/keystone.conf")
    assert secrets["db_keystone"] in keystone


# --- StrictUndefined ---------------------------------------------------------------------------------


def test_template_naming_an_unknown_variable_fails(
    make_settings: Loader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "templates"
    for part in ("configs", "compose"):
        shutil.copytree(template_root() / part, root / part)
    with (root / "configs/keystone/keystone.conf.j2").open("a") as handle:
        handle.write("x = {{ no_such_variable }}\n")
    monkeypatch.setattr(render, "template_root", lambda: root)
    with pytest.raises(HotstackError, match=r"keystone\.conf\.j2.*no_such_variable"):
        do_render(make_settings(), tmp_path / "out")


def test_template_asking_for_an_unlisted_secret_fails(make_settings: Loader, tmp_path: Path) -> None:
    settings = make_settings()
    paths = Paths(settings.data_dir, rendered_override=tmp_path / "out")
    cat = catalog.build(settings, paths)
    ctx = render.context(cat, {n: "x" for n in catalog.secret_names(cat)})
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    with pytest.raises(HotstackError, match="unknown secret"):
        env.from_string("{{ secret('root_password') }}").render(ctx)


def test_sectionless_key_value_files_parse_too(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    """rabbitmq.conf and dnsmasq.conf have no sections: with one prepended, configparser reads
    every line as a key (= value) — no stray syntax, no None (their own tools check them above)."""
    _, paths, _ = rendered
    for name in ("rabbitmq/rabbitmq.conf", "dnsmasq/dnsmasq.conf"):
        parser = parse_ini("[top]\n" + read(paths, name), allow_no_value=True)
        values = ini_values(parser)
        assert values and all(v is None or v.strip() != "None" for _, _, v in values), name


def test_nothing_listens_on_every_address(rendered: tuple[Settings, Paths, render.RenderResult]) -> None:
    """Services bind their container address (uwsgi, mariadb, rabbitmq, memcached, OVSDB, noVNC,
    haproxy, dnsmasq): no rendered file or compose command names 0.0.0.0."""
    settings, paths, result = rendered
    files = [p for p in result.written + result.unchanged if p.is_file()]
    assert len(files) > 20
    assert [p.name for p in files if "0.0.0.0" in p.read_text()] == []
    cat = catalog.build(settings, paths)
    compose = yaml.safe_load(paths.compose_file.read_text())["services"]
    assert f"-l {cat.ip('memcached')} " in " ".join(compose["memcached"]["command"])
    assert f"--remote=ptcp:6642:{cat.ip('ovn-sb-db')} " in " ".join(compose["ovn-sb-db"]["command"])
    nova = parse_ini(read(paths, "nova/nova.conf"))
    assert nova["vnc"]["novncproxy_host"] == str(cat.ip("nova-novncproxy"))
