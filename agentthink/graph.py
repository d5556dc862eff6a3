"""The arbitration graph: a LangGraph ``StateGraph`` of controller, model, tools and answer.

::

    START -> controller --think/act--> model --tool calls--> tools --think/act--> model ...
                        --answer-----> answer --> END          tools --answer--> answer
                        --stop-------> stop ----> END          tools --stop----> stop
             model --proposed answer / thinking only--> controller;  model --ended--> END

After tools run, the tools node asks the controller's policy for the next decision itself (the
same pure function), saving a graph step per tool round.

State holds raw OpenAI-format message dicts (never LangChain message classes, which drop
thinking blocks), step records and the ledger's snapshot, so any checkpointer can persist it
and a run resumes by thread id.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agentthink.nodes import (
    answer_node,
    controller_node,
    model_node,
    route_after_model,
    route_decision,
    stop_node,
    tools_node,
)
from agentthink.runtime import RunContext

__all__ = ["RESET", "AgentState", "build_graph", "flat_state"]

RESET = "__reset__"
"""Written to ``steps`` or ``decisions`` at the start of a run to clear the previous run's."""


def _extend_or_reset(old: list[Any] | None, new: list[Any] | str | None) -> list[Any]:
    if new == RESET:
        return []
    return [*(old or []), *(new or [])]


class AgentState(TypedDict, total=False):
    """The graph's state (plain data, checkpointable).

    Few channels keep LangGraph's per-step cost down: the conversation, the step records and the
    decisions accumulate; everything else about the run in progress lives in one ``run`` dict
    (the current decision, pending tool calls, answer, ``stopped_by``, the ledger's books, ...).
    Nodes see one flat dict of all of it (see ``_flat``).
    """

    question: str
    messages: Annotated[list[dict[str, Any]], operator.add]
    steps: Annotated[list[dict[str, Any]], _extend_or_reset]
    decisions: Annotated[list[dict[str, Any]], _extend_or_reset]
    run: dict[str, Any]


_CHANNELS = ("question", "messages", "steps", "decisions")

Node = Callable[[dict[str, Any], Runtime[RunContext]], Awaitable[dict[str, Any]]]
Router = Callable[[dict[str, Any]], str]


def _flat(state: dict[str, Any]) -> dict[str, Any]:
    """The state as nodes read it: the ``run`` dict's keys next to the channels."""
    return {**(state.get("run") or {}), **{k: state[k] for k in _CHANNELS if k in state}}


def _node(fn: Node, route: Router | None = None, ends: dict[str, str] | None = None) -> Any:
    """Adapt a node written against the flat view: its update is split back into channels.

    With ``route``, the node also picks its successor from the updated run and returns a
    ``Command``: LangGraph then needs no separate branch step (conditional edges cost a routing
    task per step, and a thread hand-off when the routing function is sync).
    """

    async def node(state: dict[str, Any], runtime: Runtime[RunContext]) -> Any:
        update = await fn(_flat(state), runtime)
        out = {k: update.pop(k) for k in _CHANNELS if k in update}
        run = state.get("run") or {}
        if update:
            run = out["run"] = {**run, **update}
        if route is None or ends is None:
            return out
        return Command(update=out, goto=ends[route(run)])

    node.__name__ = fn.__name__
    return node


def flat_state(state: dict[str, Any]) -> dict[str, Any]:
    """The flat view of a final state (for building the run's result)."""
    return _flat(state)


def build_graph(checkpointer: Any = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the arbitration graph (with ``checkpointer`` when given)."""
    graph = StateGraph(AgentState, context_schema=RunContext)
    after_decision = {"model": "model", "answer": "answer", "stop": "stop"}
    after_model = {"tools": "tools", "controller": "controller", "end": END}
    nodes: dict[str, tuple[Node, Router | None, dict[str, str] | None]] = {
        "controller": (controller_node, route_decision, after_decision),
        "model": (model_node, route_after_model, after_model),
        "tools": (tools_node, route_decision, after_decision),
        "answer": (answer_node, route_after_model, after_model),
        "stop": (stop_node, None, None),
    }
    for name, (node, route, ends) in nodes.items():
        destinations = tuple(ends.values()) if ends else ()
        graph.add_node(name, _node(node, route, ends), destinations=destinations)
    graph.add_edge(START, "controller")
    graph.add_edge("stop", END)
    return graph.compile(checkpointer=checkpointer)
