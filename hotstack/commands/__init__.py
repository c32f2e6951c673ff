"""One module per CLI command: plain functions with explicit arguments returning an exit code."""
