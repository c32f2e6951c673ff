"""data_dir, made in one place and marked as hotstack's.

Every command that writes under data_dir calls :func:`ensure_data_dir` before it changes
anything; `clean` calls :func:`check_removable` before its first removal step. Both look at
the directory as it is now and refuse (BadInput, nothing touched) a file, a symlink, an
unreadable or read-only directory, another deployment's directory or a foreign one.

The marker `<data_dir>/.hotstack-data` names the deployment. A data_dir made by an older
hotstack has none: it is accepted (and marked) when its layout is hotstack's — secrets.yaml
and state/ present, nothing hotstack never makes. Free space is the doctor's business (a
warning), not a reason to refuse here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Set
from pathlib import Path
from typing import Literal

import yaml

from hotstack.core import log
from hotstack.core.errors import BadInput
from hotstack.core.fsutil import write_if_changed
from hotstack.core.paths import Paths
from hotstack.core.settings_rules import shown

State = Literal["absent", "empty", "marked", "legacy"]
SHOWN_ENTRIES = 5


def ensure_data_dir(paths: Paths, name: str, known: Set[str]) -> Path:
    """data_dir exists (mode 0755 when made here), is writable and carries this deployment's marker."""
    d = paths.data_dir
    state = inspect(paths, name, known, removal=False)
    try:
        if state == "absent":
            d.mkdir(mode=0o755, parents=True, exist_ok=True)
            d.chmod(0o755)
        if not os.access(d, os.W_OK):
            raise BadInput(f"data_dir {d} is not writable (read-only file system or mode)",
                           hint="run hotstack as root, or choose a writable data_dir")
        if state != "marked":
            write_marker(paths, name)
    except OSError as exc:
        raise BadInput(f"data_dir {d} cannot be created: {exc.strerror}",
                       hint="run hotstack as root, or choose a data_dir on a writable file system") from None
    log.use_dir(paths.logs)
    return d


def check_removable(paths: Paths, name: str, known: Set[str]) -> bool:
    """True when data_dir is this deployment's and may be removed; False when there is none;
    BadInput when it is anything else. An older hotstack's unmarked directory is marked now."""
    state = inspect(paths, name, known, removal=True)
    if state == "legacy":
        write_marker(paths, name)
    return state != "absent"


def is_ours(paths: Paths, name: str) -> bool:
    """A quiet look (for choosing where the debug log goes): marked for this deployment, or an
    older hotstack's layout."""
    try:
        owner = _marker_owner(paths)
        return owner == name or (owner is None and _legacy(paths, set(os.listdir(paths.data_dir))))
    except (OSError, BadInput):
        return False


def write_marker(paths: Paths, name: str) -> None:
    write_if_changed(paths.marker, "# hotstack made this directory; `hotstack clean` removes it\n"
                     + yaml.safe_dump({"deployment": name}))


def inspect(paths: Paths, name: str, known: Set[str], *, removal: bool) -> State:
    """What data_dir is now; BadInput for every state hotstack must not write into or remove."""
    d = paths.data_dir
    entries = _entries(d)
    if entries is None:
        return "absent"
    if entries <= {paths.logs.name}:
        return "empty"  # nothing, or the debug log an older hotstack wrote on every command
    owner = _marker_owner(paths)
    if owner is not None and owner != name:
        raise BadInput(f"data_dir {d} belongs to the hotstack deployment {shown(owner)}, not {shown(name)}",
                       hint=f"set name to {owner}, or choose another data_dir")
    foreign = sorted(e for e in entries if not _made_by_hotstack(e, known))
    if owner is None and (foreign or not _legacy(paths, entries)):
        raise BadInput(f"data_dir {d} is not empty and has no {paths.marker.name} marker: hotstack did not make it"
                       + (f" (it holds {_listed(foreign)})" if foreign else ""),
                       hint="choose a new or empty directory for data_dir")
    if foreign and removal:
        raise BadInput(f"data_dir {d} holds entries hotstack never makes: {_listed(foreign)}; nothing was removed",
                       hint="move them out of it, then run `hotstack clean --yes` again")
    return "marked" if owner is not None else "legacy"


def _entries(d: Path) -> set[str] | None:
    try:
        info = d.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadInput(f"data_dir {d} cannot be inspected: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise BadInput(f"data_dir {d} is a symlink (to {shown(os.readlink(d))})",
                       hint="set data_dir to the real directory, so clean never follows a link")
    if not stat.S_ISDIR(info.st_mode):
        raise BadInput(f"data_dir {d} exists and is not a directory", hint="move it away or choose another data_dir")
    try:
        return set(os.listdir(d))
    except OSError as exc:
        raise BadInput(f"data_dir {d} cannot be read: {exc.strerror}", hint="run hotstack as root") from None


def _marker_owner(paths: Paths) -> str | None:
    try:
        if not stat.S_ISREG(paths.marker.lstat().st_mode):
            raise BadInput(f"{paths.marker} is not a regular file")
        data = yaml.safe_load(paths.marker.read_text(errors="replace"))
    except FileNotFoundError:
        return None
    except (OSError, yaml.YAMLError) as exc:
        raise BadInput(f"{paths.marker} cannot be read: {shown(str(exc))}") from None
    owner = data.get("deployment") if isinstance(data, dict) else None
    if not isinstance(owner, str):
        raise BadInput(f"{paths.marker} is damaged: it names no deployment",
                       hint="write `deployment: <name>` into it if this directory is hotstack's")
    return owner


def _legacy(paths: Paths, entries: Set[str]) -> bool:
    return paths.secrets_file.name in entries and paths.state.is_dir()


def _made_by_hotstack(entry: str, known: Set[str]) -> bool:
    """A known name, or the temp file of an atomic write to one (`.secrets.yaml.abc123`)."""
    return entry in known or any(entry.startswith(f".{k}.") for k in known)


def _listed(names: list[str]) -> str:
    more = len(names) - SHOWN_ENTRIES
    return ", ".join(shown(n) for n in names[:SHOWN_ENTRIES]) + (f" and {more} more" if more > 0 else "")
