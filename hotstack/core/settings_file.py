"""Reading the settings file: a regular file of at most 1 MiB, UTF-8, valid YAML, one mapping,
no key twice, and YAML types that match the model (checked here, for the file only).

Values from HOTSTACK_* variables and `--set` flags are always strings; pydantic parses them
afterwards (`"1400"` → 1400, `"true"` → True). In the file, YAML's own types must already be
right: `true` is not a number, `123` is not a string, `"yes"` is not a boolean.
"""

from __future__ import annotations

import io
import stat
import types
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

from hotstack.core.errors import BadInput
from hotstack.core.settings_rules import shown

MAX_BYTES = 1 << 20

_KINDS: dict[type, str] = {bool: "a boolean (true or false)", int: "a whole number", float: "a decimal number",
                           str: "a string", dict: "a mapping", list: "a list", type(None): "empty"}


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping holding the same key twice (the last would win silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            line = key_node.start_mark.line + 1
            first = seen.setdefault((key_node.tag, key_node.value), line)
            if first != line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shown(key_node.value)} on line {line} (first on line {first})",
                    key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def read(path: Path, *, required: bool) -> dict[str, Any]:
    """The file's settings as a mapping ({} when an implicit default file is absent)."""
    raw = _read_bytes(path, required=required)
    if raw is None:
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"config file {path} is not UTF-8 text (byte {exc.start} cannot be decoded)",
                       hint="save it as UTF-8") from None
    try:
        stream = io.StringIO(text)
        stream.name = str(path)  # the marks of an error name the file
        data = yaml.load(stream, Loader=UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise BadInput(f"config file {path} is not valid YAML: {str(exc)[:400]}") from None
    except RecursionError:
        raise BadInput(f"config file {path} nests too deeply to be a settings file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"config file {path} must hold a mapping of settings, not {_kind(data)}")
    return data


def _read_bytes(path: Path, *, required: bool) -> bytes | None:
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise BadInput(f"config file {path} is a directory, not a file", hint="give the YAML file inside it")
        if not stat.S_ISREG(mode):
            raise BadInput(f"config file {path} is not a regular file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        if required:
            raise BadInput(f"config file {path} does not exist",
                           hint="create it or drop --config to use the defaults") from None
        return None
    except PermissionError:
        raise BadInput(f"config file {path} cannot be read: permission denied",
                       hint="run as a user who may read it, or fix its mode") from None
    except OSError as exc:
        raise BadInput(f"config file {path} cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise BadInput(f"config file {path} is larger than {MAX_BYTES // 1024} KiB: not a settings file")
    return raw


def check_types(data: Mapping[str, Any], model: type[BaseModel], path: Path, prefix: str = "") -> None:
    """Every known key of the file holds the YAML type its field wants (unknown keys are left to
    the model, which names them)."""
    for name, field in model.model_fields.items():
        if name not in data:
            continue
        key, value = prefix + name, data[name]
        wanted = _accepted(field.annotation)
        if not _fits(value, wanted):
            raise BadInput(f"setting {key} = {shown(value)}: {_rule(wanted, value)}", hint=f"fix it in {path}")
        _check_inside(field.annotation, value, path, key)


def _check_inside(annotation: Any, value: object, path: Path, key: str) -> None:
    """Descend into a section, or into each entry of a mapping or list of sections."""
    if _is_model(annotation) and isinstance(value, dict):
        check_types(value, annotation, path, prefix=f"{key}.")
        return
    entry = get_args(annotation)[-1:]
    if not entry or not _is_model(entry[0]):
        return
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, item in items:
        if not isinstance(item, dict):
            raise BadInput(f"setting {key}.{name} = {shown(item)}: must be a mapping, not {_kind(item)}",
                           hint=f"fix it in {path}")
        check_types(item, entry[0], path, prefix=f"{key}.{name}.")


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _accepted(annotation: Any) -> tuple[type, ...]:
    """The YAML types a field takes: its own for bool/int/None/sections, a string for the rest
    (str, paths, addresses, networks and literals are written as strings)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return tuple(t for arg in get_args(annotation) for t in _accepted(arg))
    if origin is Literal:
        return tuple({type(a) for a in get_args(annotation)})
    if annotation in (bool, int, type(None)):
        return (annotation,)
    if origin is dict or _is_model(annotation):
        return (dict,)
    if origin is list:
        return (list,)
    return (str,)


def _fits(value: object, wanted: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in wanted
    return isinstance(value, wanted)


def _rule(wanted: tuple[type, ...], value: object) -> str:
    rule = f"must be {' or '.join(_KINDS.get(t, t.__name__) for t in wanted)}, not {_kind(value)}"
    if str in wanted and isinstance(value, bool | int | float):
        literal = str(value).lower() if isinstance(value, bool) else str(value)
        rule += f' (quote it in the file, e.g. "{literal}"'
        rule += "; unquoted, YAML reads 2025.10 as the number 2025.1)" if isinstance(value, float) else ")"
    return rule


def _kind(value: object) -> str:
    return next((k for t, k in _KINDS.items() if isinstance(value, t)), type(value).__name__)
