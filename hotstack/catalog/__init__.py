"""The service catalog: the only list of services, ports, uids and probes hotstack knows.

Owns the model (`model`), the service definitions (`services/`, one module per OpenStack
project or infra group) and `build`, which fills them in from the settings. compose, haproxy,
DNS, keystone endpoints, firewall, status and metrics targets derive from it. Imports only
`hotstack.core`.
"""

from hotstack.catalog.builder import build, data_entries
from hotstack.catalog.model import (
    IMAGE_REPOSITORY,
    USERS,
    Catalog,
    ConfigFile,
    Endpoint,
    HostPorts,
    Job,
    Metrics,
    Probe,
    ProbeKind,
    Service,
    Volume,
)
from hotstack.catalog.naming import db_user, secret_names

__all__ = ["IMAGE_REPOSITORY", "USERS", "Catalog", "ConfigFile", "Endpoint", "HostPorts", "Job", "Metrics", "Probe",
           "ProbeKind", "Service", "Volume", "build", "data_entries", "db_user", "secret_names"]
