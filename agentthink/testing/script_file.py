"""``--model scripted:PATH.json``: a ``ScriptedModel`` played from a JSON script.

For tests and demos that need no model server. The file is a list of turns, or an object::

    {
      "turns": [
        {"reasoning": "The user wants 6*7. Use the calculator.",
         "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]},
        {"reasoning": "The tool said 42.", "text": "**42**", "delay": 0.5},
        "A plain string is a text-only answer.",
        {"error": "the server fell over"}
      ],
      "cycle": false,
      "prices": {"input": 1e-6, "output": 4e-6}
    }

A turn has ``reasoning``, ``text``, ``tool_calls`` (``name``, ``arguments`` object or string,
optional ``id``), ``delay`` (seconds before it answers) and ``error`` (raised as a model server
failure). Tokens are whitespace-separated words. ``cycle: true`` replays the turns endlessly;
otherwise a call past the last turn is an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentthink.errors import ConfigurationError, ModelUnavailableError
from agentthink.testing.scripted import RecordedCall, ScriptedCall, ScriptedModel, ScriptedTurn

__all__ = ["SCRIPTED_PREFIX", "load_scripted_model"]

SCRIPTED_PREFIX = "scripted:"
_TURN_KEYS = {"reasoning", "text", "tool_calls", "delay", "error"}


def load_scripted_model(spec: str) -> ScriptedModel:
    """The model for ``scripted:PATH.json``; ``ConfigurationError`` names what is wrong."""
    path = Path(spec.removeprefix(SCRIPTED_PREFIX)).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"scripted model: {path} does not exist; write a JSON list of turns there "
            "(see `agentthink models scripted:`)"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"scripted model: {path} is not valid JSON: {exc}") from None
    if isinstance(data, list):
        data = {"turns": data}
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise ConfigurationError(
            f'scripted model: {path} must hold a list of turns or {{"turns": [...]}}'
        )
    turns = [_turn(item, i, path) for i, item in enumerate(data["turns"])]
    prices = data.get("prices") or {}
    name = f"scripted:{path.name}"
    if data.get("cycle"):
        if not turns:
            raise ConfigurationError(f"scripted model: {path} cycles over no turns; add some")
        played = [0]

        def next_turn(call: RecordedCall) -> ScriptedTurn:
            turn = turns[played[0] % len(turns)]
            played[0] += 1
            return turn

        return ScriptedModel(
            next_turn,
            name=name,
            input_cost_per_token=prices.get("input"),
            output_cost_per_token=prices.get("output"),
        )
    return ScriptedModel(
        turns,
        name=name,
        input_cost_per_token=prices.get("input"),
        output_cost_per_token=prices.get("output"),
    )


def _turn(item: Any, index: int, path: Path) -> ScriptedTurn:
    where = f"scripted model: {path} turn {index + 1}"
    if isinstance(item, str):
        return ScriptedTurn(text=item)
    if not isinstance(item, dict):
        raise ConfigurationError(f"{where} must be a string or an object")
    unknown = set(item) - _TURN_KEYS
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown key(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(sorted(_TURN_KEYS))}"
        )
    calls = []
    for call in item.get("tool_calls") or []:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ConfigurationError(f"{where}: each tool call needs a name")
        calls.append(ScriptedCall(call["name"], call.get("arguments") or {}, call.get("id")))
    error = item.get("error")
    try:
        delay = float(item.get("delay") or 0.0)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{where}: delay must be a number of seconds") from None
    return ScriptedTurn(
        text=str(item.get("text") or ""),
        reasoning=str(item.get("reasoning") or ""),
        tool_calls=tuple(calls),
        error=ModelUnavailableError(str(error), model="scripted") if error else None,
        delay=delay,
    )
