"""Frozen dataclasses <-> JSON, driven by their type hints (one codec for every record).

`to_json` turns a record into plain JSON values (enums as their strings, tuples as lists);
`from_json` builds a record back, recursing into nested records, optional records, tuples
of records and enums, and filling absent keys from the fields' defaults (older files lack
newer keys). A key the record does not know, or a required key that is absent, raises
`RecordError` naming the path to it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, Mapping, TypeVar

R = TypeVar("R")


class RecordError(ValueError):
    """JSON that does not have a record's shape; the message names the key path."""


def to_json(value: Any) -> Any:
    """A record (or any value inside one) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        for option in options:  # the first option that fits (records first, then the rest)
            if dataclasses.is_dataclass(option) and isinstance(value, Mapping):
                return from_json(option, value, where)
        for option in options:
            try:
                return _decode(option, value, where)
            except (RecordError, TypeError, ValueError):
                continue
        raise RecordError(f"{where}: unexpected value {value!r}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise RecordError(f"{where}: expected an object, found {type(value).__name__}")
        return from_json(tp, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise RecordError(f"{where}: expected a list, found {type(value).__name__}")
        args = typing.get_args(tp)
        element = args[0] if args else Any
        return tuple(_decode(element, v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError:
            raise RecordError(f"{where}: {value!r} is not one of {', '.join(str(m.value) for m in tp)}") from None
    if tp in (int, float) and isinstance(value, bool):
        raise RecordError(f"{where}: expected a number, found {value!r}")
    if tp is float and isinstance(value, int):
        return float(value)
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        raise RecordError(f"{where}: expected {tp.__name__}, found {type(value).__name__}")
    return value


def from_json(cls: type[R], data: Mapping[str, Any], where: str = "") -> R:
    """Build record `cls` from a JSON object (see the module docstring)."""
    if not isinstance(data, Mapping):
        raise RecordError(f"{where or cls.__name__}: expected an object, found {type(data).__name__}")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise RecordError(f"{where or cls.__name__}: unknown key(s) {', '.join(unknown)}")
    kwargs = {}
    for name, f in fields.items():
        path = f"{where}.{name}" if where else name
        if name in data:
            kwargs[name] = _decode(hints[name], data[name], path)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise RecordError(f"{path}: missing")
    return cls(**kwargs)  # type: ignore[call-arg]
