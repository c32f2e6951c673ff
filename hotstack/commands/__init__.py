"""One module per CLI command: a plain function that takes explicit arguments and returns a
result object (with `ok` and `to_json()`); it never prints and never imports `hotstack.cli`.
Progress goes out through the callbacks of a `Progress` the caller passes in.

May import every room below it: stack, host, images, cloud, and what they stand on.
"""
