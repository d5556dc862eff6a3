"""The declarative budget of one run: token, cost, step, tool-call and time limits.

A ``Budget`` is pure configuration, validated when it is built. The ``Ledger``
(``agentthink.ledger``) enforces it during a run.

::

    Budget(max_total_tokens=20_000, max_thinking_tokens=8_000, max_cost_usd=0.05, max_steps=10)
    Budget.parse("total=20k,thinking=8000,cost=0.05,steps=10")      # the CLI's --budget
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from typing import Any, Final, Literal, get_args

from agentthink.checkpointable import Checkpointable
from agentthink.errors import InvalidBudgetError

__all__ = [
    "AUTO_ANSWER_RESERVE_CAP",
    "LIMIT_NAMES",
    "Budget",
    "LimitName",
    "Overrun",
    "Prices",
    "Remaining",
    "Spent",
    "format_status",
]

LimitName = Literal[
    "max_total_tokens",
    "max_thinking_tokens",
    "max_output_tokens",
    "max_cost_usd",
    "max_steps",
    "max_tool_calls",
    "max_seconds",
]
"""The name of a ``Budget`` limit; what ``stopped_by`` holds when a limit ends a run."""

LIMIT_NAMES: Final[tuple[LimitName, ...]] = get_args(LimitName)

AUTO_ANSWER_RESERVE_CAP: Final = 256
"""The automatic answer reserve never exceeds this many tokens."""

_INT_LIMITS: Final = (
    "max_total_tokens",
    "max_thinking_tokens",
    "max_output_tokens",
    "max_steps",
    "max_tool_calls",
)
_REAL_LIMITS: Final = ("max_cost_usd", "max_seconds")

_SPEC_KEYS: Final[dict[str, str]] = {
    "total": "max_total_tokens",
    "tokens": "max_total_tokens",
    "thinking": "max_thinking_tokens",
    "think": "max_thinking_tokens",
    "output": "max_output_tokens",
    "out": "max_output_tokens",
    "cost": "max_cost_usd",
    "usd": "max_cost_usd",
    "steps": "max_steps",
    "tools": "max_tool_calls",
    "tool_calls": "max_tool_calls",
    "seconds": "max_seconds",
    "time": "max_seconds",
    "reserve": "answer_reserve_tokens",
}
_SHORT_KEY: Final[dict[str, str]] = {
    "max_total_tokens": "total",
    "max_thinking_tokens": "thinking",
    "max_output_tokens": "output",
    "max_cost_usd": "cost",
    "max_steps": "steps",
    "max_tool_calls": "tools",
    "max_seconds": "seconds",
    "answer_reserve_tokens": "reserve",
}
_SPEC_EXAMPLE: Final = "total=20000,thinking=8000,cost=0.05,steps=10"
_COUNT_RE: Final = re.compile(r"^(-?\d[\d_]*(?:\.\d+)?)\s*([km]?)$", re.IGNORECASE)
_SECONDS_RE: Final = re.compile(r"^(.+?)\s*(s|m|min|h)?$", re.IGNORECASE)
_NONE_WORDS: Final = frozenset({"none", "unlimited", "off"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Budget:
    """Limits for one run; every field is optional and ``None`` means unlimited.

    Token limits count what the provider bills, summed over every model call of the run:
    the whole prompt is counted again on every call (it is resent each time).
    """

    max_total_tokens: int | None = None
    """Prompt plus completion tokens, summed over every call (> 0)."""
    max_thinking_tokens: int | None = None
    """Reasoning tokens summed over every call (> 0); part of the output tokens."""
    max_output_tokens: int | None = None
    """Completion tokens (answer text, tool calls and reasoning) summed over every call (> 0)."""
    max_cost_usd: float | None = None
    """US dollars over the run (> 0). A hard limit only when the model's prices are known."""
    max_steps: int | None = None
    """Model calls, the final answer call included (> 0)."""
    max_tool_calls: int | None = None
    """Tool calls executed (> 0)."""
    max_seconds: float | None = None
    """Wall-clock seconds from the start of the run (> 0); retries and tools count too."""
    answer_reserve_tokens: int | None = None
    """Output tokens kept back so a final answer can always be produced (>= 0).

    ``None`` picks it automatically: ``min(256, smallest of max_total_tokens and
    max_output_tokens // 4)``, or 256 when neither is set. See ``effective_answer_reserve_tokens``.
    """

    def __post_init__(self) -> None:
        for name in _INT_LIMITS:
            _check_int(name, getattr(self, name), minimum=1)
        for name in _REAL_LIMITS:
            _check_real(name, getattr(self, name))
        _check_int("answer_reserve_tokens", self.answer_reserve_tokens, minimum=0)
        self._check_contradictions()

    def _check_contradictions(self) -> None:
        total, output, thinking = (
            self.max_total_tokens,
            self.max_output_tokens,
            self.max_thinking_tokens,
        )
        if thinking is not None and output is not None and thinking > output:
            raise InvalidBudgetError(
                f"max_thinking_tokens ({thinking}) cannot exceed max_output_tokens ({output}): "
                "thinking tokens are output tokens; lower max_thinking_tokens or raise "
                "max_output_tokens"
            )
        for name, value in (("max_thinking_tokens", thinking), ("max_output_tokens", output)):
            if value is not None and total is not None and value > total:
                raise InvalidBudgetError(
                    f"{name} ({value}) cannot exceed max_total_tokens ({total}): they count "
                    f"toward the total; lower {name} or raise max_total_tokens"
                )
        reserve = self.answer_reserve_tokens
        if reserve is None:
            return
        for name, value in (("max_total_tokens", total), ("max_output_tokens", output)):
            if value is not None and reserve >= value:
                raise InvalidBudgetError(
                    f"answer_reserve_tokens ({reserve}) must be smaller than {name} ({value}), "
                    f"or nothing is left to spend before the answer; lower answer_reserve_tokens "
                    f"or raise {name}"
                )

    @property
    def effective_answer_reserve_tokens(self) -> int:
        """The answer reserve in force: the one given, else ``min(256, smallest limit // 4)``.

        The smallest limit is the smaller of ``max_total_tokens`` and ``max_output_tokens``; with
        neither set the reserve is 256 (it still counts against ``max_cost_usd``).
        """
        if self.answer_reserve_tokens is not None:
            return self.answer_reserve_tokens
        limits = [v for v in (self.max_total_tokens, self.max_output_tokens) if v is not None]
        if not limits:
            return AUTO_ANSWER_RESERVE_CAP
        return min(AUTO_ANSWER_RESERVE_CAP, min(limits) // 4)

    @property
    def is_unlimited(self) -> bool:
        """True when no limit is set."""
        return all(getattr(self, name) is None for name in LIMIT_NAMES)

    def limit(self, name: LimitName) -> float | None:
        """The value of one limit by name."""
        value: float | None = getattr(self, name)
        return value

    @classmethod
    def parse(cls, spec: str) -> Budget:
        """Build a budget from ``key=value`` pairs separated by commas or spaces.

        Keys: ``total``, ``thinking``, ``output``, ``cost``, ``steps``, ``tools``, ``seconds``,
        ``reserve`` (or the field names themselves). Token counts accept ``20000``, ``20_000``,
        ``20k``, ``1.5m``; cost accepts ``0.05`` or ``$0.05``; seconds accept ``90``, ``90s``,
        ``2m``, ``1h``; ``none`` leaves a limit unset. An empty spec is an unlimited budget.
        """
        values: dict[str, Any] = {}
        for piece in re.split(r"[,\s]+", spec.strip()):
            if not piece:
                continue
            key, sep, raw = piece.partition("=")
            if not sep:
                raise InvalidBudgetError(
                    f"Budget spec piece {piece!r} has no '='; write key=value pairs separated "
                    f"by commas, e.g. {_SPEC_EXAMPLE!r}"
                )
            field_name = _field_for_key(key.strip().lower().replace("-", "_"), piece)
            if field_name in values:
                raise InvalidBudgetError(
                    f"Budget spec sets {field_name} twice (in {piece!r}); give each limit once"
                )
            values[field_name] = _parse_value(field_name, raw.strip(), piece)
        return cls(**values)

    def to_spec(self) -> str:
        """The ``parse`` form of this budget (``""`` when unlimited); ``parse`` reads it back."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                parts.append(f"{_SHORT_KEY[f.name]}={value!r}")
        return ",".join(parts)


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidBudgetError(
            f"{name} must be a whole number (int), got {value!r} ({type(value).__name__}); "
            f"pass e.g. {name}=1000, or None for no limit"
        )
    if value < minimum:
        what = "> 0" if minimum == 1 else f">= {minimum}"
        fix = "use None for no limit" if minimum == 1 else "use 0 for no reserve"
        raise InvalidBudgetError(f"{name} must be {what}, got {value}; {fix}")


def _check_real(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidBudgetError(
            f"{name} must be a number (int or float), got {value!r} ({type(value).__name__}); "
            f"pass e.g. {name}=0.5, or None for no limit"
        )
    if not math.isfinite(value):
        raise InvalidBudgetError(
            f"{name} must be a finite number, got {value!r}; use None for no limit"
        )
    if value <= 0:
        raise InvalidBudgetError(f"{name} must be > 0, got {value!r}; use None for no limit")


def _field_for_key(key: str, piece: str) -> str:
    if key in _SHORT_KEY:
        return key
    if key in _SPEC_KEYS:
        return _SPEC_KEYS[key]
    known = ", ".join(dict.fromkeys(_SHORT_KEY.values()))
    raise InvalidBudgetError(
        f"Budget spec piece {piece!r} has an unknown key {key!r}; use one of {known} "
        f"(or the Budget field names), e.g. {_SPEC_EXAMPLE!r}"
    )


def _parse_value(field_name: str, raw: str, piece: str) -> int | float | None:
    if raw.lower() in _NONE_WORDS:
        return None
    if field_name == "max_cost_usd":
        return _parse_cost(raw.removeprefix("$"), piece)
    if field_name == "max_seconds":
        return _parse_seconds(raw, piece)
    return _parse_count(raw, piece)


def _parse_count(raw: str, piece: str) -> int:
    match = _COUNT_RE.match(raw)
    if match is None:
        raise InvalidBudgetError(
            f"Budget spec {piece!r}: {raw!r} is not a whole number (write e.g. 20000, 20_000, 20k)"
        )
    number = float(match.group(1).replace("_", ""))
    number *= {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    if not number.is_integer():
        raise InvalidBudgetError(
            f"Budget spec {piece!r}: {raw!r} is not a whole number (write e.g. 20000, 20_000, 20k)"
        )
    return int(number)


def _parse_cost(raw: str, piece: str) -> float:
    try:
        value = float(raw.replace("_", ""))
    except ValueError:
        raise InvalidBudgetError(
            f"Budget spec {piece!r}: {raw!r} is not an amount of US dollars (write e.g. 0.05)"
        ) from None
    return int(value) if value.is_integer() and "." not in raw else value


def _parse_seconds(raw: str, piece: str) -> float:
    match = _SECONDS_RE.match(raw)
    text = match.group(1).replace("_", "") if match else raw
    scale = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600}[
        ((match and match.group(2)) or "").lower()
    ]
    try:
        value = float(text)
    except ValueError:
        raise InvalidBudgetError(
            f"Budget spec {piece!r}: {raw!r} is not a duration (write e.g. 90, 90s, 2m, 1h)"
        ) from None
    if value.is_integer() and text.lstrip("-").isdigit():
        return int(text) * scale
    return value * scale


@dataclass(frozen=True, slots=True)
class Spent(Checkpointable):
    """What a run has spent so far (true values, even past a limit)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    """Completion tokens, reasoning included."""
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    """Known cost; calls whose price was unknown add nothing here (see ``unpriced_calls``)."""
    steps: int = 0
    """Model calls recorded."""
    tool_calls: int = 0
    seconds: float = 0.0
    """Elapsed wall-clock seconds."""
    unpriced_calls: int = 0
    """Model calls whose cost was neither reported nor computable from prices."""

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Prices:
    """A model's prices in USD per token (None: unknown)."""

    input_per_token: float | None = None
    output_per_token: float | None = None

    @property
    def known(self) -> bool:
        """True when either price is known."""
        return self.input_per_token is not None or self.output_per_token is not None

    def check(self) -> None:
        """Raise ``ValueError`` unless each known price is finite and >= 0."""
        for price in (self.input_per_token, self.output_per_token):
            if price is not None and not (math.isfinite(price) and price >= 0):
                raise ValueError(f"prices must be finite and >= 0, got {self}")


@dataclass(frozen=True, slots=True)
class Remaining:
    """What is left of each limit (``None`` = unlimited; never below 0, see ``exceeded``)."""

    total_tokens: int | None = None
    thinking_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    steps: int | None = None
    tool_calls: int | None = None
    seconds: float | None = None
    answer_reserve_tokens: int = 0
    """Output tokens the ledger keeps back for the final answer."""
    exceeded: tuple[LimitName, ...] = ()
    """Limits already crossed (a provider overran); their remaining value shows 0."""


@dataclass(frozen=True, slots=True)
class Overrun:
    """One limit crossed: its value and what was spent against it."""

    limit: LimitName
    limit_value: float
    spent: float


def _number(value: float) -> str:
    return f"{math.floor(value):,}"


def _usd(value: float) -> str:
    return f"${value:.2f}" if value >= 1 else f"${value:.3f}" if value >= 0.01 else f"${value:.4f}"


def format_status(left: Remaining, overruns: tuple[Overrun, ...]) -> str:
    """The Budget Tracker line for a ``Remaining`` snapshot."""
    parts: list[str] = []
    details = [
        f"{_number(v)} {label}"
        for v, label in ((left.output_tokens, "output"), (left.thinking_tokens, "thinking"))
        if v is not None
    ]
    if left.total_tokens is not None:
        extra = f" ({', '.join(details)})" if details else ""
        parts.append(f"{_number(left.total_tokens)} tokens{extra}")
    elif details:
        parts.append(f"{' and '.join(details)} tokens")
    if left.cost_usd is not None:
        parts.append(_usd(left.cost_usd))
    for value, unit in ((left.steps, "step"), (left.tool_calls, "tool call")):
        if value is not None:
            parts.append(f"{value:,} {unit}{'' if value == 1 else 's'}")
    if left.seconds is not None:
        parts.append(f"{round(left.seconds):,} s")
    line = "Budget left: " + (", ".join(parts) if parts else "unlimited")
    if overruns:
        over = ", ".join(
            f"{o.limit} by {_usd(o.spent - o.limit_value) if o.limit == 'max_cost_usd' else _number(o.spent - o.limit_value)}"
            for o in overruns
        )
        line += f"; over budget: {over}"
    return line
