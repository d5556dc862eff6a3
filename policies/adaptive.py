"""The default policy: thinking allocated by difficulty and budget, cut by overthinking signals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from agentthink.context import StepContext
from agentthink.decisions import Act, Answer, Decision, Think
from agentthink.errors import InvalidBudgetError
from agentthink.policies.base import budget_guard, think_or_act, thinking_room
from agentthink.policies.difficulty import difficulty_label, estimate_difficulty
from agentthink.signals import StepRecord
from agentthink.watch import stop_counts

__all__ = ["AdaptivePolicy"]


@dataclass(frozen=True, slots=True)
class AdaptivePolicy:
    """Budget- and difficulty-aware thinking that reacts to overthinking signals.

    Rules, in order (the first that applies decides):

    1. ``budget_guard``: stop when nothing is left, answer when only the answer fits.
    2. The latest step proposed an answer:
       answer when it is the same answer ``stable_answers`` times in a row (answer stability:
       more thinking stops paying); if the verifier did not reject it, act when it came without
       any tool though tools exist and the question seems to need one (premature disengagement,
       arXiv 2502.08235; up to ``premature_checks`` answers; the question's wording or the
       answer itself saying it could not check or is guessing tells that a tool was needed);
       take a second look when the answer came from thinking its allotment ended (the
       reasoning tokens reached the allotment: the model had not finished, as with a native cap
       or a provider's thinking budget): think again at ``escalation`` times the allotment,
       until an answer comes before its cap, repeats the previous one, or the maximum is
       reached; else answer. If rejected ``max_rejections`` times, answer with the best so far;
       otherwise go on (rejections raise the difficulty).
    3. The same tool call (name and arguments) made ``max_tool_repeats`` times: answer (a loop).
    4. ``paralysis_tokens`` thinking tokens since the last action while a tool is available:
       act (analysis paralysis, arXiv 2502.08235: agents that act more do better).
    5. The latest reasoning repeats an earlier segment (``repetition_threshold``): answer.
    6. Many hedging cues ("wait", "hmm", "actually", ...): low confidence that more thinking will
       not fix (inverse scaling, arXiv 2507.14417): act when a tool can check, else answer.
       A thinking step that was cut at its allotment and already hedges or repeats itself is
       followed by acting, thinking off (s1 budget forcing, arXiv 2501.19393), not more thinking.
    7. A thinking step the watch stopped early (its reasoning began to hedge or loop, past what
       the question needs: early exit, DEER arXiv 2504.15895) is followed by acting on it, unless
       the stop rests on hedging alone (no sentence repeated): hedging is also how productive
       re-checking reads, and models hedge early on some questions, so the thinking resumes,
       watched, up to ``second_looks`` times (a loop stops it for good).
    8. Think at a budget set by difficulty (arXiv 2408.03314): geometric between a minimum
       (easy-looking questions, TALE arXiv 2412.18547, "2+3" arXiv 2412.21187) and a maximum
       (hard ones, or after failures), never more than half the thinking room left (all of it
       on the last step before the answer). Each thinking step is watched (``watch``) when the
       model streams its reasoning: the watch, not the allotment, then ends the thinking, so
       the allotments are generous (``watched_min_budget`` .. ``watched_max_budget``) and an
       easy-looking question that is hard is not cut short; unwatched, they are ``min_budget``
       .. ``max_budget``. An allotment spent while the reasoning was still productive makes the
       next ``growth`` times larger. After successful tool results think briefly (a quarter, at
       least the minimum; easy questions just act). After a failed tool call think before acting
       again rather than fire more calls (rogue actions). Models without native reasoning act
       instead of thinking.
    """

    min_budget: int = 256
    """Unwatched thinking tokens for the easiest questions; less than half of it left means act."""
    max_budget: int = 8192
    """Unwatched thinking tokens for the hardest questions."""
    watched_min_budget: int = 1024
    """Watched thinking tokens for the easiest questions (the watch usually ends it sooner)."""
    watched_max_budget: int = 16384
    """Watched thinking tokens for the hardest questions."""
    paralysis_tokens: int = 4096
    """Thinking tokens since the last action that count as analysis paralysis."""
    repetition_threshold: float = 0.6
    """Share of the latest reasoning's 3-grams found in an earlier segment that counts as a loop."""
    hedging_min_cues: int = 3
    hedging_rate: float = 2.5
    """Hedging cues per 100 words (with at least ``hedging_min_cues``) that mean low confidence."""
    stable_answers: int = 2
    """The same answer this many times in a row is final."""
    max_tool_repeats: int = 3
    """The same tool call this many times is a loop."""
    max_rejections: int = 3
    """After this many verifier rejections, answer with the best so far."""
    premature_checks: int = 2
    """Answers proposed without any tool (though the question seems to need one) that are sent
    back to act, before such an answer is accepted."""
    watch: bool = True
    """Watch thinking steps: stop one early when its reasoning starts to hedge or repeat itself
    (the agent's ``ThinkingWatch``), then act on it. Needs a model that streams its reasoning."""
    growth: int = 2
    """After each allotment spent while the reasoning was still productive, the next is this
    many times larger (up to the maximum)."""
    second_looks: int = 1
    """Times the thinking resumes after a watch stop that rests on hedging alone."""
    escalation: int = 4
    """After an answer whose thinking reached its allotment, think again at this many times it."""
    cap_looks: int = 2
    """Second looks after answers whose thinking reached its allotment, at most."""
    cap_hit: float = 0.9
    """Reasoning tokens at this share of the allotment or more: the allotment ended it."""
    name: ClassVar[str] = "adaptive"

    def __post_init__(self) -> None:
        for low, high in (
            ("min_budget", "max_budget"),
            ("watched_min_budget", "watched_max_budget"),
        ):
            if not 1 <= getattr(self, low) <= getattr(self, high):
                raise InvalidBudgetError(
                    f"AdaptivePolicy needs 1 <= {low} <= {high}, got {getattr(self, low)} "
                    f"and {getattr(self, high)}"
                )
        for name in (
            "stable_answers",
            "max_tool_repeats",
            "max_rejections",
            "paralysis_tokens",
            "growth",
            "escalation",
            "cap_looks",
        ):
            if getattr(self, name) < 1:
                raise InvalidBudgetError(f"AdaptivePolicy {name} must be >= 1")
        if self.premature_checks < 0 or self.second_looks < 0:
            raise InvalidBudgetError(
                "AdaptivePolicy premature_checks and second_looks must be >= 0"
            )
        if not 0 < self.cap_hit <= 1:
            raise InvalidBudgetError("AdaptivePolicy cap_hit must be in (0, 1]")

    def decide(self, ctx: StepContext) -> Decision:
        """Apply the rules above."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        early = self._signal_rules(ctx)
        if early is not None:
            return early
        signals, last = ctx.signals, ctx.last_step
        failures = signals.tool_errors + ctx.verifier_rejections + signals.rogue_actions
        difficulty = estimate_difficulty(ctx.question, failures=failures)
        label = difficulty_label(difficulty)
        watched = self.watch and ctx.capabilities.shows_reasoning
        low, high = self.budget_range(watched=watched)
        budget = self.allocate(difficulty, watched=watched)
        reason = f"{label} question (difficulty {difficulty:.2f})"
        if not ctx.capabilities.reasons_natively:
            return Act(f"{reason}; the model has no native thinking")
        if last is not None and last.thinking_stopped is not None:
            resumed = self._resume(ctx, budget, reason, watched)
            if resumed is not None:
                return resumed
            # early exit (DEER, arXiv 2504.15895): the watch stopped the thinking where it began
            # to hedge or loop, past what the question needs: act on what it found.
            return Act(f"{reason}; the watch stopped the thinking ({last.thinking_stopped}): act")
        if _thought_without_acting(last) and (signals.hedging_cues or signals.repetition >= 0.3):
            # s1-style budget forcing (arXiv 2501.19393): the thinking reached its allotment and
            # already hedges or loops, so more of it stops paying (arXiv 2412.21187): act on what
            # it found, thinking off, rather than think again and re-read the carried reasoning.
            return Act(f"{reason}; thinking reached its allotment and hedges: act on it")
        cuts = _cuts_in_a_row(ctx.history)
        if cuts:
            # still productive at the allotment: the question needs more than it looked. Grow
            # the allotment geometrically, so the carried reasoning is re-read a few times only.
            budget = min(high, budget * self.growth**cuts)
            reason += f"; {cuts} allotment{'s' if cuts > 1 else ''} spent while still productive"
        if signals.last_tool_errors:
            reason = "a tool failed: think before acting again rather than fire more calls"
        elif last is not None and last.tool_calls:
            if label == "easy":
                return Act(f"{reason}; tool results in: act on them")
            budget = max(low, budget // 4)
            reason += "; brief thinking on the tool results"
        share = self.share_of_room(ctx)
        decision = think_or_act(ctx, budget, reason, minimum=self.min_budget // 2, cap=share)
        if isinstance(decision, Think) and watched:
            return Think(decision.budget_tokens, decision.reason, watch=True)
        return decision

    def budget_range(self, *, watched: bool = False) -> tuple[int, int]:
        """The (minimum, maximum) allotment, watched or not."""
        if watched:
            return self.watched_min_budget, self.watched_max_budget
        return self.min_budget, self.max_budget

    def allocate(self, difficulty: float, *, watched: bool = False) -> int:
        """Thinking tokens for ``difficulty``: geometric from the minimum to the maximum."""
        low, high = self.budget_range(watched=watched)
        ratio: float = high / low
        budget = max(low, round(low * float(ratio**difficulty) / 64) * 64)
        return min(budget, high)

    def share_of_room(self, ctx: StepContext) -> int | None:
        """At most half the thinking room left, all of it when only one step precedes the answer."""
        room = thinking_room(ctx)
        if room is None:
            return None
        steps = ctx.remaining.steps
        return room if steps is not None and steps <= 2 else room // 2

    def _resume(self, ctx: StepContext, budget: int, reason: str, watched: bool) -> Think | None:
        """Think on after a watch stop that rests on hedging alone, up to ``second_looks``."""
        counts = stop_counts(ctx.last_step.thinking_stopped if ctx.last_step else None)
        if not watched or counts is None or counts[1] > 0:
            return None
        stops = 0
        for step in reversed(ctx.history):
            if not _thought_without_acting(step) or step.thinking_stopped is None:
                break
            stops += 1
        if stops > self.second_looks:
            return None
        why = (
            f"{reason}; the watch stopped the thinking on hedging alone ({counts[0]} hedging "
            "sentences, none repeated): productive re-checking reads so too, so think on"
        )
        decision = think_or_act(
            ctx, budget, why, minimum=self.min_budget, cap=self.share_of_room(ctx)
        )
        return (
            Think(decision.budget_tokens, decision.reason, watch=True)
            if isinstance(decision, Think)
            else None
        )

    def _second_look(self, ctx: StepContext) -> Think | None:
        """Think again, ``escalation`` times larger, after an answer whose thinking its
        allotment ended."""
        last = ctx.last_step
        if last is None or last.kind != "think" or last.thinking_budget <= 0:
            return None
        if not _capped(last, self.cap_hit):
            return None  # the model finished thinking on its own: its answer stands
        if sum(_capped(step, self.cap_hit) for step in ctx.history) > self.cap_looks:
            return None
        high = self.watched_max_budget
        wanted = min(high, last.thinking_budget * self.escalation)
        if wanted <= last.thinking_budget:
            return None
        why = (
            f"the answer came when the thinking reached its allotment ({last.thinking_tokens:,} of "
            f"{last.thinking_budget:,} tokens): the model had not finished, so take a second "
            "look with more"
        )
        decision = think_or_act(
            ctx, wanted, why, minimum=2 * last.thinking_budget, cap=self.share_of_room(ctx)
        )
        if not isinstance(decision, Think):
            return None
        watched = self.watch and ctx.capabilities.shows_reasoning
        return Think(decision.budget_tokens, decision.reason, watch=watched)

    def _signal_rules(self, ctx: StepContext) -> Decision | None:
        signals, last = ctx.signals, ctx.last_step
        if last is not None and last.proposed_answer is not None:
            if signals.answer_streak >= self.stable_answers:
                return Answer(
                    f"the same answer {signals.answer_streak} times in a row: "
                    "more thinking stops paying"
                )
            if last.verified is not False:
                if (
                    signals.premature_disengagement
                    and ctx.tools_available
                    and signals.answers_proposed <= self.premature_checks
                ):
                    return Act(
                        "answer proposed without using any tool though the question seems to "
                        "need one: check with a tool first (premature disengagement)"
                    )
                second = self._second_look(ctx)
                if second is not None:
                    return second
                return Answer("the model proposed an answer")
            if ctx.verifier_rejections >= self.max_rejections:
                return Answer(
                    f"the verifier rejected {ctx.verifier_rejections} answers: "
                    "answering with the best so far"
                )
        if signals.repeated_tool_calls >= self.max_tool_repeats:
            return Answer(
                f"the same tool call was made {signals.repeated_tool_calls} times: a loop, "
                "answering with what we have"
            )
        if ctx.tools_available and signals.thinking_tokens_since_action >= self.paralysis_tokens:
            return Act(
                f"analysis paralysis: {signals.thinking_tokens_since_action:,} thinking tokens "
                "since the last action; act instead"
            )
        if signals.repetition >= self.repetition_threshold:
            return Answer(
                f"the reasoning repeats itself ({signals.repetition:.0%} overlap): "
                "more thinking stops paying"
            )
        if (
            signals.hedging_cues >= self.hedging_min_cues
            and signals.hedging_rate >= self.hedging_rate
        ):
            why = f"low confidence ({signals.hedging_rate:.1f} hedging cues per 100 words)"
            if ctx.tools_available:
                return Act(f"{why}: check with a tool rather than think more")
            return Answer(f"{why}: more thinking stops paying")
        return None


def _thought_without_acting(step: StepRecord | None) -> bool:
    """The latest step was a thinking step that neither called a tool nor proposed an answer
    (its thinking was cut at its allotment, or it was a prompted thinking call)."""
    return (
        step is not None
        and step.kind == "think"
        and not step.tool_calls
        and step.proposed_answer is None
    )


def _capped(step: StepRecord, share: float) -> bool:
    """A thinking step that proposed an answer when its reasoning reached its allotment."""
    return (
        step.kind == "think"
        and step.proposed_answer is not None
        and step.thinking_budget > 0
        and step.thinking_tokens >= share * step.thinking_budget
    )


def _cuts_in_a_row(history: Sequence[StepRecord]) -> int:
    """How many of the latest steps were thinking cut at their allotment (not by the watch)."""
    count = 0
    for step in reversed(history):
        if not _thought_without_acting(step) or step.thinking_stopped is not None:
            break
        count += 1
    return count
