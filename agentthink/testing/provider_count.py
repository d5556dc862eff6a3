"""How a loopback server counts tokens: its own tokenizer and its own chat template.

A real provider bills the prompt as *it* counts it: its tokenizer over every message, plus its
chat template's tokens around each message and the tools block. agentthink estimates with
litellm's cl100k count, so a server that counts another way tests the budget on the provider's
own books. ``ProviderTokenizer(kind)`` is one such server's tokens: ``pieces`` (what it
generates, one string per token), ``count`` and ``prompt_tokens`` (a chat request's prompt).

Kinds:

* ``cl100k``: the BPE agentthink estimates with, 3 tokens per message plus its role, each
  tool's name, description and parameters: a server whose books agree with agentthink's
  estimate (up to the template's few tokens).
* ``deepseek``: DeepSeek-V3's tokenizer (shipped with litellm), a Qwen-like template: 7 tokens
  around each message, a 120-token tools preamble plus each tool's JSON schema and 10 tokens.
* ``split3``: a smaller vocabulary: cl100k's tokens with every third one split in two, so 4/3
  of cl100k's count on any text (a tokenizer of characters can exceed any fixed ratio on some
  text; this one cannot); 8 tokens per message, 150 for the tools block.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Final

__all__ = ["KINDS", "ProviderTokenizer", "text_of"]

KINDS: Final = ("cl100k", "deepseek", "split3")


class ProviderTokenizer:
    """One server's tokens: ``pieces`` (generation), ``count``, ``prompt_tokens`` (billing)."""

    def __init__(self, kind: str = "cl100k") -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown tokenizer {kind!r}; choose one of {', '.join(KINDS)}")
        self.kind = kind
        self._split: Callable[[str], list[str]] = {
            "cl100k": _cl100k_pieces(),
            "deepseek": _hf_pieces("deepseek"),
            "split3": _split_every(3),
        }[kind]
        template = {"cl100k": (3, 0, 8, 3), "deepseek": (7, 120, 10, 4), "split3": (8, 150, 10, 3)}
        self.per_message, self.tools_block, self.per_tool, self.primer = template[kind]
        self._cache: dict[str, int] = {}

    def pieces(self, text: str) -> list[str]:
        """``text`` as this server's tokens (they concatenate back to ``text``)."""
        return self._split(text) if text else []

    def count(self, text: str) -> int:
        """Tokens in ``text``."""
        if not text:
            return 0
        hit = self._cache.get(text)
        if hit is None:
            if len(self._cache) > 50_000:
                self._cache.clear()
            hit = self._cache[text] = len(self._split(text))
        return hit

    def prompt_tokens(self, messages: list[Any], tools: list[Any] | None) -> int:
        """What the model reads, as this server bills it: the template around each message,
        its role, content, replayed reasoning and tool calls, the tools block, the primer."""
        total = self.primer
        for m in messages:
            if not isinstance(m, dict):
                continue
            total += self.per_message
            if self.kind == "cl100k":
                total += self.count(str(m.get("role", "")))
            total += self.count(text_of(m.get("content")))
            reasoning = m.get("reasoning_content")
            if isinstance(reasoning, str):
                total += self.count(reasoning)
            for call in m.get("tool_calls") or []:
                fn = (call.get("function") or {}) if isinstance(call, dict) else {}
                name, args = str(fn.get("name", "")), str(fn.get("arguments", ""))
                total += 3 + self.count(name) + self.count(args)
        return total + self._tools(tools or [])

    def _tools(self, tools: list[Any]) -> int:
        if not tools:
            return 0
        if self.kind != "cl100k":
            schemas = [t.get("function", t) if isinstance(t, dict) else t for t in tools]
            return self.tools_block + sum(
                self.per_tool + self.count(json.dumps(s)) for s in schemas
            )
        total = 0
        for t in tools:
            fn = t.get("function", t) if isinstance(t, dict) else {}
            total += (
                8 + self.count(str(fn.get("name", ""))) + self.count(str(fn.get("description", "")))
            )
            props = (fn.get("parameters") or {}).get("properties") or {}
            for pname, p in props.items():
                total += 3 + self.count(pname) + self.count(str(p.get("description", "")))
        return total


def text_of(content: Any) -> str:
    """A message content's text: a string, or the text of its text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def _cl100k_pieces() -> Callable[[str], list[str]]:
    from agentthink.models import text_tokenizer

    enc = text_tokenizer()

    def split(text: str) -> list[str]:
        return [enc.decode([i]) for i in enc.encode(text, disallowed_special=())]

    return split


def _hf_pieces(name: str) -> Callable[[str], list[str]]:
    from tokenizers import Tokenizer

    from agentthink.models import bundled_tokenizer_file

    tok = Tokenizer.from_file(bundled_tokenizer_file(name))

    def split(text: str) -> list[str]:
        starts = [a for a, _ in tok.encode(text, add_special_tokens=False).offsets]
        if not starts:
            return []
        starts[0] = 0
        return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]

    return split


def _split_every(n: int) -> Callable[[str], list[str]]:
    base = _cl100k_pieces()

    def split(text: str) -> list[str]:
        out: list[str] = []
        for i, piece in enumerate(base(text)):
            if i % n == n - 1 and len(piece) > 1:
                half = len(piece) // 2
                out += [piece[:half], piece[half:]]
            else:
                out.append(piece)
        return out

    return split


def ratio(kind: str, texts: list[str]) -> float:
    """Tokens ``kind`` counts per cl100k token over ``texts`` (for reports)."""
    other, base = ProviderTokenizer(kind), ProviderTokenizer("cl100k")
    total = sum(base.count(t) for t in texts)
    return sum(other.count(t) for t in texts) / total if total else math.nan
