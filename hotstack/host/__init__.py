"""The host, one module per concern: every host change is a Step with check / apply / remove,
`plan` orders them (and `ensure` is doctor then the plan), `doctor` checks read-only, `facts`
records what was detected, `systemd` writes the unit.

Imports `guest` (the KVM probe's boot disk), `containers`, `catalog`, `core`.
"""
