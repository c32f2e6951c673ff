"""What Alertmanager says is firing: its API v2 (`/api/v2/alerts`), active alerts only (not
silenced, not inhibited), as short rows for `status`."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

TIMEOUT_S = 3.0
QUERY = "/api/v2/alerts?active=true&silenced=false&inhibited=false"


def parse(alerts: Any) -> list[dict[str, Any]]:
    """Alertmanager's alert objects → {name, service, severity, since, summary}, sorted."""
    rows = []
    for alert in alerts if isinstance(alerts, list) else []:
        labels, notes = alert.get("labels") or {}, alert.get("annotations") or {}
        rows.append({"name": labels.get("alertname", ""), "service": labels.get("service") or labels.get("job", ""),
                     "severity": labels.get("severity", ""), "since": alert.get("startsAt", ""),
                     "summary": notes.get("summary", "")})
    return sorted(rows, key=lambda r: (r["name"], r["service"]))


def firing(address: str, timeout: float = TIMEOUT_S) -> list[dict[str, Any]]:
    """The firing alerts of the Alertmanager at `ip:port`; raises OSError when it does not answer."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # its container address: no proxy
    try:
        with opener.open(f"http://{address}{QUERY}", timeout=timeout) as answer:
            return parse(json.loads(answer.read()))
    except ValueError as exc:
        raise OSError(f"Alertmanager answered no JSON: {exc}") from exc
