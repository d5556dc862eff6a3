"""A conversation rendered with the model's chat template into the raw prompt that continues
its last, partial assistant message (``ModelProfile.continuation == "completions"``).

Some servers' chat endpoints do not continue a trailing assistant message (llama-cpp-python's
starts a new turn after it), but all serve ``/v1/completions``. The prompt is made as the chat
endpoint makes it: the template (Jinja, from the GGUF file's ``tokenizer.chat_template`` or
ChatML) renders the conversation without a generation prompt, in the sandbox and with the
settings llama-cpp-python and Hugging Face use, and is cut right after the last message's
content, as vLLM's ``continue_final_message`` does::

    ChatTemplate().continuation([{"role": "user", "content": "2+2?"},
                                 {"role": "assistant", "content": "<think>\\n"}])
    # '<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n<think>\\n'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

__all__ = ["CHATML", "ChatTemplate", "thinking_open"]

CHATML: Final = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""The ChatML template (SmolLM2, Qwen, many others) without a default system prompt."""


@dataclass(frozen=True, slots=True)
class ChatTemplate:
    """A model's chat template and its special tokens."""

    source: str = CHATML
    """The Jinja template text."""
    bos_token: str = ""
    eos_token: str = "<|im_end|>"
    """What ends a turn: the continuation's stop sequence."""

    @property
    def stop(self) -> list[str]:
        """Stop sequences for a continuation (the end of the assistant's turn)."""
        return [self.eos_token] if self.eos_token else []

    def render(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool) -> str:
        """The whole conversation as the template renders it."""
        return str(
            _compiled(self.source).render(
                messages=[_plain(m) for m in messages],
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        )

    def continuation(self, messages: Sequence[dict[str, Any]]) -> str:
        """The prompt that continues the last message (a partial assistant message): the
        rendering cut right after that message's content."""
        if not messages or messages[-1].get("role") != "assistant":
            raise ValueError("a continuation needs a partial assistant message last")
        partial = _plain(messages[-1])["content"]
        rendered = self.render(messages, add_generation_prompt=False)
        end = rendered.rfind(partial) if partial else -1
        if end < 0:
            raise ValueError("the chat template does not show the partial assistant message")
        return rendered[: end + len(partial)]


def thinking_open(partial: str) -> bool:
    """Whether a partial assistant message leaves a ``<think>`` block open (what follows is
    reasoning until ``</think>``)."""
    return partial.rfind("<think>") > partial.rfind("</think>")


def _plain(message: dict[str, Any]) -> dict[str, Any]:
    """The message with its content as text (templates concatenate strings)."""
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return {**message, "content": "" if content is None else str(content)}


@cache
def _compiled(source: str) -> Any:
    """The template compiled once, in the sandbox chat templates are rendered in."""
    from jinja2 import BaseLoader
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(loader=BaseLoader(), trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source)
