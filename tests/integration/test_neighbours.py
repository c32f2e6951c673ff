"""Forgetting a neighbour entry, inside a network namespace the test creates."""

from __future__ import annotations

import pytest
from hostfixtures import ip

from hotstack.stack.neighbours import forget

pytestmark = pytest.mark.integration




def test_a_stale_entry_is_dropped_and_others_stay(ns: str) -> None:
    ip(ns, "link", "add", "br0", "type", "bridge")
    ip(ns, "link", "set", "br0", "up")
    ip(ns, "addr", "add", "10.9.8.1/24", "dev", "br0")
    ip(ns, "neigh", "add", "10.9.8.12", "lladdr", "02:00:00:00:00:12", "dev", "br0", "nud", "stale")
    ip(ns, "neigh", "add", "10.9.8.13", "lladdr", "02:00:00:00:00:13", "dev", "br0", "nud", "stale")
    assert forget("10.9.8.12", netns=ns) == 1
    shown = ip(ns, "neigh", "show", "dev", "br0")
    assert "10.9.8.12" not in shown and "10.9.8.13" in shown
    assert forget("10.9.8.12", netns=ns) == 0
