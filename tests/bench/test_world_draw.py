"""Drawn worlds (``drawn-N``): valid for every N, the same for the same N, a lab runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentthink.bench.world import WorldError, load_world, shipped_worlds
from agentthink.bench.world_draw import draw_world, drawn_number
from tests.bench.conftest import run_lab_cli


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=999_999_999))
def test_every_drawn_world_validates_and_builds_its_tasks(n: int) -> None:
    world = load_world(f"drawn-{n}")
    assert world.name == f"drawn-{n}" and world.version == 2
    tasks = world.build_tasks(1)
    assert len(tasks) == 200
    assert sum(t.share for t in world.tool) <= 1.0
    for task in tasks:
        if task.tool:
            assert task.tool_argument and task.tool_argument in task.question


def test_the_same_number_draws_the_same_world_and_others_differ() -> None:
    assert draw_world(7) == draw_world(7)
    worlds = [draw_world(n) for n in range(12)]
    assert len({repr(w["model"]) for w in worlds}) == 12
    assert {w["model"]["reasoning"] for w in worlds} == {"raw", "hidden", "summary"}
    assert any("distractors" in w for w in worlds) and any("distractors" not in w for w in worlds)


def test_drawn_questions_are_none_of_the_shipped_ones() -> None:
    shipped = set()
    for path in shipped_worlds().values():
        world = load_world(path)
        shipped |= {q for d in world.difficulty for q in d.questions}
        shipped |= {q for t in world.tool for q in t.questions}
    drawn = load_world("drawn-3")
    assert not shipped & {q for d in drawn.difficulty for q in d.questions}
    assert not shipped & {q for t in drawn.tool for q in t.questions}


def test_names_files_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert drawn_number("drawn-12") == 12
    assert drawn_number("drawn-") is None and drawn_number("mostly-easy") is None
    with pytest.raises(WorldError, match="drawn-N"):
        load_world("drawn-x")
    # a file of that name is the file
    monkeypatch.chdir(tmp_path)
    (tmp_path / "drawn-5").write_text(
        'name = "mine"\n[[difficulty]]\nname = "a"\nshare = 1\n'
        "need = [10, 20]\naccuracy_without_thinking = 0.5\n"
        'peak_accuracy = 0.9\nquestions = ["What is {a}?"]\n'
    )
    assert load_world("drawn-5").name == "mine"


def test_a_lab_run_on_a_drawn_world(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = run_lab_cli("drawn-2", "fixed-high,compute-optimal", tmp_path, capsys)
    assert code == 0
    assert "world drawn-2, 6 tasks" in out and "compute-optimal" in out
