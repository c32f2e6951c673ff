"""What the first host does for a node beside it: its RabbitMQ user (the password on stdin, never
on a command line), the cell mapping once its nova-compute runs, and revoking the user again."""

from __future__ import annotations

from hotstack.catalog import Catalog
from hotstack.containers import control
from hotstack.core.errors import HotstackError
from hotstack.render.bundle import rabbitmq_user

RABBITMQ = "rabbitmq"
CONDUCTOR = "nova-conductor"  # holds nova.conf's database settings: nova-manage runs there


def _ctl(cat: Catalog, *argv: str, stdin: str | None = None, check: bool = True) -> tuple[int, str]:
    # not --quiet: with it, rabbitmqctl waits forever for a password on stdin
    code, out = control.exec_in(cat[RABBITMQ].container, ["rabbitmqctl", *argv], stdin=stdin,
                                timeout=60, check=False)
    if check and code != 0:
        raise HotstackError(f"rabbitmqctl {argv[0]} failed: {out.strip()}", hint="is RabbitMQ up? hotstack status")
    return code, out


def ensure_rabbitmq_user(cat: Catalog, node: str, password: str) -> bool:
    """The node's user with its bundle's password and rights on `/`; True when it changed."""
    user = rabbitmq_user(node)
    code, _ = _ctl(cat, "authenticate_user", user, stdin=password, check=False)
    if code == 0:
        return False
    if _listed(cat, user):
        _ctl(cat, "change_password", user, stdin=password)
    else:
        _ctl(cat, "add_user", user, stdin=password)
    _ctl(cat, "set_permissions", "-p", "/", user, ".*", ".*", ".*")
    return True


def _listed(cat: Catalog, user: str) -> bool:
    _, users = _ctl(cat, "list_users", "--silent")
    return any(line.split()[:1] == [user] for line in users.splitlines())


def drop_rabbitmq_user(cat: Catalog, node: str) -> bool:
    user = rabbitmq_user(node)
    if not _listed(cat, user):
        return False
    _ctl(cat, "delete_user", user)
    return True


def discover_hosts(cat: Catalog) -> None:
    """Map every new compute host to the cell now (the scheduler would, within a minute)."""
    code, out = control.exec_in(cat[CONDUCTOR].container, ["nova-manage", "cell_v2", "discover_hosts"],
                                timeout=120, check=False)
    if code != 0:
        raise HotstackError(f"nova-manage cell_v2 discover_hosts failed: {out.strip()[-500:]}",
                            hint="hotstack logs nova-conductor")
