"""`node remove --migrate` refuses, before anything moves, servers only a person can settle."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hotstack.core.errors import HotstackError
from hotstack.nodes.evacuate import check_movable


def _server(name: str, status: str, task: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(name=name, status=status, task_state=task)


def test_running_and_stopped_servers_move_and_others_are_named_with_their_state() -> None:
    check_movable([_server("a", "ACTIVE"), _server("b", "SHUTOFF")], "compute-2")
    with pytest.raises(HotstackError, match=r"cannot move c \(PAUSED\), d \(ACTIVE, rebooting\)") as caught:
        check_movable([_server("a", "ACTIVE"), _server("d", "ACTIVE", "rebooting"), _server("c", "PAUSED")],
                      "compute-2")
    assert "--migrate again" in (caught.value.hint or "")
