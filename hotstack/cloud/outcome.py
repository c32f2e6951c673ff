"""What one post-setup change did: the thing (`flavor hotstack.tiny`) and the action."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    thing: str
    action: str  # created | updated | unchanged
