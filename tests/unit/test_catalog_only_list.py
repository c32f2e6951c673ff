"""The catalog is the only list of internal ports and uids: none is written anywhere else.

An internal port is one the built catalog holds that does not move when every `ports.*`
setting moves (in-container ports, probe ports, host ports like qemu's VNC range); a uid is
a value of catalog.USERS. Each must appear as a whole word only under hotstack/catalog/:
code, templates and Containerfiles take them from the catalog (render context, build args).
"""

from __future__ import annotations

import re
from pathlib import Path

from hotstack import catalog
from hotstack.catalog import USERS, Catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import PortSettings, load

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [*(p for p in (ROOT / "hotstack").rglob("*.py") if "catalog" not in p.relative_to(ROOT).parts[:2]),
           *(p for p in (ROOT / "configs").rglob("*") if p.is_file()),
           *(p for p in (ROOT / "compose").rglob("*") if p.is_file())]

# (file, value): the only places a catalog value may be written outside the catalog, each for a reason.
ALLOWED = {
    # Public port defaults are settings; these three equal the in-container port by convention
    # (nova's metadata port, DNS, the dashboard's uwsgi), so the settings file names the same number.
    ("hotstack/core/settings.py", "8775"),
    ("hotstack/core/settings.py", "53"),
    ("hotstack/core/settings.py", "8080"),
}
UNCHECKED_UIDS = {0}  # root's uid is a constant of the system, not the catalog's choice


def _built(tmp_path: Path, **overrides: str) -> Catalog:
    s = load(None, {"data_dir": str(tmp_path), **overrides}, environ={})
    return catalog.build(s, Paths(s.data_dir))


def _ports(cat: Catalog) -> set[int]:
    found: set[int] = set()
    for svc in cat:
        found |= {svc.port, svc.probe.port, *(inner for _, inner, _ in cat.published(svc))}
        for hp in svc.host_ports:
            found |= {n for p in hp.ports for n in (p if isinstance(p, tuple) else (p,))}
    return found - {0}


def internal_ports(tmp_path: Path) -> set[int]:
    """Ports of the default catalog that stay put when every ports.* setting moves."""
    moved = {f"ports.{name}": str(20000 + i) for i, name in enumerate(PortSettings.model_fields)}
    return _ports(_built(tmp_path)) & _ports(_built(tmp_path, **moved))


def literal_hits(values: set[int], files: list[Path], root: Path = ROOT) -> list[tuple[str, int, str]]:
    """(file, line number, value) of every whole-word occurrence of a value."""
    pattern = re.compile(r"(?<![\w.])(" + "|".join(sorted(map(str, values))) + r")(?![\w])")
    hits = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            hits += [(rel, number, m.group(1)) for m in pattern.finditer(line)]
    return hits


def test_the_scan_knows_the_catalogs_values(tmp_path: Path) -> None:
    """The guard must be looking for the real thing: the ports and uids templates used to repeat."""
    ports = internal_ports(tmp_path)
    assert {3306, 5672, 11211, 6641, 6642, 8775, 53, 8080, 5900, 6923, 111, 2049} <= ports
    assert not ports & {5000, 9292, 8404}  # settings' ports move, so they are not internal
    assert len(SCANNED) > 50 and any(p.name == "Containerfile" for p in SCANNED)


def test_no_port_or_uid_is_written_outside_the_catalog(tmp_path: Path) -> None:
    values = internal_ports(tmp_path) | (set(USERS.values()) - UNCHECKED_UIDS)
    hits = literal_hits(values, SCANNED)
    bad = [f"{f}:{n}: {v}" for f, n, v in hits if (f, v) not in ALLOWED]
    assert not bad, "catalog values written as literals (take them from the catalog):\n" + "\n".join(bad)
    stale = ALLOWED - {(f, v) for f, _, v in hits}
    assert not stale, f"allow-list entries that no longer match anything: {sorted(stale)}"


def test_a_literal_is_caught_with_its_place(tmp_path: Path) -> None:
    planted = tmp_path / "planted.conf"
    planted.write_text("ok = 13306 and 3306x\nport = 3306\nuid=42404, version 1.3306\n")
    assert literal_hits({3306, 42404}, [planted], tmp_path) == [("planted.conf", 2, "3306"),
                                                                ("planted.conf", 3, "42404")]
