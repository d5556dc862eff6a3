"""Read a GGUF file's chat template and special tokens from its metadata header, in Python.

Only the key-value header is read (the tensors are not); the token list is walked to find the
BOS and EOS strings. Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Final

from agentthink.models.chat_prompt import ChatTemplate

__all__ = ["gguf_chat_template", "gguf_metadata"]

_SCALARS: Final = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?"}
_SCALARS_64: Final = {10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_WANTED: Final = (
    "tokenizer.chat_template",
    "tokenizer.ggml.bos_token_id",
    "tokenizer.ggml.eos_token_id",
)


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("the GGUF header ends early")
    return struct.unpack(fmt, data)[0]


def _string(f: BinaryIO) -> str:
    return bytes(f.read(_read(f, "<Q"))).decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int, keep: bool) -> Any:
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item, count = _read(f, "<I"), _read(f, "<Q")
        if not keep and item in _SCALARS | _SCALARS_64:
            f.seek(count * struct.calcsize((_SCALARS | _SCALARS_64)[item]), 1)
            return None
        values = [_value(f, item, keep) for _ in range(count)]
        return values if keep else None
    fmt = _SCALARS.get(kind) or _SCALARS_64.get(kind)
    if fmt is None:
        raise ValueError(f"unknown GGUF value type {kind}")
    return _read(f, fmt)


@cache
def gguf_metadata(path: Path, keys: tuple[str, ...] = _WANTED) -> dict[str, Any]:
    """The header values of ``keys`` (plus the token list when an id is asked for)."""
    wanted = set(keys) | (
        {"tokenizer.ggml.tokens"} if any(k.endswith("_id") for k in keys) else set()
    )
    found: dict[str, Any] = {}
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        version = _read(f, "<I")
        if version < 2:
            raise ValueError(f"GGUF version {version} is not supported")
        _read(f, "<Q")  # tensor count
        for _ in range(_read(f, "<Q")):
            key = _string(f)
            value = _value(f, _read(f, "<I"), key in wanted)
            if key in wanted:
                found[key] = value
    return found


def gguf_chat_template(path: Path) -> ChatTemplate | None:
    """The chat template stored in a GGUF file, with its BOS and EOS strings (None: none)."""
    meta = gguf_metadata(path)
    source = meta.get("tokenizer.chat_template")
    if not isinstance(source, str):
        return None
    tokens = meta.get("tokenizer.ggml.tokens") or []

    def token(key: str) -> str:
        index = meta.get(key)
        return str(tokens[index]) if isinstance(index, int) and 0 <= index < len(tokens) else ""

    return ChatTemplate(
        source, token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id")
    )
