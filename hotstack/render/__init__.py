"""Rendering: jinja2 (StrictUndefined) over configs/ and compose/ into the rendered directory,
writing only what changed, with one content hash per service for `up`'s recreate decision.

Takes a built catalog; imports `containers` (labels), `catalog` and `core`.
"""
