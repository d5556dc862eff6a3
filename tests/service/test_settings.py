"""Service settings: flags over AGENTTHINK_* variables over the TOML file, and clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentthink.errors import ConfigurationError
from agentthink.service import load_service_settings


def test_file_environment_and_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "service.toml"
    config.write_text(
        'database = "postgresql://agentthink@db/agentthink"\n'
        "concurrency = 8\n"
        'budget = "total=20k,steps=8"\n'
        "[keys.alice]\n"
        'key = "sk-alice-0123456789"\n'
        "tokens_per_period = 100000\n"
    )
    monkeypatch.setenv("AGENTTHINK_CONCURRENCY", "12")
    settings = load_service_settings(config, port=9000)
    assert settings.is_postgres and settings.port == 9000 and settings.concurrency == 12
    assert settings.keys["alice"].tokens_per_period == 100_000
    assert settings.run_budget().max_total_tokens == 20_000
    assert settings.budget_ceiling().max_total_tokens == 80_000
    assert settings.budget_ceiling().max_seconds is None

    monkeypatch.setenv(
        "AGENTTHINK_KEYS", '{"bob": {"key": "sk-bob-0123456789", "cost_per_period": 2}}'
    )
    assert set(load_service_settings(config).keys) == {"alice", "bob"}  # merged


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"database": "mysql://x"}, "use sqlite:///PATH or postgresql://"),
        ({"budget": "total=-3"}, "budget"),
        ({"concurrency": 0}, "concurrency"),
        ({"keys": {"a": {"key": "short"}}}, "keys.a.key"),
    ],
)
def test_bad_settings_say_what_to_fix(fields: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigurationError, match="setting") as caught:
        load_service_settings(**fields)
    assert words in str(caught.value)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_service_settings(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("concurrency = = 3")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_service_settings(broken)


def test_native_thinking_cap_reaches_the_service_agents_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    from agentthink.service.agents import AgentProvider
    from agentthink.testing.openai_fake import OpenAIServer
    from agentthink.testing.replies import Reply

    monkeypatch.setenv("AGENTTHINK_NATIVE_THINKING_CAP", "1")
    with OpenAIServer(lambda body: Reply(text="ok"), dialect="vllm") as server:
        settings = load_service_settings(None, model="hosted_vllm/q", api_base=server.url + "/v1")
        assert settings.native_thinking_cap is True
        agent = AgentProvider(settings, checkpointer=InMemorySaver()).get(None)
    assert agent.model.profile.native_thinking_budget is True


def test_the_otel_setting_traces_built_and_factory_agents(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    from agentthink import Agent
    from agentthink.service.agents import AgentProvider
    from agentthink.testing import ScriptedModel
    from agentthink.tracing import OtelTracing

    def factory(*, checkpointer: Any, policy: str, durability: Any) -> Agent:
        return Agent(ScriptedModel(["ok"]), checkpointer=checkpointer, durability=durability)

    config = tmp_path / "service.toml"
    (tmp_path / "script.json").write_text('["ok"]')
    config.write_text(f'otel = true\nmodel = "scripted:{tmp_path / "script.json"}"\n')
    settings = load_service_settings(config)
    assert settings.otel is True
    saver = InMemorySaver()
    assert isinstance(AgentProvider(settings, saver, factory).get(None).tracing, OtelTracing)
    built = AgentProvider(settings, saver).get(None)
    assert isinstance(built.tracing, OtelTracing)
    monkeypatch.setenv("AGENTTHINK_OTEL", "0")
    off = load_service_settings(None, agent="x:y")
    assert off.otel is False
    assert AgentProvider(off, saver, factory).get(None).tracing is None
