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
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

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

__all__ = ["RESET", "AgentState", "build_graph"]

RESET = "__reset__"
"""Written to ``steps`` or ``decisions`` at the start of a run to clear the previous run's."""


def _extend_or_reset(old: list[Any] | None, new: list[Any] | str | None) -> list[Any]:
    if new == RESET:
        return []
    return [*(old or []), *(new or [])]


class AgentState(TypedDict, total=False):
    """The graph's state (plain data, checkpointable)."""

    question: str
    messages: Annotated[list[dict[str, Any]], operator.add]
    steps: Annotated[list[dict[str, Any]], _extend_or_reset]
    decisions: Annotated[list[dict[str, Any]], _extend_or_reset]
    decision: dict[str, Any] | None
    pending_tool_calls: list[dict[str, Any]]
    pending_step: dict[str, Any] | None
    answer: str | None
    partial_answer: str | None
    stopped_by: str | None
    error: str | None
    spent: dict[str, Any]
    empty_replies: int
    failures: int


def build_graph(checkpointer: Any = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the arbitration graph (with ``checkpointer`` when given)."""
    graph = StateGraph(AgentState, context_schema=RunContext)
    nodes: dict[str, Any] = {
        "controller": controller_node,
        "model": model_node,
        "tools": tools_node,
        "answer": answer_node,
        "stop": stop_node,
    }
    for name, node in nodes.items():
        graph.add_node(name, node)
    graph.add_edge(START, "controller")
    graph.add_conditional_edges(
        "controller",
        route_decision,
        {"model": "model", "answer": "answer", "stop": "stop"},
    )
    graph.add_conditional_edges(
        "model",
        route_after_model,
        {"tools": "tools", "controller": "controller", "end": END},
    )
    graph.add_conditional_edges(
        "tools", route_decision, {"model": "model", "answer": "answer", "stop": "stop"}
    )
    graph.add_conditional_edges(
        "answer", route_after_model, {"tools": "tools", "controller": "controller", "end": END}
    )
    graph.add_edge("stop", END)
    return graph.compile(checkpointer=checkpointer)
