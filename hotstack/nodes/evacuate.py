"""`hotstack node remove --migrate`: every server off a node before it goes, onto whichever node
the scheduler picks (the node's compute service is disabled first, so never back onto it).

A running server moves live (block migration: no node shares its instances path); a stopped one
moves cold (its disks copied over SSH, the resize confirmed) and stays stopped. Any other state
(paused, suspended, rescued, error, a task in progress) is refused before anything moves: it
needs a person to decide."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hotstack.core.errors import HotstackError

Say = Callable[[str], None]
MOVABLE = ("ACTIVE", "SHUTOFF")
DEADLINE_S = 600  # one server's move: a block migration under TCG copies its whole disk
DONE = ("completed", "confirmed", "done")  # a live migration's last word, a confirmed resize's
FAILED = ("failed", "error", "cancelled")
OVER = (*DONE, *FAILED, "reverted")  # what nova counts as no longer in progress


def check_movable(servers: list[Any], host: str) -> None:
    stuck = [f"{srv.name} ({srv.status}{', ' + srv.task_state if srv.task_state else ''})"
             for srv in servers if srv.status not in MOVABLE or srv.task_state]
    if stuck:
        raise HotstackError(f"node {host}: cannot move {', '.join(sorted(stuck)[:5])} (only running or "
                            "stopped servers with no task in progress move)",
                            hint="settle them (start, stop or delete), then run node remove --migrate again")


def _migrations(conn: Any, server: Any) -> dict[str, str]:
    return {str(m.id): str(m.status) for m in conn.compute.migrations(server_id=server.id)}


def _new_migrations(conn: Any, server: Any, before: set[str]) -> dict[str, str]:
    return {mid: state for mid, state in _migrations(conn, server).items() if mid not in before}


def _wait_moved(conn: Any, server: Any, host: str, status: str, before: set[str]) -> Any:
    """The server once it runs (or rests) elsewhere; a cold move's resize is confirmed on the way.
    `before`: its migrations' ids from before this move (an old failed one is no failure now)."""
    deadline, confirmed = time.monotonic() + DEADLINE_S, False
    while time.monotonic() < deadline:
        found, new = conn.compute.get_server(server.id), _new_migrations(conn, server, before)
        if found.status == "ERROR":
            raise HotstackError(f"server {server.name} went into ERROR while moving off {host}: "
                                f"{(found.fault or {}).get('message', 'no fault recorded')}",
                                hint=f"openstack server show {server.id}; openstack server migration list")
        # nova refuses to delete a compute service while a migration from it is unfinished
        settled = bool(new) and all(state in DONE for state in new.values())
        if found.compute_host != host and found.status == status and not found.task_state and settled:
            return found
        if found.status == "VERIFY_RESIZE" and not confirmed:
            conn.compute.confirm_server_resize(found)
            confirmed = True
        if any(state in FAILED for state in new.values()):
            raise HotstackError(f"server {server.name}: its migration off {host} failed",
                                hint=f"openstack server migration list --server {server.id}; the nova-compute logs")
        time.sleep(2)
    raise HotstackError(f"server {server.name} did not leave {host} within {DEADLINE_S} s",
                        hint=f"openstack server migration list --server {server.id}")


def move_all(conn: Any, servers: list[Any], host: str, say: Say) -> list[str]:
    """Each of `servers` (on `host`, whose compute service is disabled; `check_movable` passed
    before it was) onto another node."""
    done = []
    for srv in servers:
        started, before = time.monotonic(), set(_migrations(conn, srv))
        if srv.status == "ACTIVE":
            conn.compute.live_migrate_server(srv, host=None, block_migration=True)
            how = "live"
        else:
            conn.compute.migrate_server(srv)
            how = "cold"
        say(f"server {srv.name}: moving off {host} ({how} migration)")
        moved = _wait_moved(conn, srv, host, srv.status, before)
        done.append(f"moved server {srv.name} to {moved.compute_host} ({how}, {time.monotonic() - started:.1f} s)")
        say(done[-1])
    return done


def unfinished(conn: Any, host: str) -> list[str]:
    """Migrations from or to `host` still in progress (nova keeps its compute service while any is)."""
    return sorted(f"{m.migration_type or 'migration'} of {m.server_id} ({m.status})"
                  for m in conn.compute.migrations(host=host) if m.status not in OVER)
