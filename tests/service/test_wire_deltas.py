"""Streamed pieces on the wire: a tool call being written is a ``tool_call_delta`` event, and the
event store merges consecutive pieces of one call (as it merges text) but never two calls."""

from __future__ import annotations

from typing import Any, cast

from agentthink.events import AnswerDelta, ToolCallWriting
from agentthink.service.executor import EventSink
from agentthink.service.store import RunStore
from agentthink.service.wire import event_to_wire


class _Store:
    """Records the batches an ``EventSink`` writes."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, dict[str, Any]]]] = []

    async def append_events(self, run_id: str, batch: list[tuple[str, dict[str, Any]]]) -> None:
        self.batches.append(batch)


def test_a_written_call_is_a_tool_call_delta() -> None:
    assert event_to_wire(ToolCallWriting(2, 0, "calculator", '{"a')) == (
        "tool_call_delta",
        {"step": 2, "index": 0, "name": "calculator", "arguments": '{"a'},
    )


async def test_pieces_of_one_call_merge_and_calls_stay_apart() -> None:
    store = _Store()
    sink = EventSink(cast(RunStore, store), "run-1", interval=3600)
    events = [
        ToolCallWriting(1, 0, "calculator", ""),
        ToolCallWriting(1, 0, None, '{"expression": "2'),
        ToolCallWriting(1, 0, None, ' + 2"'),
        ToolCallWriting(1, 1, "is_prime", '{"n": 9'),
        ToolCallWriting(1, 1, None, "7"),
        ToolCallWriting(1, 0, "calculator", "{"),  # the same index, a new call: a new name
        AnswerDelta("The", 2),
        AnswerDelta(" answer", 2),
    ]
    for event in events:
        sink.add(*event_to_wire(event))
    await sink.flush()
    [batch] = store.batches
    assert batch == [
        ("tool_call_delta", {"step": 1, "index": 0, "name": "calculator",
                             "arguments": '{"expression": "2 + 2"'}),
        ("tool_call_delta", {"step": 1, "index": 1, "name": "is_prime", "arguments": '{"n": 97'}),
        ("tool_call_delta", {"step": 1, "index": 0, "name": "calculator", "arguments": "{"}),
        ("answer", {"text": "The answer", "step": 2}),
    ]  # fmt: skip
    assert events[1] == ToolCallWriting(1, 0, None, '{"expression": "2')  # events untouched
