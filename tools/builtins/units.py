"""``convert_units``: a quantity from one unit to another (length, mass, volume, time, speed,
area, data, energy, pressure and temperature).

Units are read leniently, as people and models write them: names, plurals and symbols
("kilometers", "km", "mph", "miles per hour", "°F", "degrees Fahrenheit", "sq ft"). What it
refuses: an unknown unit (the error lists the known ones of the same kind when it can tell
the kind), and a conversion between kinds (kilograms to metres).
"""

from __future__ import annotations

import math
import re

from agentthink.errors import ToolError
from agentthink.tools.base import Tool

__all__ = ["UNITS", "convert", "convert_units_tool", "format_number", "unit_of"]

# kind -> {canonical name: (factor to the kind's base unit, aliases)}
_TABLE: dict[str, dict[str, tuple[float, tuple[str, ...]]]] = {
    "length": {
        "meter": (1.0, ("m", "metre", "meters", "metres")),
        "kilometer": (1000.0, ("km", "kilometre", "kilometers", "kilometres", "kms")),
        "centimeter": (0.01, ("cm", "centimetre", "centimeters", "centimetres")),
        "millimeter": (0.001, ("mm", "millimetre", "millimeters", "millimetres")),
        "mile": (1609.344, ("mi", "miles")),
        "yard": (0.9144, ("yd", "yards", "yds")),
        "foot": (0.3048, ("ft", "feet", "'")),
        "inch": (0.0254, ("in", "inches", '"')),
        "nautical mile": (1852.0, ("nmi", "nautical miles")),
    },
    "mass": {
        "kilogram": (1.0, ("kg", "kilo", "kilos", "kilograms", "kilogramme", "kilogrammes")),
        "gram": (0.001, ("g", "grams", "gramme", "grammes", "gr")),
        "milligram": (1e-6, ("mg", "milligrams")),
        "tonne": (1000.0, ("t", "tonnes", "metric ton", "metric tons")),
        "pound": (0.45359237, ("lb", "lbs", "pounds")),
        "ounce": (0.028349523125, ("oz", "ounces")),
        "stone": (6.35029318, ("st", "stones")),
    },
    "volume": {
        "liter": (1.0, ("l", "litre", "liters", "litres")),
        "milliliter": (0.001, ("ml", "millilitre", "milliliters", "millilitres")),
        "cubic meter": (1000.0, ("m3", "m^3", "cubic meters", "cubic metres", "cubic metre")),
        "gallon": (3.785411784, ("gal", "gallons", "us gallon", "us gallons")),
        "quart": (0.946352946, ("qt", "quarts")),
        "pint": (0.473176473, ("pt", "pints")),
        "cup": (0.2365882365, ("cups",)),
        "fluid ounce": (0.0295735295625, ("fl oz", "fluid ounces", "floz")),
        "tablespoon": (0.01478676478125, ("tbsp", "tablespoons")),
        "teaspoon": (0.00492892159375, ("tsp", "teaspoons")),
    },
    "time": {
        "second": (1.0, ("s", "sec", "secs", "seconds")),
        "millisecond": (0.001, ("ms", "milliseconds")),
        "minute": (60.0, ("min", "mins", "minutes")),
        "hour": (3600.0, ("h", "hr", "hrs", "hours")),
        "day": (86400.0, ("d", "days")),
        "week": (604800.0, ("wk", "weeks")),
        "year": (31557600.0, ("yr", "yrs", "years")),  # a Julian year, 365.25 days
    },
    "speed": {
        "meter per second": (1.0, ("m/s", "meters per second", "metres per second", "mps")),
        "kilometer per hour": (
            1 / 3.6,
            ("km/h", "kph", "kmh", "km/hr", "kilometers per hour", "kilometres per hour"),
        ),
        "mile per hour": (0.44704, ("mph", "mi/h", "miles per hour")),
        "knot": (1852 / 3600, ("kn", "kt", "knots")),
        "foot per second": (0.3048, ("ft/s", "fps", "feet per second")),
    },
    "area": {
        "square meter": (1.0, ("m2", "m^2", "sq m", "square meters", "square metres", "sqm")),
        "square kilometer": (
            1e6,
            ("km2", "km^2", "sq km", "square kilometers", "square kilometres"),
        ),
        "square foot": (0.09290304, ("ft2", "ft^2", "sq ft", "square feet", "sqft")),
        "square mile": (2589988.110336, ("mi2", "mi^2", "sq mi", "square miles")),
        "acre": (4046.8564224, ("acres", "ac")),
        "hectare": (10000.0, ("ha", "hectares")),
    },
    "data": {
        "byte": (1.0, ("b", "bytes", "B")),
        "kilobyte": (1e3, ("kb", "kilobytes")),
        "megabyte": (1e6, ("mb", "megabytes")),
        "gigabyte": (1e9, ("gb", "gigabytes")),
        "terabyte": (1e12, ("tb", "terabytes")),
        "kibibyte": (1024.0, ("kib", "kibibytes")),
        "mebibyte": (1024.0**2, ("mib", "mebibytes")),
        "gibibyte": (1024.0**3, ("gib", "gibibytes")),
    },
    "energy": {
        "joule": (1.0, ("j", "joules")),
        "kilojoule": (1e3, ("kj", "kilojoules")),
        "calorie": (4.184, ("cal", "calories")),
        "kilocalorie": (4184.0, ("kcal", "kilocalories", "food calorie", "food calories")),
        "kilowatt hour": (3.6e6, ("kwh", "kilowatt hours", "kilowatt-hour", "kilowatt-hours")),
    },
    "pressure": {
        "pascal": (1.0, ("pa", "pascals")),
        "kilopascal": (1e3, ("kpa", "kilopascals")),
        "bar": (1e5, ("bars",)),
        "atmosphere": (101325.0, ("atm", "atmospheres")),
        "psi": (6894.757293168361, ("pounds per square inch",)),
    },
}

_TEMPERATURES = {
    "celsius": ("c", "°c", "centigrade", "degrees celsius", "degree celsius"),
    "fahrenheit": ("f", "°f", "degrees fahrenheit", "degree fahrenheit"),
    "kelvin": ("k", "kelvins", "degrees kelvin"),
}

UNITS: dict[str, tuple[str, str]] = {}
"""Every accepted spelling (lower case) -> (kind, canonical name); temperature has factor 0."""
_FACTORS: dict[str, float] = {}


def _register() -> None:
    for kind, units in _TABLE.items():
        for name, (factor, aliases) in units.items():
            _FACTORS[name] = factor
            for spelling in (name, *aliases):
                UNITS.setdefault(spelling.lower(), (kind, name))
    for name, aliases in _TEMPERATURES.items():
        for spelling in (name, *aliases):
            UNITS[spelling] = ("temperature", name)


_register()

_NOISE = re.compile(r"^(?:degrees?|deg)\s+|[.?!]+$")


def unit_of(text: str) -> tuple[str, str]:
    """``(kind, canonical name)`` of a unit as written; ``ToolError`` when unknown."""
    raw = " ".join(text.replace("°", " °").split()).strip()
    key = raw.lower().replace("° ", "°")
    candidates = [key, _NOISE.sub("", key).strip(), key.removesuffix("s"), key.replace("-", " ")]
    if raw == "B":
        candidates.insert(0, "b")
    for candidate in candidates:
        if candidate in UNITS:
            return UNITS[candidate]
    raise ToolError(
        f"unknown unit {text!r}; known kinds: {', '.join([*_TABLE, 'temperature'])} "
        "(e.g. km, miles, kg, pounds, liters, gallons, hours, mph, acres, GB, kcal, psi, °C, °F)"
    )


def _to_kelvin(value: float, unit: str) -> float:
    if unit == "celsius":
        return value + 273.15
    if unit == "fahrenheit":
        return (value - 32) * 5 / 9 + 273.15
    return value


def _from_kelvin(value: float, unit: str) -> float:
    if unit == "celsius":
        return value - 273.15
    if unit == "fahrenheit":
        return (value - 273.15) * 9 / 5 + 32
    return value


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit``."""
    if not math.isfinite(value):
        raise ToolError(f"the value must be a finite number, got {value!r}")
    source_kind, source = unit_of(from_unit)
    target_kind, target = unit_of(to_unit)
    if source_kind != target_kind:
        raise ToolError(
            f"cannot convert {source_kind} ({source}) to {target_kind} ({target}): "
            "both units must measure the same kind of quantity"
        )
    if source_kind == "temperature":
        return _from_kelvin(_to_kelvin(value, source), target)
    return value * _FACTORS[source] / _FACTORS[target]


def format_number(value: float) -> str:
    """A number as people write it: at most 10 significant digits, no float noise."""
    if value == 0:
        return "0"
    text = f"{value:.10g}"
    if "e" in text:
        return text
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plural(name: str, value: float) -> str:
    if value == 1 or name in ("celsius", "fahrenheit", "kelvin", "psi"):
        return name
    if name == "foot":
        return "feet"
    if name.startswith("square foot") or name.endswith(" foot per second"):
        return name.replace("foot", "feet")
    if " per " in name:
        head, _, tail = name.partition(" per ")
        return f"{head}s per {tail}"
    return name + ("es" if name.endswith("inch") else "s")


def convert_units_tool(*, name: str = "convert_units") -> Tool:
    """A tool that converts a quantity between units of the same kind."""

    def convert_units(value: float, from_unit: str, to_unit: str) -> str:
        """Convert a quantity from one unit to another (length, mass, volume, time, speed,
        area, data, energy, pressure, temperature).

        Args:
            value: the number to convert, e.g. 5
            from_unit: the unit the value is in, e.g. "miles", "kg", "°F"
            to_unit: the unit wanted, e.g. "kilometers", "pounds", "celsius"
        """
        result = convert(float(value), from_unit, to_unit)
        _, source = unit_of(from_unit)
        _, target = unit_of(to_unit)
        shown = format_number(float(value))
        return (
            f"{shown} {_plural(source, float(value))} = "
            f"{format_number(result)} {_plural(target, result)}"
        )

    return Tool.from_function(convert_units, name=name, timeout=5.0)
