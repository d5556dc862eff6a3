"""Per-call cost of the model boundary next to a bare ``litellm.acompletion`` and the openai SDK.

Run: ``python -m agentthink.bench.boundary [--calls 200] [--rounds 5]``

All three clients call the same loopback OpenAI server (``agentthink.testing.openai_fake``,
answering "ok" at once) in interleaved rounds, so machine noise hits them alike; the figures are
medians over rounds, and the ratio is what to read.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply

__all__ = ["main", "measure"]

MESSAGES = [{"role": "user", "content": "Say ok."}]


async def _time_calls(call: Callable[[], Awaitable[Any]], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        await call()
    return (time.perf_counter() - started) / n * 1000


async def measure(calls: int = 200, rounds: int = 5) -> dict[str, float]:
    """Median milliseconds per call for each client."""
    from openai import AsyncOpenAI

    from agentthink.models import LiteLLMModel, provider_library
    from agentthink.models.request import CallRequest

    litellm = provider_library()
    with OpenAIServer(lambda body: Reply(text="ok"), dialect="openai") as server:
        url = server.url + "/v1"
        model = LiteLLMModel("openai/stub", api_base=url, api_key="k")
        sdk = AsyncOpenAI(base_url=url, api_key="k", max_retries=0)

        async def bare() -> Any:
            return await litellm.acompletion(
                model="openai/stub", api_base=url, api_key="k", messages=MESSAGES, max_tokens=16
            )

        async def boundary() -> Any:
            return await model.complete(MESSAGES, CallRequest(max_tokens=16))

        async def openai_sdk() -> Any:
            return await sdk.chat.completions.create(model="stub", messages=MESSAGES, max_tokens=16)  # type: ignore[arg-type]

        clients = {"litellm": bare, "agentthink": boundary, "openai_sdk": openai_sdk}
        for call in clients.values():  # warm up connections, caches and lazy imports
            await _time_calls(call, 20)
        samples: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(rounds):
            for name, call in clients.items():
                samples[name].append(await _time_calls(call, calls))
        await sdk.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=200, help="calls per client per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args.calls, args.rounds))
    print(f"model boundary overhead ({args.rounds} rounds x {args.calls} calls, median ms/call)")
    for name, ms in result.items():
        print(f"  {name:<12} {ms:7.3f} ms")
    print(f"  agentthink / litellm  = {result['agentthink'] / result['litellm']:.3f}")
    print(f"  litellm / openai_sdk  = {result['litellm'] / result['openai_sdk']:.3f}")


if __name__ == "__main__":
    main()
