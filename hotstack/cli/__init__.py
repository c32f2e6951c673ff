"""The click layer, the only room that prints: flags are parsed, one command function is called
with the views (live tables and lines on stderr), its result is printed as JSON or a summary,
and `run` maps failures to exit codes.

Imports `commands` and anything below.
"""
