"""What one post-setup change did: the thing (`flavor hotstack.tiny`) and the action."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    thing: str
    # created | updated | deleted; orphaned: dropped from the settings, kept (prune deletes it);
    # differs: unlike the settings and not changeable in place (said what to do instead)
    action: str


def changes_json(outcomes: list[Outcome]) -> list[dict[str, str]]:
    return [{"thing": o.thing, "action": o.action} for o in outcomes]


def orphaned(outcomes: list[Outcome]) -> list[str]:
    """What the settings dropped and post-setup kept: the tenants and users `--prune-tenants` deletes."""
    return [o.thing for o in outcomes if o.action == "orphaned"]


def differing(outcomes: list[Outcome]) -> list[str]:
    """What post-setup found unlike the settings and could not change in place."""
    return [o.thing for o in outcomes if o.action == "differs"]
