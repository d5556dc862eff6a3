"""The typed run state survives every checkpointer's serializer, and old checkpoints fail clearly."""

from __future__ import annotations

import dataclasses

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agentthink import Agent, Budget
from agentthink.budget import Spent
from agentthink.decisions import Act, Answer, Stop, Think
from agentthink.errors import CheckpointVersionError
from agentthink.models.turn import ToolCall
from agentthink.result import DecisionRecord
from agentthink.signals import StepRecord
from agentthink.state import (
    CHECKPOINT_TYPES,
    STATE_VERSION,
    Halt,
    RunState,
    checkpoint_serde,
    run_state_of,
)
from agentthink.testing import ScriptedModel, ScriptedTurn


def a_busy_run() -> RunState:
    call = ToolCall("c1", "add", {"a": 1, "b": [2, 3]}, '{"a": 1, "b": [2, 3]}')
    return RunState(
        decision=DecisionRecord(
            Answer("cut", use_proposed=False), 4, overridden=Think(64, watch=True)
        ),
        spent=Spent(prompt_tokens=10, completion_tokens=5, cost_usd=0.25, steps=2, seconds=1.5),
        pending_calls=(call,),
        pending_step=StepRecord("think", reasoning="r", tool_calls=(call,), notes=("cut",)),
        empty_replies=1,
        failures=2,
        last_failure="boom",
        halt=Halt("max_thinking_tokens", "spent"),
        partial_answer="maybe",
    )


def test_the_run_state_round_trips_through_the_checkpoint_serializer() -> None:
    serde = checkpoint_serde()
    run = a_busy_run()
    steps = [StepRecord("think", thinking_stopped="it hedged", notes=("a", "b")), run.pending_step]
    decisions = [
        DecisionRecord(Think(2048, "hard", watch=True), 1),
        DecisionRecord(Stop("x", "error"), 2),
    ]
    for value in (run, steps, decisions, Act("go")):
        assert serde.loads_typed(serde.dumps_typed(value)) == value


def test_checkpointed_classes_encode_to_the_same_bytes_as_plain_dataclasses() -> None:
    # ``Checkpointable._asdict`` only takes a quicker branch of LangGraph's encoder: the bytes
    # (module, name, fields) must be what the plain dataclass branch writes, so checkpoints written
    # with or without it load either way.
    import ormsgpack
    from langgraph.checkpoint.serde import jsonplus

    from agentthink.checkpointable import Checkpointable

    def as_plain_dataclass(obj: object) -> object:
        assert dataclasses.is_dataclass(obj)
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return ormsgpack.Ext(
            jsonplus.EXT_CONSTRUCTOR_KW_ARGS,
            jsonplus._msgpack_enc((type(obj).__module__, type(obj).__name__, fields)),
        )

    from agentthink.state import _types

    assert all(issubclass(t, Checkpointable) for t in _types())
    run = a_busy_run()
    for value in (run, run.decision, run.spent, run.pending_calls[0], run.halt, Act("go")):
        assert isinstance(value, Checkpointable)
        assert jsonplus._msgpack_enc(value) == ormsgpack.packb(
            value, default=as_plain_dataclass, option=jsonplus._option
        )


def test_the_allowlist_names_every_class_a_checkpoint_holds() -> None:
    names = {name for _, name in CHECKPOINT_TYPES}
    assert {"RunState", "Halt", "DecisionRecord", "StepRecord", "ToolCall", "Spent"} <= names
    assert {"Think", "Act", "Answer", "Stop"} <= names


async def test_a_checkpointed_run_loads_back_typed_through_the_allow_listed_serializer() -> None:
    """``checkpoint_serde()`` rebuilds only allow-listed classes: the run's classes are."""
    saver = InMemorySaver(serde=checkpoint_serde())
    model = ScriptedModel([ScriptedTurn(reasoning="think about it", text="Paris")])
    agent = Agent(model, policy="fixed", checkpointer=saver)
    result = await agent.run("Capital of France?", thread_id="t1")
    snapshot = await agent.graph.aget_state({"configurable": {"thread_id": "t1"}})
    run = run_state_of(snapshot.values, "t1")
    assert result.answer == "Paris" and run.answer == "Paris" and run.version == STATE_VERSION
    assert all(isinstance(s, StepRecord) for s in snapshot.values["steps"])
    assert [d.kind for d in snapshot.values["decisions"]] == ["think", "answer"]


async def test_an_old_checkpoint_fails_to_resume_with_a_message_naming_the_version() -> None:
    agent = Agent(ScriptedModel(["Hello again"]), policy="never", checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "old"}}
    old_values = {
        "question": "hi",
        "messages": [{"role": "user", "content": "hi"}],
        "run": {"decision": {"kind": "act", "reason": "", "step": 1}, "spent": {"steps": 1}},
    }
    await agent.graph.aupdate_state(config, old_values, as_node="controller")
    with pytest.raises(CheckpointVersionError, match=r"state version 1.*reads version 2"):
        await agent.resume("old")
    # a new question on the same thread continues its conversation
    result = await agent.run("hi again", thread_id="old", budget=Budget(max_steps=3))
    assert result.answer == "Hello again"
    assert [m["content"] for m in result.messages[:2]] == ["hi", "hi again"]
