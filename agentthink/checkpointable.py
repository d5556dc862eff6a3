"""What the dataclasses a run's checkpoint holds share: a fast way to be encoded.

LangGraph's msgpack serializer encodes a dataclass by its fields only after a chain of type
checks that includes a runtime-protocol ``isinstance`` (tens of microseconds each, several per
step). An object with an ``_asdict`` method takes an earlier branch that writes exactly the
same bytes (the class's module, name and fields) and is rebuilt the same way, so checkpoints
stay compatible either way; only the encoding is quicker.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

__all__ = ["Checkpointable"]


class Checkpointable:
    """Mixin for the dataclasses stored in a run's checkpoint (see the module docstring)."""

    __slots__ = ()

    def _asdict(self) -> dict[str, Any]:
        """The instance's fields by name, unconverted (nested objects stay objects)."""
        return {name: getattr(self, name) for name in _field_names(type(self))}


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names
