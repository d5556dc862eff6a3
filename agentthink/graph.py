"""The arbitration graph: a LangGraph ``StateGraph`` of controller, model, tools, answer and stop.

::

    START -> controller --think/act--> model --tool calls--> tools --think/act--> model ...
                        --answer-----> answer --> END          tools --answer--> answer
                        --stop-------> stop ----> END          tools --stop----> stop
                        --sample-----> sample --> controller
                        --search-----> search --> controller
                        --refocus----> refocus -> controller
                        --force------> force ---> controller
             model --answer / thinking only / failure--> controller
             answer --no answer / failure--> controller

Every node routes with a ``Command`` (its update and the next node), dispatching on the
decision's type; LangGraph then needs no separate branch step. After tools run, the tools node
asks the controller itself (the same pure function), saving a graph step per tool round.

The state (``agentthink.state.AgentState``) is typed data any checkpointer can persist, so a
run resumes by thread id.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agentthink.answering import answer_node
from agentthink.forcing import force_node
from agentthink.nodes import controller_node, model_node, stop_node
from agentthink.refocus import refocus_node
from agentthink.runtime import RunContext
from agentthink.sampling import sample_node
from agentthink.search import search_node
from agentthink.state import AgentState
from agentthink.tool_step import tools_node

__all__ = ["build_graph"]

_DECIDED = ("model", "answer", "stop", "sample", "search", "refocus", "force")


def build_graph(checkpointer: Any = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the arbitration graph (with ``checkpointer`` when given)."""
    graph = StateGraph(AgentState, context_schema=RunContext)
    graph.add_node("controller", controller_node, destinations=_DECIDED)
    graph.add_node("model", model_node, destinations=("tools", "controller"))
    graph.add_node("tools", tools_node, destinations=_DECIDED)
    graph.add_node("answer", answer_node, destinations=("controller", END))
    graph.add_node("stop", stop_node)
    graph.add_node("sample", sample_node, destinations=("controller",))
    graph.add_node("search", search_node, destinations=("controller",))
    graph.add_node("refocus", refocus_node, destinations=("controller",))
    graph.add_node("force", force_node, destinations=("controller",))
    graph.add_edge(START, "controller")
    graph.add_edge("stop", END)
    return graph.compile(checkpointer=checkpointer)
