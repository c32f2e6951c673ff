"""Host preparation: one module per host concern, each a Step (see step.py)."""
