"""The dashboard as the catalog renders it: its Django settings (a real compile and exec of the
rendered file), its uwsgi file, and what haproxy, /etc/hosts, the firewall and the compose file
get from it; with `horizon.enabled=false` none of them names it."""

from __future__ import annotations

import ast
import configparser
from pathlib import Path
from typing import Any

import pytest
import yaml
from rendering import render_into

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.core.paths import Paths, template_root
from hotstack.core.secrets import Secrets
from hotstack.core.settings import load
from hotstack.host import fwpolicy, hosts
from hotstack.images import stage


@pytest.fixture
def on(tmp_path: Path) -> tuple[Catalog, Path]:
    return render_into(tmp_path)


def local_settings(out: Path) -> dict[str, Any]:
    """The rendered local_settings.py, compiled and run as Python: the names it defines."""
    text = (out / "horizon" / "local_settings.py").read_text()
    names: dict[str, Any] = {}
    exec(compile(text, "local_settings.py", "exec"), names)  # our own rendered file
    return names


def test_settings_point_at_keystone_through_haproxy_and_memcached(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    conf = local_settings(out)
    assert conf["OPENSTACK_KEYSTONE_URL"] == f"http://keystone.{cat.settings.network.domain}:{cat.settings.ports.keystone}/v3"
    assert (conf["OPENSTACK_KEYSTONE_DEFAULT_DOMAIN"], conf["OPENSTACK_KEYSTONE_DEFAULT_ROLE"]) == ("Default", "member")
    assert conf["OPENSTACK_API_VERSIONS"] == {"identity": 3}
    assert conf["SESSION_ENGINE"] == "django.contrib.sessions.backends.cache"
    cache = conf["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.memcached.PyMemcacheCache"
    assert cache["LOCATION"] == cat.address("memcached")
    assert conf["WEBROOT"] == "/" and conf["DEBUG"] is False
    assert not (conf["SESSION_COOKIE_SECURE"] or conf["CSRF_COOKIE_SECURE"] or conf["SECURE_SSL_REDIRECT"])


def test_settings_allow_the_dashboards_name_and_brex_ip(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    conf, brex = local_settings(out), str(cat.settings.network.brex_ip)
    name = f"dashboard.{cat.settings.network.domain}"
    assert set(conf["ALLOWED_HOSTS"]) == {name, brex, str(cat.ip("horizon"))}  # the last: the probe


def test_secret_key_is_the_deployments_own(on: tuple[Catalog, Path], tmp_path: Path) -> None:
    cat, out = on
    key = local_settings(out)["SECRET_KEY"]
    assert "horizon_secret_key" in catalog.secret_names(cat)
    assert key == Secrets(cat.paths.secrets_file).ensure(["horizon_secret_key"])["horizon_secret_key"]
    assert len(key) >= 32 and key != _secret_of_another_install(tmp_path / "other")


def _secret_of_another_install(tmp_path: Path) -> str:
    tmp_path.mkdir()
    _, out = render_into(tmp_path)
    return str(local_settings(out)["SECRET_KEY"])


def test_the_name_is_served_without_a_port_and_at_the_dashboards_own_port(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    name, brex = f"dashboard.{cat.settings.network.domain}", cat.settings.network.brex_ip
    own = cat.settings.ports.horizon
    origins = local_settings(out)["CSRF_TRUSTED_ORIGINS"]
    assert set(origins) == {f"http://{name}", f"http://{brex}", f"http://{name}:{own}", f"http://{brex}:{own}"}
    assert cat.public_url("horizon") == f"http://{name}"  # what `status` shows


def test_another_http_port_is_named_with_it(tmp_path: Path) -> None:
    cat, out = render_into(tmp_path, **{"ports.http": "8888"})
    assert f"http://dashboard.{cat.settings.network.domain}:8888" in local_settings(out)["CSRF_TRUSTED_ORIGINS"]
    assert cat.public_url("horizon").endswith(":8888")


def test_uwsgi_serves_http_on_the_catalog_address_and_the_static_files(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    ini.read_string((out / "horizon" / "hotstack-uwsgi.ini").read_text())
    uwsgi = ini["uwsgi"]
    assert uwsgi["http-socket"] == cat.address("horizon")
    assert uwsgi["wsgi-file"] == "/usr/share/openstack-dashboard/wsgi.py"
    assert uwsgi["static-map"] == "/static=/var/lib/openstack-dashboard/static"
    assert "logto" not in uwsgi and "plugin" not in uwsgi  # stderr; no apparmor plugin


def test_haproxy_hosts_firewall_and_compose_have_the_dashboard(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    brex, port, http = cat.settings.network.brex_ip, cat.settings.ports.horizon, cat.settings.ports.http
    haproxy = (out / "haproxy" / "haproxy.cfg").read_text()
    for frontend in (http, port):
        assert f"frontend horizon-{frontend}\n    bind {cat.ip('haproxy')}:{frontend}\n" in haproxy
    assert haproxy.count(f"server horizon {cat.address('horizon')} check") == 1
    assert f"{brex}\tdashboard.{cat.settings.network.domain}" in hosts.block(cat)
    compose = yaml.safe_load((out / "podman-compose.yml").read_text())["services"]
    for frontend in (http, port):
        assert any(frontend in o.ports and not o.from_containers for o in fwpolicy.policy(cat))
        assert f"{brex}:{frontend}:{frontend}/tcp" in compose["haproxy"]["ports"]
    horizon = compose["horizon"]
    assert horizon["user"] == "horizon" and horizon["command"][0] == "uwsgi"
    assert "horizon" in stage.wanted(cat)  # `up` and `build` both build its image


def test_switched_off_nothing_names_it(tmp_path: Path) -> None:
    cat, out = render_into(tmp_path, **{"horizon.enabled": "false"})
    compose = yaml.safe_load((out / "podman-compose.yml").read_text())["services"]
    assert "horizon" not in compose
    haproxy = (out / "haproxy" / "haproxy.cfg").read_text()
    assert "horizon" not in haproxy
    for port in (cat.settings.ports.horizon, cat.settings.ports.http):
        assert not any(f":{port}:" in spec for spec in compose["haproxy"]["ports"])
        assert f":{port}\n" not in haproxy
        assert not any(port in o.ports for o in fwpolicy.policy(cat))
    assert not any("dashboard" in line for line in hosts.block(cat))
    assert not (out / "horizon").exists() and "horizon" not in stage.wanted(cat)
    assert "horizon_secret_key" not in catalog.secret_names(cat)


def test_the_images_settings_snippet_is_python(tmp_path: Path) -> None:
    """The image's own local_settings.d file (static files of the build) parses."""
    snippet = (template_root() / "compose" / "images" / "horizon" / "hotstack-static.py").read_text()
    names = {t.id for node in ast.parse(snippet).body if isinstance(node, ast.Assign) for t in node.targets
             if isinstance(t, ast.Name)}
    assert names == {"STATIC_ROOT", "COMPRESS_ENABLED", "COMPRESS_OFFLINE"}


def test_the_dashboard_yields_the_cpu_to_the_critical_path(tmp_path: Path) -> None:
    """Nothing waits for it, so its start must not slow the services `up` does wait for."""
    from hotstack import catalog
    from hotstack.render.compose import service_definition

    settings = load(None, {"data_dir": str(tmp_path / "data")}, environ={})
    cat = catalog.build(settings, Paths(settings.data_dir, rendered_override=tmp_path / "out"))
    assert service_definition(cat, cat["horizon"], "img", "")["cpu_shares"] == 256
    assert "cpu_shares" not in service_definition(cat, cat["keystone"], "img", "")
    assert not any("horizon" in svc.depends_on for svc in cat)
