"""A simulated reasoning model behind a real OpenAI-compatible HTTP server (vLLM dialect).

``SimServer(world, seed=...)`` serves ``POST /v1/chat/completions`` (streamed or not) on loopback:
it is the loopback OpenAI server the tests use (``agentthink.testing.openai_fake``, vLLM
dialect) with ``SimModel`` behind it instead of a script, so litellm talks to it as to a local
vLLM server: reasoning in ``reasoning_content``, tool calls, ``usage`` (also in the stream with
``stream_options.include_usage``), ``finish_reason`` ``length`` when ``max_tokens`` cuts it, and
the requests vLLM refuses (a tool message answering no call, ``max_tokens`` < 1, ...) refused.
Reasoning a world's model hides or summarises is generated and booked all the same, paced like
the rest, and shown as the model shows it (nothing, or a summary sentence per stretch).

The model itself (what it honours, how it decides) is ``agentthink.bench.sim_model.SimModel``;
this module serves it and keeps the books.

Tokens: the server's own (``tokenizer``: ``cl100k``, the BPE agentthink estimates with, by
default; ``deepseek`` or ``split3`` for a server that counts another way, with its own chat
template; see ``agentthink.testing.provider_count``). It generates in those tokens and bills
prompts in them.

Books: every token written is booked under the request's API key (``Authorization: Bearer K``)
or ``X-Run-Id`` header: prompt, completion, reasoning tokens, calls and pattern counts
(``server.books(key)``, ``server.all_books()``; ``GET /sim/books`` as JSON).

Run one by hand: ``python -m agentthink.bench.sim_server --world mostly-easy --port 8000``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from agentthink.bench.sim_model import Reply, SimModel
from agentthink.bench.world import World, load_world
from agentthink.testing import replies
from agentthink.testing.openai_fake import Books, OpenAIServer, PlannedReply
from agentthink.testing.provider_count import KINDS

__all__ = ["Books", "Reply", "SimModel", "SimServer", "main"]


def planned(out: Reply) -> PlannedReply:
    """The simulated model's reply as the loopback server sends it."""
    calls = [
        replies.PlannedToolCall(
            call.id,
            call.name,
            pieces,
            "".join(pieces) == call.arguments,
            replies.ScriptedToolCall(call.name, call.arguments, call.id),
        )
        for call, pieces in out.calls
    ]
    generation = replies.Generation(out.reasoning, out.text, calls, out.truncated, out.shown)
    # hosted models that hide or summarise their reasoning say how much there was
    usage = {"reasoning_tokens": len(out.reasoning)} if out.reports_reasoning else None
    return PlannedReply(replies.Reply(usage=usage), generation, out.prompt_tokens, out.patterns)


class _SimFake(OpenAIServer):
    """The loopback OpenAI server (vLLM dialect) with the simulated model behind it."""

    def __init__(self, model: SimModel, **options: Any) -> None:
        super().__init__(dialect="vllm", **options)
        self.model = model

    def model_names(self) -> list[str]:
        return ["sim"]

    def respond(self, body: dict[str, Any], key: str) -> PlannedReply:
        return planned(self.model.reply(body, key))


class SimServer:
    """The simulated model behind HTTP. ``with SimServer(world) as url:`` (…/v1).

    Args:
        world: a ``World`` or anything ``load_world`` takes.
        seed: the run seed (task generation and every reply).
        latency: seconds before the first byte of each response (for throughput).
        token_rate: tokens per second once generating (None: as fast as the socket takes them).
        tokens_per_chunk: tokens per streamed event (vLLM's stream interval; 1 by default).
        tokenizer: how the server counts (``provider_count.KINDS``; cl100k by default).
        host, port: where to listen (loopback, a free port by default).
    """

    def __init__(
        self,
        world: World | str | Any,
        *,
        seed: int = 0,
        latency: float = 0.0,
        token_rate: float | None = None,
        tokens_per_chunk: int = 1,
        tokenizer: str = "cl100k",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world if isinstance(world, World) else load_world(world)
        self.model = SimModel(self.world, seed=seed, tokenizer=tokenizer)
        self._fake = _SimFake(
            self.model,
            latency=latency,
            token_rate=token_rate,
            tokens_per_chunk=tokens_per_chunk,
            host=host,
            port=port,
        )
        self._started = False
        self.url = ""

    def books(self, key: str) -> Books:
        """A copy of the books for ``key`` (empty when nothing was served to it)."""
        return self._fake.books(key)

    def all_books(self) -> dict[str, Books]:
        return self._fake.all_books()

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL (…/v1)."""
        if not self._started:
            self._fake.__enter__()
            self._started = True
            self.url = self._fake.url + "/v1"
        return self.url

    def stop(self) -> None:
        if self._started:
            self._fake.__exit__(None, None, None)
            self._started = False

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Serve a world until interrupted."""
    parser = argparse.ArgumentParser(description="serve a simulated reasoning model (vLLM dialect)")
    parser.add_argument("--world", default="mostly-easy", help="world file or shipped name")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--token-rate", type=float, default=None)
    parser.add_argument("--tokens-per-chunk", type=int, default=1)
    parser.add_argument("--tokenizer", choices=KINDS, default="cl100k")
    args = parser.parse_args(argv)
    server = SimServer(
        args.world,
        seed=args.seed,
        latency=args.latency,
        token_rate=args.token_rate,
        tokens_per_chunk=args.tokens_per_chunk,
        tokenizer=args.tokenizer,
        port=args.port,
    )
    url = server.start()
    print(f"serving {server.world.name} at {url} (model name: hosted_vllm/sim)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
