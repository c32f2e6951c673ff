"""Bringing services up: one service's decision (kept / created / recreated from podman's view
and the rendered hash), start, probe; the one-shot jobs; the whole graph through core.graph.

Imports `render`, `probes`, `containers`, `catalog`, `core`; never `host`, `images` or `cloud`.
"""
