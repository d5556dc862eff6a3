"""OpenTelemetry spans of a run (the SDK's in-memory exporter): the tree run > steps > calls,
the GenAI attributes and agentthink's own, error status on failures, and tracing left off."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agentthink import Agent, Budget
from agentthink.errors import ConfigurationError, ModelError
from agentthink.testing import ScriptedCall, ScriptedModel, ScriptedTurn
from agentthink.tools import tool
from tests.tracing.support import Spans, attrs, exception_events, in_memory_provider

ROOT = Path(__file__).resolve().parents[2]


@tool
def add(a: int, b: int) -> int:
    """Add two whole numbers.

    Args:
        a: the first number
        b: the second number
    """
    return a + b


@tool
def fail(reason: str) -> str:
    """Always fails.

    Args:
        reason: why
    """
    raise RuntimeError(f"failed: {reason}")


@tool
async def slow(seconds: float) -> str:
    """Sleeps.

    Args:
        seconds: how long
    """
    await asyncio.sleep(seconds)
    return "slept"


Traced = tuple[TracerProvider, InMemorySpanExporter]


@pytest.fixture
def traced() -> Traced:
    return in_memory_provider()


def test_spans_form_the_run_step_call_tree_with_their_attributes(
    traced: Traced,
) -> None:
    provider, exporter = traced
    model = ScriptedModel(
        [
            ScriptedTurn(
                reasoning="add both pairs",
                tool_calls=(
                    ScriptedCall("add", {"a": 1, "b": 2}),
                    ScriptedCall("add", {"a": 3, "b": 4}),
                ),
            ),
            "3 and 7",
        ]
    )
    budget = Budget(max_total_tokens=20_000, max_steps=5)
    agent = Agent(
        model, tools=[add], policy="fixed-low", budget=budget, tracing=provider, name="calculator"
    )
    result = agent.run_sync("1+2 and 3+4?")
    assert result.answer == "3 and 7"
    spans = Spans(exporter.get_finished_spans())

    run = spans.one("invoke_agent")
    assert run.name == "invoke_agent calculator" and run.parent is None
    assert run.kind is SpanKind.INTERNAL and run.status.status_code is StatusCode.UNSET
    assert len({s.context.trace_id for s in spans.all if s.context}) == 1
    steps = spans.children(run)
    assert [s.name for s in steps] == ["step think", "step act", "step answer"]
    assert [attrs(s)["agentthink.step"] for s in steps] == [1, 2, 3]
    think, act, answer = steps
    first = spans.children(think)
    assert [s.name for s in first] == ["chat scripted", "execute_tool add", "execute_tool add"]
    assert [s.name for s in spans.children(act)] == ["chat scripted"]
    assert spans.children(answer) == []

    # the run: GenAI attributes and the run's totals
    r = attrs(run)
    assert r["gen_ai.operation.name"] == "invoke_agent" and r["gen_ai.agent.name"] == "calculator"
    assert r["gen_ai.request.model"] == "scripted"
    assert r["gen_ai.conversation.id"] == result.thread_id
    assert r["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens
    assert r["gen_ai.usage.output_tokens"] == result.usage.completion_tokens
    assert r["agentthink.usage.reasoning_tokens"] == result.usage.reasoning_tokens > 0
    assert r["agentthink.usage.tool_calls"] == 2 and r["agentthink.usage.model_calls"] == 2
    assert r["agentthink.budget"] == "total=20000,steps=5" and r["agentthink.policy"] == "fixed"
    assert r["agentthink.answered"] is True and "agentthink.stopped_by" not in r

    # the steps: the decision, the thinking allotment, what the step spent and what is left
    t = attrs(think)
    assert t["agentthink.decision.kind"] == "think" and t["agentthink.decision.reason"]
    assert t["agentthink.thinking.allotment"] == 1024
    assert "agentthink.decision.overridden.kind" not in t
    chat1, chat2 = spans.named("chat")
    c1, c2 = attrs(chat1), attrs(chat2)
    spent1 = c1["gen_ai.usage.input_tokens"] + c1["gen_ai.usage.output_tokens"]
    spent2 = c2["gen_ai.usage.input_tokens"] + c2["gen_ai.usage.output_tokens"]
    assert t["agentthink.budget.left.total_tokens"] == 20_000 - spent1
    assert t["agentthink.budget.left.steps"] == 4
    assert t["agentthink.usage.reasoning_tokens"] == result.usage.reasoning_tokens
    assert attrs(act)["agentthink.budget.left.total_tokens"] == 20_000 - spent1 - spent2
    assert "agentthink.budget.left.cost_usd" not in t  # no such limit
    assert attrs(answer)["agentthink.decision.kind"] == "answer"

    # the model calls
    assert chat1.kind is SpanKind.CLIENT
    assert c1["gen_ai.operation.name"] == "chat" and c1["gen_ai.response.model"] == "scripted"
    assert c1["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert c2["gen_ai.response.finish_reasons"] == ("stop",)
    assert c1["gen_ai.request.max_tokens"] > 0 and c1["agentthink.thinking.allotment"] == 1024
    assert c2["agentthink.thinking.allotment"] == 0
    assert c1["gen_ai.conversation.id"] == result.thread_id
    assert spent1 + spent2 == result.usage.total_tokens

    # the tool calls: the ids the model gave, run side by side under the step
    ids = [c["id"] for c in result.messages[1]["tool_calls"]]
    tools = spans.named("execute_tool")
    assert sorted(attrs(s)["gen_ai.tool.call.id"] for s in tools) == sorted(ids)
    for span in tools:
        a = attrs(span)
        assert a["gen_ai.operation.name"] == "execute_tool" and a["gen_ai.tool.name"] == "add"
        assert a["gen_ai.tool.type"] == "function" and span.kind is SpanKind.INTERNAL
        assert span.status.status_code is StatusCode.UNSET


def test_a_guard_that_overrides_the_policy_is_recorded_and_a_budget_stop_is_no_error(
    traced: Traced,
) -> None:
    provider, exporter = traced
    long = " ".join(["hmm"] * 400)
    model = ScriptedModel(lambda call: ScriptedTurn(reasoning=long))
    agent = Agent(model, policy="fixed-low", budget=Budget(max_total_tokens=600), tracing=provider)
    result = agent.run_sync("q")
    assert result.stopped_by is not None and result.stopped_by != "error"
    spans = Spans(exporter.get_finished_spans())
    overridden = [
        s for s in spans.named("step") if "agentthink.decision.overridden.kind" in attrs(s)
    ]
    assert overridden, [attrs(s) for s in spans.named("step")]
    o = attrs(overridden[0])
    # fixed-low thinks, then acts on its cut reasoning: either is overridden by the budget
    assert o["agentthink.decision.overridden.kind"] in ("think", "act")
    assert o["agentthink.decision.kind"] in ("answer", "stop")
    assert o["agentthink.decision.overridden.reason"] and o["agentthink.decision.reason"]
    run = spans.one("invoke_agent")
    assert attrs(run)["agentthink.stopped_by"] == result.stopped_by
    assert attrs(run)["agentthink.answered"] is False
    assert run.status.status_code is StatusCode.UNSET  # a budget stop is not an error


def test_failed_model_calls_are_error_spans_and_the_run_that_stopped_is_too(
    traced: Traced,
) -> None:
    provider, exporter = traced
    boom = ModelError("upstream said 500", model="scripted", status_code=500)
    model = ScriptedModel([ScriptedTurn(error=boom)] * 3)
    result = Agent(model, policy="never", tracing=provider).run_sync("q")
    assert result.stopped_by == "error"
    spans = Spans(exporter.get_finished_spans())
    chats = spans.named("chat")
    assert len(chats) == 3
    for chat in chats:
        assert chat.status.status_code is StatusCode.ERROR
        assert attrs(chat)["error.type"] == "ModelError"
        [event] = exception_events(chat)
        assert event["exception.type"].endswith("ModelError")
        assert "upstream said 500" in event["exception.message"]
        assert "gen_ai.response.model" not in attrs(chat)
    stop = spans.named("step")[-1]
    assert stop.name == "step stop" and attrs(stop)["agentthink.decision.stopped_by"] == "error"
    run = spans.one("invoke_agent")
    assert run.status.status_code is StatusCode.ERROR
    assert "upstream said 500" in (run.status.description or "")
    assert (
        attrs(run)["error.type"] == "run_error" and attrs(run)["agentthink.stopped_by"] == "error"
    )


def test_tool_errors_mark_their_spans(traced: Traced) -> None:
    provider, exporter = traced
    model = ScriptedModel(
        [
            ScriptedTurn(
                tool_calls=(ScriptedCall("fail", {"reason": "disk full"}), ScriptedCall("nosuch"))
            ),
            ScriptedTurn.calling("add", a=1, b=2),
            ScriptedTurn.calling("add", a=1, b=2),  # the same call again: blocked
            "done",
        ]
    )
    agent = Agent(
        model, tools=[fail, add], policy="never", max_repeated_tool_calls=1, tracing=provider
    )
    result = agent.run_sync("q")
    assert result.answer == "done"
    spans = Spans(exporter.get_finished_spans())
    by_name = {s.name: s for s in spans.named("execute_tool")}
    failed, unknown = by_name["execute_tool fail"], by_name["execute_tool nosuch"]
    assert failed.status.status_code is StatusCode.ERROR
    assert attrs(failed)["error.type"] == "RuntimeError"
    assert attrs(failed)["agentthink.tool.error_kind"] == "exception"
    [event] = exception_events(failed)
    assert event["exception.message"] == "failed: disk full"
    assert "disk full" in (failed.status.description or "")
    assert unknown.status.status_code is StatusCode.ERROR
    assert attrs(unknown)["error.type"] == "unknown_tool" and exception_events(unknown) == []
    ran, blocked = spans.named("execute_tool add")
    assert ran.status.status_code is StatusCode.UNSET
    assert blocked.status.status_code is StatusCode.ERROR
    assert attrs(blocked)["error.type"] == "denied"
    parent = spans.parent_of(blocked)
    assert parent is not None and parent.name == "step act"
    assert spans.one("invoke_agent").status.status_code is StatusCode.UNSET


def test_an_exception_escaping_the_run_is_recorded_on_it(
    traced: Traced,
) -> None:
    provider, exporter = traced
    model = ScriptedModel([ScriptedTurn(error=ConfigurationError("no such deployment"))])
    with pytest.raises(ConfigurationError):
        Agent(model, policy="never", tracing=provider).run_sync("q")
    spans = Spans(exporter.get_finished_spans())
    run, chat = spans.one("invoke_agent"), spans.one("chat")
    for span in (run, chat):
        assert span.status.status_code is StatusCode.ERROR
        assert attrs(span)["error.type"] == "ConfigurationError"
        assert exception_events(span)[0]["exception.message"] == "no such deployment"
    assert spans.one("step act").end_time is not None  # every span was ended


async def test_the_run_span_continues_the_callers_trace_in_run_and_stream(
    traced: Traced,
) -> None:
    provider, exporter = traced
    tracer = provider.get_tracer("app")
    agent = Agent(ScriptedModel(["one", "two"]), policy="never", tracing=provider)
    with tracer.start_as_current_span("request"):
        await agent.run("q1")
        events = [e async for e in agent.stream("q2")]
    assert events
    spans = Spans(exporter.get_finished_spans())
    request = spans.one("request")
    runs = spans.named("invoke_agent")
    assert len(runs) == 2 and all(spans.parent_of(r) is request for r in runs)


async def test_a_cancelled_run_and_its_resumption(traced: Traced) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    from agentthink.tools.journal import MemoryToolJournal

    provider, exporter = traced
    both = ScriptedTurn(
        tool_calls=(ScriptedCall("add", {"a": 1, "b": 2}), ScriptedCall("slow", {"seconds": 30.0}))
    )
    model = ScriptedModel([both, "resumed answer"])
    agent = Agent(
        model,
        tools=[add, slow],
        policy="never",
        checkpointer=InMemorySaver(),
        tool_timeout=0.5,
        tracing=provider,
    )
    journal = MemoryToolJournal()
    task = asyncio.create_task(agent.run("wait", thread_id="t-1", journal=journal))
    while not journal.results:  # noqa: ASYNC110 - polling a dict the journal fills
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    result = await agent.resume("t-1", journal=journal)
    assert result.answer == "resumed answer"
    spans = Spans(exporter.get_finished_spans())
    first, second = spans.named("invoke_agent")
    assert attrs(first)["error.type"] == "cancelled" and attrs(first)["agentthink.resumed"] is False
    ran, cancelled = spans.children(spans.children(first)[0])[1:]
    assert ran.name == "execute_tool add" and ran.status.status_code is StatusCode.UNSET
    assert cancelled.name == "execute_tool slow" and attrs(cancelled)["error.type"] == "cancelled"
    assert attrs(second)["agentthink.resumed"] is True
    assert attrs(second)["gen_ai.conversation.id"] == "t-1"
    resumed_step = spans.children(second)[0]
    assert resumed_step.name == "step act" and attrs(resumed_step)["agentthink.step"] == 1
    recalled, timed_out = spans.children(resumed_step)[:2]
    assert recalled.name == "execute_tool add" and attrs(recalled)["agentthink.tool.recalled"]
    assert timed_out.name == "execute_tool slow" and attrs(timed_out)["error.type"] == "timeout"
    assert "agentthink.tool.recalled" not in attrs(timed_out)
    assert second.status.status_code is StatusCode.UNSET


def test_tracing_is_off_unless_asked_and_imports_nothing_then() -> None:
    code = (
        "import sys\n"
        "from agentthink import Agent\n"
        "from agentthink.testing import ScriptedModel\n"
        "agent = Agent(ScriptedModel(['hi']), policy='never')\n"
        "assert agent.run_sync('q').answer == 'hi'\n"
        "print(agent.tracing, 'agentthink.tracing' in sys.modules)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # (langsmith, under langgraph, imports the OpenTelemetry SDK by itself when it is installed)
    assert done.stdout.split() == ["None", "False"]


def test_the_environment_variable_and_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentthink.tracing import OtelTracing

    model = ScriptedModel(["hi"])
    monkeypatch.setenv("AGENTTHINK_OTEL", "1")
    assert isinstance(Agent(model).tracing, OtelTracing)
    assert Agent(model, tracing=False).tracing is None
    monkeypatch.setenv("AGENTTHINK_OTEL", "0")
    assert Agent(model).tracing is None
    assert isinstance(Agent(model, tracing=True).tracing, OtelTracing)
    monkeypatch.setenv("AGENTTHINK_OTEL", "sometimes")
    with pytest.raises(ConfigurationError, match="AGENTTHINK_OTEL='sometimes': use 1"):
        Agent(model)
    monkeypatch.delenv("AGENTTHINK_OTEL")
    with pytest.raises(ConfigurationError, match="TracerProvider"):
        Agent(model, tracing="yes")  # type: ignore[arg-type]
