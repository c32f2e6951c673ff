"""Foundations every room stands on: settings (every source merged and validated up front),
errors and exit codes, paths (an explicit object, never a global), secrets, credentials built
from them, atomic file writes, the run lock, host facts as recorded, the graph scheduler shared
by image builds and the stack, and the one process runner.

Imports nothing of hotstack outside `core`.
"""
