"""Decode a fetched body's ``Content-Encoding`` without ever producing more than a cap.

httpx decompresses each network chunk whole, so a 64 KB chunk of a gzip bomb becomes 64 MB
before any size check can look at it. ``BoundedDecoder`` inflates with zlib's ``max_length``
instead: the decoded bytes it returns, all chunks together, never exceed its limit, and the
compressed input past the limit is never inflated.

Encodings: ``identity``, ``gzip`` (``x-gzip``) and ``deflate`` (zlib-wrapped or raw), the ones
``ACCEPT_ENCODING`` asks for. Anything else (``br``, ``zstd``, stacked codings) is refused with
``ToolError``: it cannot be decoded within the limit here.
"""

from __future__ import annotations

import zlib
from typing import Final

from agentthink.errors import ToolError

__all__ = ["ACCEPT_ENCODING", "BoundedDecoder"]

ACCEPT_ENCODING: Final = "gzip, deflate"
"""The ``Accept-Encoding`` to send: only what ``BoundedDecoder`` decodes."""

_GZIP: Final = ("gzip", "x-gzip")


class BoundedDecoder:
    """Feed raw body chunks; get decoded bytes, ``limit`` of them at most in all.

    ``truncated`` is set once the limit cut the body (or may have: a plain body that fills the
    limit exactly); ``done`` once nothing more needs to be read.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [
            c.strip().lower()
            for c in content_encoding.split(",")
            if c.strip() and c.strip().lower() != "identity"
        ]
        if len(codings) > 1 or (codings and codings[0] not in (*_GZIP, "deflate")):
            raise ToolError(
                f"the server sent the body encoded as {content_encoding!r}, which fetch_url "
                f"does not decode (it asks for {ACCEPT_ENCODING!r} only)"
            )
        self._coding = codings[0] if codings else None
        self._inflater = self._new_inflater(raw_deflate=False)
        self._first = True
        self.left = limit
        self.truncated = False
        self.done = False

    def _new_inflater(self, *, raw_deflate: bool) -> zlib._Decompress | None:
        if self._coding is None:
            return None
        if self._coding in _GZIP:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        """The decoded bytes ``data`` adds, cut at what is left of the limit."""
        if self.done or not data:
            return b""
        if self.left <= 0:  # (zlib reads a max_length of 0 as "no limit")
            self.truncated = self.done = True
            return b""
        if self._inflater is None:
            out = data[: self.left]
            if len(data) >= self.left:
                self.truncated = self.done = True
        else:
            out = self._inflate(data)
        self.left -= len(out)
        return out

    def _inflate(self, data: bytes) -> bytes:
        assert self._inflater is not None
        first, self._first = self._first, False
        try:
            out = self._inflater.decompress(data, self.left)
        except zlib.error as exc:
            if first and self._coding == "deflate":  # some servers send raw deflate
                self._inflater = self._new_inflater(raw_deflate=True)
                return self._inflate(data)
            raise ToolError(f"the body's {self._coding} data is corrupt ({exc})") from None
        if self._inflater.eof:
            self.done = True  # anything after the end of the stream is ignored
        elif len(out) >= self.left:  # the limit is reached with more still compressed
            self.truncated = self.done = True
        return out
