"""`python3 -m hotstack.cli.distro install-plan [--test]`: the shell commands that install what
hotstack needs and this host lacks, one a line, for scripts/install-deps to run (notes go to
stderr). Only the standard library and `core`: it runs before hotstack's dependencies exist.

Exit codes: 0 (the plan, maybe empty), 2 (a distribution install-deps cannot serve).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from hotstack.core import distro
from hotstack.core.errors import EXIT_BAD_INPUT, EXIT_OK

SYSTEMD_RUNS = Path("/run/systemd/system")  # what sd_booted() checks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hotstack.cli.distro")
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("install-plan", help="print the commands that install what this host lacks")
    plan.add_argument("--test", action="store_true", help="also what only the tests use")
    plan.add_argument("--os-release", type=Path, help="read this file instead of /etc/os-release")
    args = parser.parse_args(argv)
    host = distro.detect((args.os_release,)) if args.os_release else distro.current()
    why = host.unsupported()
    if why:
        print(f"install-deps: {why}", file=sys.stderr)
        return EXIT_BAD_INPUT
    commands, notes = distro.install_plan(host, tests=args.test, systemd=SYSTEMD_RUNS.is_dir())
    for note in notes:
        print(f"install-deps: note: {note}", file=sys.stderr)
    for command in commands:
        print(shlex.join(command))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
