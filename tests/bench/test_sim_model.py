"""The simulated model, behaviour by behaviour: version-1 worlds unchanged, and what a
version-2 world adds (samples, correlated errors, cues, hidden and summarised reasoning, the
judge, slips, continuation with a prefix and "Wait", distractors and their rewrite)."""

from __future__ import annotations

import copy
import hashlib
import statistics
from collections import Counter
from typing import Any

from agentthink.bench.sim_model import Reply, SimModel
from agentthink.bench.sim_text import productive, slip, slips_in
from agentthink.bench.world import Task, World, answer_matches, load_world, shipped_worlds
from agentthink.signals import hedging_cues
from agentthink.verifiers import ModelJudge

V2: dict[str, Any] = {
    "version": 2,
    "name": "v2",
    "seed": 5,
    "tasks": 40,
    "model": {
        "overthinking": [1.0, 3.0],
        "analysis_paralysis": 0.0,
        "rogue_actions": 0.0,
        "premature_disengagement": 0.0,
    },
    "difficulty": [
        {
            "name": "hard",
            "share": 1.0,
            "need": [100, 300],
            "accuracy_without_thinking": 0.3,
            "peak_accuracy": 0.9,
            "questions": ["Prove that {a} works."],
        }
    ],
    "tool": [
        {
            "name": "lookup",
            "description": "Look up a record.",
            "parameter": "id",
            "share": 0.3,
            "arguments": ["REC"],
            "questions": ["What does record {arg} hold?"],
            "result": "{arg} = {value}",
        }
    ],
}
OFF = {"chat_template_kwargs": {"enable_thinking": False}}


def v2(model: dict[str, Any] | None = None, **top: Any) -> World:
    data = copy.deepcopy(V2)
    data["model"].update(model or {})
    data.update(top)
    return load_world(data)


def ask(task: Task, *extra: dict[str, Any], **body: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": task.question}, *extra]
    return {"model": "m", "messages": messages, **body}


def answer_of(reply: Reply) -> str:
    return "".join(reply.text).rsplit("the answer is ", 1)[-1].rstrip(".")


def plain(model: SimModel) -> list[Task]:
    return [t for t in model.tasks.values() if not t.tool]


# --- version 1 ------------------------------------------------------------------------------


def test_version_1_worlds_are_unchanged() -> None:
    for name in ("mostly-easy", "mostly-hard", "tool-heavy", "misbehaving"):
        assert load_world(name).legacy, name
    world = load_world("mostly-hard")
    model = SimModel(world, seed=1)
    digest = hashlib.sha256()
    for task in list(model.tasks.values())[:6]:
        tools = [t.tool_schema() for t in world.tool]
        for body in (
            ask(task, max_tokens=3000),
            ask(task, tools=tools, **OFF),
            ask(task, reasoning_effort="low", thinking_token_budget=300, max_tokens=900),
        ):
            r = model.reply(body, "k")
            digest.update(repr((r.reasoning, r.text, r.truncated, r.patterns)).encode())
            assert r.shown is None and not r.reports_reasoning
    # the replies of the simulated model before version 2 existed
    assert digest.hexdigest()[:16] == "8376f089570b5533"


def test_version_2_defaults_and_opting_in() -> None:
    world = v2()
    assert not world.legacy and world.has_traits
    assert world.model.task_spread == 1.0 and world.model.cues is not None
    assert v2({"task_spread": 0.2, "cues": {"silent": 1.0}}).model.task_spread == 0.2
    old = copy.deepcopy(V2)
    del old["version"]
    assert load_world(old).legacy
    old["model"]["native_cap"] = True
    assert load_world(old).legacy  # changes nothing a version-1 request sees
    old["model"]["task_spread"] = 0.5
    assert not load_world(old).legacy
    assert {"hidden-reasoning", "plain-tools"} <= set(shipped_worlds())


# --- samples and correlated errors ------------------------------------------------------------


def test_identical_requests_are_independent_reproducible_samples() -> None:
    world = v2()
    model, again = SimModel(world, seed=1), SimModel(world, seed=1)
    task = plain(model)[0]
    body = ask(task, **OFF)
    first = [answer_of(model.reply(body, "run-a")) for _ in range(20)]
    assert len(set(first)) > 1  # samples differ
    assert [answer_of(again.reply(body, "run-a")) for _ in range(20)] == first
    assert answer_of(model.reply(body, "run-b")) == first[0]  # another run: its own samples
    assert {answer_of(model.reply({**body, "temperature": 0}, "t")) for _ in range(5)} == {first[0]}
    assert answer_of(model.reply({**body, "seed": 7}, "s")) == first[7]
    legacy = SimModel(load_world("mostly-easy"), seed=1)
    old = ask(next(iter(legacy.tasks.values())), **OFF)
    assert len({answer_of(legacy.reply(old, "x")) for _ in range(5)}) == 1


def _votes(world: World, samples: int = 9) -> tuple[float, float, list[float]]:
    model = SimModel(world, seed=2)
    single, voted, per_task = [], [], []
    for task in plain(model):
        answers = [answer_of(model.reply(ask(task, **OFF), "k")) for _ in range(samples)]
        right = [a == task.answer for a in answers]
        single.extend(right)
        per_task.append(sum(right) / samples)
        voted.append(Counter(answers).most_common(1)[0][0] == task.answer)
    return statistics.fmean(single), statistics.fmean(voted), per_task


def test_per_task_correlated_errors_keep_voting_honest() -> None:
    free_single, free_vote, _ = _votes(v2({"task_spread": 0.0, "wrong_agreement": 0.0}))
    tied_single, tied_vote, per_task = _votes(v2({"task_spread": 2.0, "wrong_agreement": 0.9}))
    assert free_vote > free_single + 0.3  # independent, scattered errors: voting fixes them
    assert tied_vote < tied_single + 0.15  # correlated errors: it barely helps
    assert min(per_task) <= 0.15 and max(per_task) >= 0.85  # some tasks right, some never


# --- cues ---------------------------------------------------------------------------------------


def _halves(world: World) -> tuple[float, float]:
    """Hedging cues per 100 words in the first and last 45% of a long reasoning."""
    model = SimModel(world, seed=1)
    early, late = [], []
    for task in plain(model)[:8]:
        text = "".join(model.reply(ask(task), "k").reasoning)
        cut = int(len(text) * 0.45)  # tokens and characters go roughly together
        early.append(hedging_cues(text[:cut])[1])
        late.append(hedging_cues(text[-cut:])[1])
    return statistics.fmean(early), statistics.fmean(late)


def test_cue_onset_false_alarms_and_silence() -> None:
    base = {"overthinking": [4.0, 4.0]}
    cues = {"onset": [2.0, 2.0], "before": 0.0, "after": 0.6, "loops": 0.2, "silent": 0.0}
    early, late = _halves(v2({**base, "cues": cues}))
    assert early == 0 < late  # a cue only past the onset (half-way here)
    early, _ = _halves(v2({**base, "cues": {**cues, "before": 0.5}}))
    assert early > 2.0  # false alarms before the onset
    early, late = _halves(v2({**base, "cues": {**cues, "silent": 1.0}}))
    assert early == late == 0  # silence


# --- hidden and summarised reasoning ------------------------------------------------------------


def test_hidden_and_summarised_reasoning() -> None:
    raw = SimModel(v2(), seed=1)
    task = plain(raw)[0]
    shown_raw = raw.reply(ask(task), "k")
    hidden = SimModel(v2({"reasoning": "hidden"}), seed=1).reply(ask(task), "k")
    assert hidden.reasoning and hidden.shown_reasoning() == "" and hidden.reports_reasoning
    assert hidden.completion_tokens == shown_raw.completion_tokens
    summary = SimModel(v2({"reasoning": "summary", "summary_every": 50}), seed=1)
    said = summary.reply(ask(task), "k")
    text = said.shown_reasoning()
    assert text and "Step" not in text and said.reports_reasoning
    assert text.count(".") == -(-len(said.reasoning) // 50)  # one sentence per stretch
    assert len(text) < len("".join(said.reasoning)) / 3


# --- the judge ----------------------------------------------------------------------------------


def _pass_rate(model: SimModel, answers: dict[int, str]) -> float:
    judge = ModelJudge(model=None)  # type: ignore[arg-type]  # only its prompt is used
    verdicts = []
    for task in plain(model):
        for _ in range(4):
            messages = judge.messages(task.question, f"the answer is {answers[task.id]}.")
            text = "".join(model.reply({"model": "m", "messages": messages, **OFF}, "j").text)
            assert text.startswith(("PASS\n", "FAIL\n"))
            verdicts.append(text.startswith("PASS"))
    return statistics.fmean(verdicts)


def test_judge_has_its_own_accuracy() -> None:
    judge = {"false_accept": 0.2, "false_reject": 0.1, "trap_accept": 0.6}
    model = SimModel(v2(judge=judge), seed=1)
    tasks = plain(model)
    right = _pass_rate(model, {t.id: t.answer for t in tasks})
    trap = _pass_rate(model, {t.id: t.trap for t in tasks})
    wrong = _pass_rate(model, {t.id: str(int(t.answer) * 3 + 1) for t in tasks})
    assert abs(right - 0.9) < 0.08 and abs(trap - 0.6) < 0.1 and abs(wrong - 0.2) < 0.08
    task = tasks[0]
    scored = model.reply(
        ask(
            task, {"role": "user", "content": f"Score 0 to 1. Answer: the answer is {task.answer}."}
        ),
        "j",
    )
    assert "".join(scored.text).startswith("Score: ")


def test_process_judge_sees_slips() -> None:
    model = SimModel(v2(judge={"false_accept": 0.1, "false_reject": 0.1}), seed=1)
    judge = ModelJudge(model=None)  # type: ignore[arg-type]  # only its prompt is used
    good, bad = [], []
    for task in plain(model):
        steps = [productive(task.id, k) for k in range(4)]
        slipped = [*steps[:2], slip(task.id, 2, 1), steps[3]]
        for chosen, into in ((steps, good), (slipped, bad)):
            messages = judge.messages(task.question, " ".join(chosen))
            text = "".join(model.reply({"model": "m", "messages": messages, **OFF}, "j").text)
            into.append(text.startswith("PASS"))
    assert statistics.fmean(good) > 0.75 > 0.25 > statistics.fmean(bad)


# --- slips --------------------------------------------------------------------------------------


def test_slips_are_made_and_cost_accuracy() -> None:
    sloppy = SimModel(v2({"slip_rate": 0.5}), seed=1)
    task = plain(sloppy)[0]
    assert slips_in(task.id, "".join(sloppy.reply(ask(task), "k").reasoning)) > 0
    careful = SimModel(v2({"slip_rate": 0.0}), seed=1)
    assert slips_in(task.id, "".join(careful.reply(ask(task), "k").reasoning)) == 0
    costly = SimModel(v2({"slip_cost": 0.3, "task_spread": 0.0}), seed=1)
    rates = []
    for make in (productive, lambda tid, k: slip(tid, k, 9)):
        right = []
        for t in plain(costly):
            carried = " ".join(make(t.id, k) for k in range(3))
            body = ask(t, {"role": "user", "content": carried}, **OFF)
            right += [answer_of(costly.reply(body, "k")) == t.answer for _ in range(5)]
        rates.append(statistics.fmean(right))
    assert rates[0] > rates[1] + 0.2


# --- continuation with a prefix and "Wait" ------------------------------------------------------


def _continue(model: SimModel, task: Task, prefix: str, **body: Any) -> Reply:
    partial = {"role": "assistant", "content": prefix}
    return model.reply(ask(task, partial, continue_final_message=True, **body), "k")


def test_continuation_goes_on_from_the_prefix() -> None:
    model = SimModel(v2({"cues": {"silent": 1.0}, "slip_rate": 0.0}), seed=1)
    task = plain(model)[0]
    prefix = "<think>" + " ".join(productive(task.id, k) for k in range(3))
    step = _continue(model, task, prefix, max_tokens=40)  # one bounded step
    assert step.truncated and not step.text
    assert "".join(step.reasoning).startswith(" Step 4:")
    whole = _continue(model, task, prefix)
    assert whole.text and "answer is" in "".join(whole.text)
    told = model.tok.count(prefix[len("<think>") :])
    assert abs(len(whole.reasoning) - (task.wanted - told)) < 40  # the rest of what it wants
    forced = _continue(model, task, prefix + "</think>\n\nFinal answer:")
    assert not forced.reasoning and "".join(forced.text).strip().isdigit()


def test_wait_extends_thinking_that_was_done() -> None:
    model = SimModel(v2({"wait_extension": [0.5, 0.5]}), seed=1)
    task = plain(model)[0]
    done = "<think>" + " ".join(productive(task.id, k) for k in range(400))
    assert not _continue(model, task, done).reasoning  # finished: it answers at once
    waited = _continue(model, task, done + " Wait")
    assert "wait" in waited.patterns
    assert abs(len(waited.reasoning) - task.need * 0.5) < 40


def test_more_thinking_helps_up_to_a_point_then_hurts() -> None:
    model = SimModel(v2({"task_spread": 0.0, "decline_per_doubling": 0.25}), seed=1)
    rates = []
    for ratio in (0.25, 1.5, 16.0):
        right = []
        for t in plain(model):
            sentences = max(1, round(ratio * t.need / 27))
            prefix = "<think>" + " ".join(productive(t.id, k) for k in range(sentences))
            forced = prefix + "</think>\n\nFinal answer:"
            right += [
                answer_matches("".join(_continue(model, t, forced).text), t.answer)
                for _ in range(3)
            ]
        rates.append(statistics.fmean(right))
    assert rates[1] > rates[0] + 0.2 and rates[1] > rates[2] + 0.2


# --- distractors --------------------------------------------------------------------------------


def _rate(model: SimModel, question: dict[int, str], want: str = "answer") -> float:
    hits = []
    for t in plain(model):
        body = {"model": "m", "messages": [{"role": "user", "content": question[t.id]}], **OFF}
        for _ in range(3):
            said = answer_of(model.reply(body, "k"))
            hits.append(said == (t.answer if want == "answer" else t.hint))
    return statistics.fmean(hits)


def _rewritten(model: SimModel) -> dict[int, str]:
    out = {}
    for t in plain(model):
        request = "Rewrite the text below, keeping only the relevant, unbiased part:\n" + t.question
        reply = model.reply(
            {"model": "m", "messages": [{"role": "user", "content": request}], **OFF}, "r"
        )
        out[t.id] = "".join(reply.text)
        assert "rewrite" in reply.patterns and out[t.id].startswith(f"[task {t.id}] ")
    return out


def test_leading_distractors_pull_until_rewritten() -> None:
    world = v2(
        {"task_spread": 0.0},
        distractors={"share": 1.0, "irrelevant": [], "pull": 0.7, "rewrite_keeps": 0.0},
    )
    model = SimModel(world, seed=1)
    tasks = plain(model)
    assert all(t.hint and t.hint in t.question for t in tasks)
    original = {t.id: t.question for t in tasks}
    clean = _rewritten(model)
    assert all(model.tasks[i].distractor not in q for i, q in clean.items())
    assert _rate(model, original, "hint") > 0.6 > _rate(model, clean, "hint")
    assert _rate(model, clean) > _rate(model, original) + 0.15


def test_irrelevant_text_costs_accuracy_and_tool_notes_pull() -> None:
    world = v2(
        {"task_spread": 0.0},
        distractors={"share": 1.0, "leading": [], "noise": 0.4, "tool_share": 1.0, "pull": 0.9},
    )
    model = SimModel(world, seed=1)
    assert (
        _rate(model, _rewritten(model))
        > _rate(model, {t.id: t.question for t in plain(model)}) + 0.1
    )
    task = next(t for t in model.tasks.values() if t.tool)
    spec = world.tool[0]
    result = task.tool_result(spec.result)
    assert task.tool_note and result.startswith(task.tool_fact(spec.result) + " ")
    call = {"id": "c", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    turns = [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c", "content": result},
    ]
    said = [answer_of(model.reply(ask(task, *turns, **OFF), "k")) for _ in range(10)]
    assert said.count(task.hint or "") >= 6  # the injected note wins most of the time


def test_the_tools_result_in_context_answers_a_tool_task() -> None:
    model = SimModel(v2({"result_accuracy": 0.95}), seed=1)
    spec = model.world.tool[0]
    call = {"id": "c", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    right = []
    for task in (t for t in model.tasks.values() if t.tool):
        turns = [
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c", "content": task.tool_result(spec.result)},
        ]
        right += [answer_of(model.reply(ask(task, *turns, **OFF), "k")) == task.answer]
    assert statistics.fmean(right) > 0.85  # whatever thinking there was


def test_a_continuation_cannot_answer_a_lookup_without_its_result() -> None:
    model = SimModel(v2({"guess_accuracy": 0.0}), seed=1)
    lookups = [t for t in model.tasks.values() if t.tool]
    assert lookups
    for t in lookups:
        forced = "<think>" + productive(t.id, 0) + "</think>\n\nFinal answer:"
        assert not answer_matches("".join(_continue(model, t, forced).text), t.answer)
        spec = model.world.tool_spec(t.tool or "")
        assert spec is not None
        result = {"role": "tool", "tool_call_id": "c1", "content": t.tool_result(spec.result)}
        call = {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": t.tool}}],
        }
        body = ask(t, call, result, {"role": "assistant", "content": forced})
        reply = model.reply({**body, "continue_final_message": True}, "k")
        assert reply.text  # with the result in context it answers from it
