"""hotstack: a single-host OpenStack 2025.1 (Epoxy) appliance."""

__version__ = "0.1.0"
