"""Models litellm does not know are entered in its price map once, without inventing prices."""

from __future__ import annotations

from agentthink.models import _litellm


def test_an_unknown_unpriced_model_is_entered_at_zero_but_stays_unpriced() -> None:
    model = "hosted_vllm/price-map-test-unpriced"
    litellm = _litellm.get_litellm()
    assert model not in litellm.model_cost
    _litellm.ensure_in_price_map(model, None, None)
    assert litellm.model_cost[model]["input_cost_per_token"] == 0.0
    assert _litellm.price_of(model, 1000, 1000) is None  # unknown, not free


def test_an_unknown_model_with_profile_prices_is_priced_by_them() -> None:
    model = "hosted_vllm/price-map-test-priced"
    _litellm.ensure_in_price_map(model, 1e-6, 4e-6)
    assert _litellm.price_of(model, 1000, 1000) == 1000 * 1e-6 + 1000 * 4e-6


def test_a_model_litellm_knows_is_left_alone() -> None:
    litellm = _litellm.get_litellm()
    before = dict(litellm.model_cost["gpt-4o-mini"])
    _litellm.ensure_in_price_map("openai/gpt-4o-mini", 123.0, 456.0)
    assert litellm.model_cost["gpt-4o-mini"] == before
    assert "openai/gpt-4o-mini" not in litellm.model_cost or (
        litellm.model_cost["openai/gpt-4o-mini"].get("input_cost_per_token") != 123.0
    )
