"""`hotstack logs NAME [-f]`: a service container's log."""

from __future__ import annotations

from hotstack import catalog
from hotstack.containers import control
from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings


def logs(settings: Settings, name: str, follow: bool, tail: int | None = None) -> int:
    """Copies `podman logs` of hotstack-NAME to stdout; exit code of podman logs."""
    cat = catalog.build(settings, Paths(settings.data_dir))
    service = name.removeprefix(f"{settings.name}-")
    if service not in cat.services:
        raise BadInput(f"unknown service {name!r}", hint=f"services: {', '.join(cat.services)}")
    container = cat[service].container
    if container not in control.snapshot():
        raise HotstackError(f"{service} has no container", hint="`hotstack up` creates it")
    return control.stream_logs(container, follow=follow, tail=tail)
