"""Raw-prompt continuations (``continuation="completions"``): the chat template's rendering cut
after the partial message, the template read from a GGUF header, the request built for
``/v1/completions``, and its text read back as reasoning and answer."""

from __future__ import annotations

import struct
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agentthink.errors import ConfigurationError
from agentthink.models import ModelProfile, Reasoning, ThinkingStyle
from agentthink.models.chat_prompt import ChatTemplate, thinking_open
from agentthink.models.gguf_meta import gguf_chat_template
from agentthink.models.text_completion import TextCompletionReader
from agentthink.models.translate import build_request

# SmolLM2's template: a default system prompt when the conversation has none
SMOL = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are SmolLM<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
PARTIAL = [
    {"role": "user", "content": "2+2?"},
    {"role": "assistant", "content": "<think>\nfour"},
]


def test_chatml_continues_the_last_message() -> None:
    assert ChatTemplate().continuation(PARTIAL) == (
        "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nfour"
    )


def test_the_models_own_template_is_followed() -> None:
    prompt = ChatTemplate(SMOL).continuation(PARTIAL)
    assert prompt.startswith("<|im_start|>system\nYou are SmolLM<|im_end|>\n<|im_start|>user\n")
    assert prompt.endswith("<|im_start|>assistant\n<think>\nfour")


def test_only_a_trailing_assistant_message_is_continued() -> None:
    with pytest.raises(ValueError, match="partial assistant message"):
        ChatTemplate().continuation(PARTIAL[:1])


def test_thinking_open() -> None:
    assert thinking_open("<think>\nhm")
    assert not thinking_open("<think>\nhm</think>\n\nFinal answer:")
    assert not thinking_open("plain")


def _gguf(path: Path, kv: list[tuple[str, int, Any]]) -> None:
    """A GGUF v3 header with these (key, type, value) pairs and no tensors."""

    def string(text: str) -> bytes:
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv))
    for key, kind, value in kv:
        out += string(key) + struct.pack("<I", kind)
        if kind == 8:
            out += string(value)
        elif kind == 4:
            out += struct.pack("<I", value)
        elif kind == 9:
            item, items = value
            out += struct.pack("<IQ", item, len(items))
            out += b"".join(string(v) if item == 8 else struct.pack("<f", v) for v in items)
    path.write_bytes(out)


def test_the_template_and_special_tokens_come_from_the_gguf_header(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    _gguf(
        path,
        [
            ("general.name", 8, "tiny"),
            ("tokenizer.ggml.scores", 9, (6, [0.5, 0.25, 0.0])),  # skipped unread
            ("tokenizer.ggml.tokens", 9, (8, ["<unk>", "<|im_start|>", "<|im_end|>"])),
            ("tokenizer.ggml.bos_token_id", 4, 1),
            ("tokenizer.ggml.eos_token_id", 4, 2),
            ("tokenizer.chat_template", 8, SMOL),
        ],
    )
    template = gguf_chat_template(path)
    assert template == ChatTemplate(SMOL, "<|im_start|>", "<|im_end|>")
    assert template.stop == ["<|im_end|>"]


def test_a_file_without_a_template_has_none(tmp_path: Path) -> None:
    path = tmp_path / "bare.gguf"
    _gguf(path, [("general.name", 8, "tiny")])
    assert gguf_chat_template(path) is None
    (tmp_path / "not.gguf").write_bytes(b"GGML....")
    with pytest.raises(ValueError, match="not a GGUF file"):
        gguf_chat_template(tmp_path / "not.gguf")


def _profile(continuation: Any) -> ModelProfile:
    return ModelProfile(style=ThinkingStyle.PROMPTED, think_tags=True, continuation=continuation)


def test_a_continuation_request_becomes_a_raw_prompt() -> None:
    thinking = Reasoning.on(budget_tokens=50)
    request = build_request(
        _profile("completions"), thinking, PARTIAL, max_tokens=80, continue_final=True
    )
    assert request.prompt is not None and request.prompt.endswith("assistant\n<think>\nfour")
    assert request.prompt.startswith("<|im_start|>system\nThink step by step")
    assert request.params["stop"] == ["<|im_end|>"] and request.params["max_tokens"] == 80
    assert request.thinking_open and request.continuing and not request.untagged_is_reasoning
    # the forced answer's call: same instruction, thinking closed
    closed = [*PARTIAL[:1], {"role": "assistant", "content": "<think>\nfour\n</think>\n\nA:"}]
    answer = build_request(
        _profile("completions"), Reasoning.off(), closed, max_tokens=20, continue_final=True
    )
    assert answer.prompt is not None and not answer.thinking_open
    assert answer.prompt.split("<|im_start|>user")[0] == request.prompt.split("<|im_start|>user")[0]


@pytest.mark.parametrize("continuation", ["prefill", "vllm", "none"])
def test_other_continuations_keep_the_chat_request(continuation: Any) -> None:
    request = build_request(
        _profile(continuation), Reasoning.on(), PARTIAL, max_tokens=80, continue_final=True
    )
    assert request.prompt is None and "stop" not in request.params
    assert request.messages[-1] == PARTIAL[-1]


def _chunk(text: str | None, finish: str | None = None) -> Any:
    return SimpleNamespace(choices=[SimpleNamespace(text=text, finish_reason=finish)], usage=None)


def test_streamed_text_is_reasoning_until_the_tag_closes() -> None:
    reader = TextCompletionReader(thinking_open=True)
    pieces = [" so four", "</th", "ink>\n\nThe ", "answer is 4", None]
    deltas = [reader.chunk(_chunk(p, "stop" if p is None else None)) for p in pieces]
    reasoning = "".join(d.choices[0].delta.reasoning_content or "" for d in deltas)
    text = "".join(d.choices[0].delta.content or "" for d in deltas)
    assert (reasoning, text) == (" so four", "The answer is 4")
    assert deltas[-1].choices[0].finish_reason == "stop"


def test_a_whole_completion_reads_as_a_message() -> None:
    raw = SimpleNamespace(
        choices=[SimpleNamespace(text="four</think>\n\n4", finish_reason="stop")], usage="u"
    )
    whole = TextCompletionReader(thinking_open=True).response(raw)
    message = whole.choices[0].message
    assert (message.reasoning_content, message.content, whole.usage) == ("four", "4", "u")
    plain = TextCompletionReader(thinking_open=False).response(raw).choices[0].message
    assert plain.content == "four</think>\n\n4" and plain.reasoning_content is None


def test_a_profile_may_name_the_gguf_file_its_template_is_read_from(tmp_path: Path) -> None:
    path = tmp_path / "smol.gguf"
    _gguf(path, [("tokenizer.chat_template", 8, SMOL)])
    style = ThinkingStyle.CHAT_TEMPLATE  # no system instruction added
    profile = ModelProfile(style, continuation="completions", chat_template=path)
    request = build_request(profile, Reasoning.off(), PARTIAL, max_tokens=5, continue_final=True)
    assert request.prompt is not None  # the file's template (its default system prompt)
    assert request.prompt.startswith("<|im_start|>system\nYou are SmolLM<|im_end|>\n")
    assert request.prompt.endswith("<|im_start|>assistant\n<think>\nfour")
    assert "stop" not in request.params  # the file names no end-of-turn token


def test_a_template_that_cannot_show_the_partial_message_is_a_configuration_error() -> None:
    hides = ChatTemplate("{% for m in messages %}{{ m['role'] }}: ...\n{% endfor %}")
    profile = ModelProfile(continuation="completions", chat_template=hides)
    with pytest.raises(ConfigurationError, match="cannot render a continuation"):
        build_request(profile, Reasoning.off(), PARTIAL, max_tokens=5, continue_final=True)
