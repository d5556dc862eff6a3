"""World files load, validate with clear errors, and generate tasks deterministically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentthink.bench.world import World, WorldError, load_world, shipped_worlds
from tests.bench.conftest import SMALL_WORLD


def test_shipped_worlds_load_and_differ() -> None:
    names = shipped_worlds()
    assert {"mostly-easy", "tool-heavy", "mostly-hard"} <= set(names)
    shares = {}
    for name in ("mostly-easy", "tool-heavy", "mostly-hard"):
        world = load_world(name)
        tasks = world.build_tasks(0)
        assert len(tasks) == world.tasks
        assert all(t.question.startswith(f"[task {t.id}] ") for t in tasks)
        shares[name] = (
            sum(t.difficulty == "hard" for t in tasks) / len(tasks),
            sum(t.tool is not None for t in tasks) / len(tasks),
        )
    assert shares["mostly-hard"][0] > 0.4 > shares["mostly-easy"][0]
    assert shares["tool-heavy"][1] > 0.5 > shares["mostly-easy"][1]


def test_tasks_are_deterministic_per_seed(small_world: World) -> None:
    assert small_world.build_tasks(4) == small_world.build_tasks(4)
    assert small_world.build_tasks(4) != small_world.build_tasks(5)
    for task in small_world.build_tasks(4):
        assert task.wanted >= task.need  # this world's model always overthinks
        if task.tool:
            assert task.tool_argument and task.tool_argument in task.question


def test_toml_and_json_files(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps(SMALL_WORLD))
    assert load_world(path).name == "small"
    toml = tmp_path / "w.toml"
    toml.write_text(
        'name = "t"\n[[difficulty]]\nname = "easy"\nshare = 1\nneed = [10, 20]\n'
        'accuracy_without_thinking = 0.5\npeak_accuracy = 0.9\nquestions = ["What is {a}?"]\n'
        '[[task]]\nquestion = "What is 2 + 3?"\nanswer = "5"\ndifficulty = "easy"\n'
    )
    world = load_world(toml)
    tasks = world.build_tasks()
    assert tasks[-1].question == f"[task {len(tasks)}] What is 2 + 3?"
    assert tasks[-1].answer == "5"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"difficulty": []}, "difficulty"),
        ({"model": {"overthinking": [3, 1]}}, "overthinking"),
        ({"model": {"rogue_actions": 1.5}}, "rogue_actions"),
        ({"colour": "blue"}, "colour"),
        ({"tool": [{**SMALL_WORLD["tool"][0], "questions": ["no placeholder"]}]}, "{arg}"),
        ({"tool": [{**SMALL_WORLD["tool"][0], "name": "not valid!"}]}, "identifier"),
        (
            {"task": [{"question": "q", "answer": "1", "difficulty": "impossible"}]},
            "impossible",
        ),
    ],
)
def test_invalid_worlds_say_where_and_why(change: dict[str, Any], message: str) -> None:
    data = {**SMALL_WORLD, **change}
    with pytest.raises(WorldError) as info:
        load_world(data)
    assert message in str(info.value)
    assert "invalid world" in str(info.value)


def test_unreadable_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(WorldError, match="shipped worlds"):
        load_world("no-such-world")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    with pytest.raises(WorldError, match="not valid toml"):
        load_world(bad)
    with pytest.raises(WorldError, match="cannot read"):
        load_world(tmp_path / "missing.toml")


def test_accuracy_rises_levels_off_and_declines(small_world: World) -> None:
    m = small_world.model
    acc = [m.accuracy(t, 100, 0.2, 0.9) for t in (0, 25, 50, 100, 150, 600, 2400)]
    assert acc[0] == pytest.approx(0.2)
    assert acc[0] < acc[1] < acc[2] < acc[3] <= acc[4]
    assert acc[4] > acc[5] > acc[6]  # inverse scaling past the plateau


def test_new_worlds_exercise_what_they_say() -> None:
    from agentthink.signals import question_needs_tool

    plain = load_world("plain-tools")
    names = [t.name for t in plain.tool]
    for seed in (1, 2):
        tool_tasks = [t for t in plain.build_tasks(seed) if t.tool]
        assert len(tool_tasks) > 80
        assert not any(question_needs_tool(t.question, names) for t in tool_tasks)
    assert load_world("hidden-reasoning").model.reasoning == "hidden"
    assert load_world("summarised-reasoning").model.reasoning == "summary"
    cues = load_world("unreliable-cues").model.cues
    assert cues is not None and cues.before > 0 and cues.silent > 0 and cues.onset[1] > 2
    tasks = load_world("distractors").build_tasks(1)
    assert sum(t.distractor is not None for t in tasks) > 50
    assert sum(t.tool_note is not None for t in tasks) > 5
