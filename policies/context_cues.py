"""Text in a question that pulls the answer away from what is asked (for System 2 Attention).

S2A (arXiv 2311.11829) gains most where the context carries opinions, leading hints at an answer
or irrelevant personal asides; on clean questions the rewrite is a call for nothing. These cues
read the question's sentences, not any one workload's phrasing:

* a sentence that attributes an answer or a view to someone ("I think it is 12", "my teacher
  said ...", "a friend worked it out as ...", "I trust them");
* a declarative first-person aside that asks nothing ("My cousin keeps 30 goats.", "... is my
  favourite, by the way"): the question itself is the sentence that asks, or an instruction;
* text that tells the reader which value to prefer or what to ignore.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["distraction_cues"]

_SENTENCE: Final = re.compile(r"[^.?!;]+[.?!;]?")
_OPINION: Final = re.compile(
    r"\b(?:i(?:'m| am) (?:fairly |pretty |quite |very )?(?:sure|certain|confident|positive)|"
    r"i (?:think|believe|reckon|suspect|guess|trust|heard)|in my (?:opinion|view|experience)|"
    r"(?:said|says|told me|claims?|claimed|reckons|insists?|worked it out|comes? out (?:to|as))|"
    r"by the way|favou?rite)\b",
    re.IGNORECASE,
)
_STEERING: Final = re.compile(
    r"\b(?:prefer (?:that|this|the older|the cached)|ignore (?:the|all|any|previous)|"
    r"disregard|instead use|use (?:that|this) value)\b",
    re.IGNORECASE,
)
_FIRST_PERSON: Final = re.compile(r"\b(?:my|our|we|i)\b", re.IGNORECASE)
_ASKS: Final = re.compile(
    r"\?\s*$|^\s*(?:please\s+)?(?:what|how|which|who|when|where|why|is|are|does|do|can|find|"
    r"compute|calculate|give|tell|show|prove|look|search|then|use|report|work|list|explain|"
    r"derive|solve|design|check)\b",
    re.IGNORECASE,
)


def distraction_cues(question: str) -> tuple[str, ...]:
    """The question's sentences that carry an opinion, a leading hint, steering text or a
    first-person aside that asks nothing (empty: the question looks clean)."""
    found = []
    for match in _SENTENCE.finditer(question):
        sentence = match.group(0).strip()
        if len(sentence.split()) < 3:
            continue
        asks = bool(_ASKS.search(sentence))
        if (
            _OPINION.search(sentence)
            or _STEERING.search(sentence)
            or (not asks and _FIRST_PERSON.search(sentence))
        ):
            found.append(sentence)
    return tuple(found)
