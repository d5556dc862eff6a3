"""Prompt accounting: the provider's count of the next prompt, worked out before sending it.

agentthink counts a prompt with its own tokenizer (litellm's cl100k); the provider bills its own
count: another tokenizer, and its chat template's tokens around every message and the tools.
The ledger plans each call with an upper bound on the provider's count, worked out here:

* **The base.** Every call of a run resends the conversation so far plus something new. After a
  call whose usage the provider reported, its ``prompt_tokens`` is the base for the next call;
  only the new part (the suffix) is estimated.
* **The suffix** counts ``ratio`` provider tokens per token of agentthink's estimate, plus
  ``MESSAGE_MARGIN`` per new message (a chat template's markers). Tools the new call drops are
  not credited (the provider's count of them is not known); tools it adds count at the ratio
  plus ``TOOLS_MARGIN``.
* **The ratio is learned.** Until the provider has billed a suffix of long messages (at least
  64 estimated tokens each, so that template tokens weigh little) it is ``UNKNOWN_RATIO``; then
  it is the highest ratio seen on such a suffix (at least 1), times ``1 + LEARNED_MARGIN`` for
  text unlike what was seen. A shorter suffix billed above its plan raises the per-message
  margin (a template heavier than ``MESSAGE_MARGIN``).
* **Without a base** (the run's first call, a resumed run, a prompt that does not extend the
  last one) the whole prompt is estimated like a suffix: at the ratio, ``MESSAGE_MARGIN`` per
  message and ``TOOLS_MARGIN`` when tools are offered.

The bound holds when the provider counts at most ``UNKNOWN_RATIO`` times agentthink's estimate
plus ``MESSAGE_MARGIN`` per message and ``TOOLS_MARGIN`` for its tools block before it has
billed anything, and new text at most ``1 + LEARNED_MARGIN`` times the ratio it showed so far.
A model whose ``count_tokens`` is the provider's own count (``exact``) is planned as counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

__all__ = [
    "LEARNED_MARGIN",
    "MESSAGE_MARGIN",
    "TOOLS_MARGIN",
    "UNKNOWN_RATIO",
    "PromptAccounting",
    "PromptShape",
]

UNKNOWN_RATIO: Final = 1.5
"""Provider tokens per estimated token before the provider has billed a suffix: covers a
tokenizer with a smaller vocabulary than cl100k (about 1.3x on English text)."""
MESSAGE_MARGIN: Final = 8
"""Tokens a chat template may add around one message beyond agentthink's estimate."""
TOOLS_MARGIN: Final = 150
"""Tokens a chat template may add for the tools block (its instructions) beyond the schemas."""
LEARNED_MARGIN: Final = 0.1
"""Share added to the highest ratio seen, for new text unlike what the provider billed so far."""
_SAMPLE_PER_MESSAGE: Final = 64
"""A suffix teaches the ratio only when it holds at least this many estimated tokens per new
message, so that a template's per-message tokens distort the sample by little (they inflate
it: never below the truth)."""


@dataclass(frozen=True, slots=True)
class PromptShape:
    """A prompt as agentthink counts it: its messages and the tools offered with them."""

    estimate: int
    """agentthink's count of the messages (tools excluded)."""
    messages: int
    """How many messages."""
    tools: int | None = None
    """agentthink's count of the tool schemas offered (None: no tools)."""

    @property
    def total(self) -> int:
        """agentthink's count of the whole prompt."""
        return self.estimate + (self.tools or 0)


@dataclass(frozen=True, slots=True)
class _Base:
    reported: int
    shape: PromptShape


@dataclass(frozen=True, slots=True)
class PromptAccounting:
    """How the provider counts this run's prompts: the base and what was learned (a value)."""

    exact: bool = False
    """The model's own count is the provider's: plan with it as it is."""
    base: _Base | None = None
    """The latest prompt the provider reported a count for."""
    seen_ratio: float | None = None
    """The highest provider/estimate ratio seen on a suffix (None: none seen yet)."""
    message_margin: int = MESSAGE_MARGIN
    """Tokens per new message beyond the estimate (raised when the provider shows more)."""

    @property
    def ratio(self) -> float:
        """Provider tokens planned per estimated token of new text (the margin included)."""
        if self.exact:
            return 1.0
        if self.seen_ratio is None:
            return UNKNOWN_RATIO
        return max(1.0, self.seen_ratio) * (1 + LEARNED_MARGIN)

    def suffix(self, tokens: int, messages: int) -> int:
        """The provider's count, at most, of ``tokens`` new estimated tokens in ``messages``
        new messages."""
        if self.exact:
            return max(0, tokens)
        return math.ceil(max(0, tokens) * self.ratio) + self.message_margin * max(0, messages)

    def predict(self, shape: PromptShape) -> int:
        """The provider's count, at most, of a prompt of this shape."""
        if self.exact:
            return shape.total
        tools = 0 if shape.tools is None else self.suffix(shape.tools, 0) + TOOLS_MARGIN
        base = self.base
        if base is None or shape.messages < base.shape.messages:
            return self.suffix(shape.estimate, shape.messages) + tools
        grown = self.suffix(
            shape.estimate - base.shape.estimate, shape.messages - base.shape.messages
        )
        new_tools = tools if base.shape.tools is None else 0
        return base.reported + grown + new_tools

    def observe(self, shape: PromptShape, reported: int) -> PromptAccounting:
        """This accounting after the provider billed ``reported`` tokens for a prompt of
        ``shape``: the new base, and the ratio and margin raised to explain the count."""
        if reported <= 0:
            return self
        if self.exact:
            return replace(self, base=_Base(reported, shape))
        seen, margin = self.seen_ratio, self.message_margin
        base = self.base
        same_tools = base is not None and (base.shape.tools is None) == (shape.tools is None)
        if base is not None and same_tools and shape.messages >= base.shape.messages:
            grown = shape.estimate - base.shape.estimate
            added = shape.messages - base.shape.messages
            billed = reported - base.reported
            if grown > 0 and grown >= _SAMPLE_PER_MESSAGE * max(1, added):
                sample = max(0, billed) / grown
                seen = sample if seen is None else max(seen, sample)
            elif added and billed > self.suffix(grown, added):
                margin = max(margin, math.ceil((billed - self.ratio * max(0, grown)) / added))
        elif reported > self.predict(shape) and shape.total > 0:
            # a whole prompt counted above the plan: its ratio is at least this
            fixed = self.message_margin * shape.messages + (TOOLS_MARGIN if shape.tools else 0)
            needed = (reported - fixed) / shape.total
            seen = needed if seen is None else max(seen, needed)
        return PromptAccounting(False, _Base(reported, shape), seen, margin)
