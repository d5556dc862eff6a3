"""A tiny pure-Python PNG scatter plot (no matplotlib): points, a Pareto line, labels, axes.

Enough for the lab's "accuracy against tokens" figure, and it works anywhere (zlib + struct).
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["Canvas", "scatter_png"]

# 5x7 bitmap font: each glyph is 7 rows of 5 bits.
_FONT: dict[str, tuple[int, ...]] = {
    "0": (14, 17, 19, 21, 25, 17, 14),
    "1": (4, 12, 4, 4, 4, 4, 14),
    "2": (14, 17, 1, 2, 4, 8, 31),
    "3": (31, 2, 4, 2, 1, 17, 14),
    "4": (2, 6, 10, 18, 31, 2, 2),
    "5": (31, 16, 30, 1, 1, 17, 14),
    "6": (6, 8, 16, 30, 17, 17, 14),
    "7": (31, 1, 2, 4, 8, 8, 8),
    "8": (14, 17, 17, 14, 17, 17, 14),
    "9": (14, 17, 17, 15, 1, 2, 12),
    "a": (0, 0, 14, 1, 15, 17, 15),
    "b": (16, 16, 22, 25, 17, 17, 30),
    "c": (0, 0, 14, 16, 16, 17, 14),
    "d": (1, 1, 13, 19, 17, 17, 15),
    "e": (0, 0, 14, 17, 31, 16, 14),
    "f": (6, 9, 8, 28, 8, 8, 8),
    "g": (0, 15, 17, 17, 15, 1, 14),
    "h": (16, 16, 22, 25, 17, 17, 17),
    "i": (4, 0, 12, 4, 4, 4, 14),
    "j": (2, 0, 6, 2, 2, 18, 12),
    "k": (16, 16, 18, 20, 24, 20, 18),
    "l": (12, 4, 4, 4, 4, 4, 14),
    "m": (0, 0, 26, 21, 21, 17, 17),
    "n": (0, 0, 22, 25, 17, 17, 17),
    "o": (0, 0, 14, 17, 17, 17, 14),
    "p": (0, 0, 30, 17, 30, 16, 16),
    "q": (0, 0, 13, 19, 15, 1, 1),
    "r": (0, 0, 22, 25, 16, 16, 16),
    "s": (0, 0, 14, 16, 14, 1, 30),
    "t": (8, 8, 28, 8, 8, 9, 6),
    "u": (0, 0, 17, 17, 17, 19, 13),
    "v": (0, 0, 17, 17, 17, 10, 4),
    "w": (0, 0, 17, 17, 21, 21, 10),
    "x": (0, 0, 17, 10, 4, 10, 17),
    "y": (0, 0, 17, 17, 15, 1, 14),
    "z": (0, 0, 31, 2, 4, 8, 31),
    "-": (0, 0, 0, 31, 0, 0, 0),
    ".": (0, 0, 0, 0, 0, 12, 12),
    ",": (0, 0, 0, 0, 12, 4, 8),
    "%": (24, 25, 2, 4, 8, 19, 3),
    "(": (2, 4, 8, 8, 8, 4, 2),
    ")": (8, 4, 2, 2, 2, 4, 8),
    ":": (0, 12, 12, 0, 12, 12, 0),
    "/": (0, 1, 2, 4, 8, 16, 0),
    "=": (0, 0, 31, 0, 31, 0, 0),
    "+": (0, 4, 4, 31, 4, 4, 0),
    "_": (0, 0, 0, 0, 0, 0, 31),
    " ": (0, 0, 0, 0, 0, 0, 0),
}

Color = tuple[int, int, int]
PALETTE: tuple[Color, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (0, 0, 128),
    (0, 128, 128),
)
"""Twelve colours: a lab run of up to twelve policies has one each."""


class Canvas:
    """An RGB raster with lines, dots and 5x7 text, saved as PNG."""

    def __init__(self, width: int, height: int, background: Color = (255, 255, 255)) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def set(self, x: int, y: int, color: Color) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.pixels[i : i + 3] = bytes(color)

    def line(
        self, x0: float, y0: float, x1: float, y1: float, color: Color, width: int = 1
    ) -> None:
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for s in range(steps + 1):
            t = s / steps
            x, y = round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t)
            for dx in range(width):
                for dy in range(width):
                    self.set(x + dx - width // 2, y + dy - width // 2, color)

    def dot(self, x: float, y: float, radius: int, color: Color) -> None:
        for dy in range(-radius, radius + 1):
            for dx in range(-radius, radius + 1):
                if dx * dx + dy * dy <= radius * radius:
                    self.set(round(x) + dx, round(y) + dy, color)

    def text(self, x: int, y: int, text: str, color: Color = (0, 0, 0), scale: int = 1) -> None:
        for ch in text:
            glyph = _FONT.get(ch, _FONT.get(ch.lower(), _FONT[" "]))
            for row, bits in enumerate(glyph):
                for col in range(5):
                    if bits & (1 << (4 - col)):
                        for sy in range(scale):
                            for sx in range(scale):
                                self.set(x + col * scale + sx, y + row * scale + sy, color)
            x += 6 * scale

    def save(self, path: str | Path) -> None:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            return (
                struct.pack(">I", len(data))
                + kind
                + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
            )

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        Path(path).write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = max(high - low, 1e-9)
    raw = span / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=mag * 10)
    first = math.ceil(low / step) * step
    ticks = []
    v = first
    while v <= high + 1e-9:
        ticks.append(v)
        v += step
    return ticks


def scatter_png(
    path: str | Path,
    points: Sequence[tuple[str, float, float]],
    front: Sequence[str],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 760,
    height: int = 480,
) -> None:
    """Labelled points ``(name, x, y)`` with the Pareto front (names in ``front``) joined."""
    c = Canvas(width, height)
    left, right, top, bottom = 70, 30, 40, 50
    xs = [p[1] for p in points] or [0.0]
    ys = [p[2] for p in points] or [0.0]
    x0, x1 = 0.0, max(xs) * 1.1 or 1.0
    y0 = max(0.0, min(ys) - 0.1)
    y1 = min(1.0, max(ys) + 0.05) if max(ys) <= 1 else max(ys) * 1.05
    if y1 - y0 < 0.05:
        y1 = y0 + 0.05

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def py(y: float) -> float:
        return height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom)

    grid, axis = (225, 225, 225), (60, 60, 60)
    for t in _nice_ticks(x0, x1):
        c.line(px(t), top, px(t), height - bottom, grid)
        label = f"{t / 1000:g}k" if t >= 1000 else f"{t:g}"
        c.text(int(px(t)) - 3 * len(label), height - bottom + 8, label, axis)
    for t in _nice_ticks(y0, y1):
        c.line(left, py(t), width - right, py(t), grid)
        label = f"{t:.0%}" if y1 <= 1 else f"{t:g}"
        c.text(left - 8 - 6 * len(label), int(py(t)) - 3, label, axis)
    c.line(left, height - bottom, width - right, height - bottom, axis)
    c.line(left, top, left, height - bottom, axis)
    c.text(left, 12, title, (0, 0, 0), scale=2)
    c.text((width - 6 * len(x_label)) // 2, height - 20, x_label, axis)
    c.text(6, top - 14, y_label, axis)
    on_front = sorted((p for p in points if p[0] in front), key=lambda p: p[1])
    for a, b in itertools.pairwise(on_front):
        c.line(px(a[1]), py(a[2]), px(b[1]), py(b[2]), (120, 120, 120), width=2)
    placed: list[tuple[int, int]] = []
    for i, (name, x, y) in enumerate(points):
        color = PALETTE[i % len(PALETTE)]
        c.dot(px(x), py(y), 6 if name in front else 4, color)
        lx, ly = int(px(x)) + 9, int(py(y)) - 10
        while any(abs(lx - a) < 6 * 12 and abs(ly - b) < 10 for a, b in placed):
            ly += 11  # labels of (nearly) coinciding points go below one another
        if ly > int(py(y)) + 4:  # moved away from its point: a thin line leads back to it
            c.line(px(x) + 4, py(y) + 2, lx - 2, ly + 3, (190, 190, 190))
        placed.append((lx, ly))
        c.text(lx, ly, name, color)
    c.save(path)
