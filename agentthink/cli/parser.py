"""The command line's grammar. Stdlib only (``agentthink.assembly`` imports nothing else at
its top): ``agentthink --help`` must start fast."""

from __future__ import annotations

import argparse
from typing import TypeAlias

from agentthink.assembly import TOOL_NAMES

__all__ = ["build_parser"]

_EPILOG = """\
models: a litellm string (anthropic/claude-sonnet-4-5, openai/gpt-5-mini,
hosted_vllm/Qwen/Qwen3-8B with --api-base, ollama_chat/qwen3, ...), scripted:PATH.json
(a scripted model for tests and demos), or nothing for the embedded SmolLM2 demo model.
Settings also come from AGENTTHINK_MODEL, AGENTTHINK_API_BASE, AGENTTHINK_API_KEY,
AGENTTHINK_POLICY, AGENTTHINK_BUDGET, AGENTTHINK_THINKING, AGENTTHINK_TOOLS, AGENTTHINK_OTEL,
AGENTTHINK_SANDBOX_PYTHON and AGENTTHINK_SANDBOX_CGROUP (the python tool's interpreter and
cgroup) and the config file (~/.config/agentthink/config.toml, or --config / AGENTTHINK_CONFIG).

exit codes: 0 answered, 1 error, 2 bad usage, 3 stopped by the budget before an answer.
"""


def _common(parser: argparse.ArgumentParser) -> None:
    """``--debug`` and ``--config`` are accepted after the command too."""
    parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    parser.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="TOML settings file"
    )


def _native_cap_flag(group: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--native-thinking-cap",
        action="store_true",
        default=None,
        help="the model server caps thinking per request (vLLM --reasoning-config): send "
        "thinking_token_budget on every call",
    )


def _otel_flag(group: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--otel",
        action="store_true",
        default=None,
        help="send OpenTelemetry spans of each run over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT "
        "(default http://localhost:4318; needs the otel extra)",
    )


def _agent_options(parser: argparse.ArgumentParser, *, default_tools: str) -> None:
    _common(parser)
    model = parser.add_argument_group("model")
    model.add_argument(
        "--model",
        "-m",
        help="litellm model string or scripted:PATH.json (default: the embedded SmolLM2)",
    )
    model.add_argument("--api-base", help="base URL of the model server")
    model.add_argument("--api-key", help="API key (default: the provider's environment variable)")
    _native_cap_flag(model)
    control = parser.add_argument_group("thinking and budget")
    control.add_argument(
        "--policy", "-p", help="adaptive (default), fixed, fixed-low, fixed-high, never, escalate"
    )
    control.add_argument(
        "--think",
        metavar="N|off",
        help="think N tokens every step (a fixed policy), or off (never think)",
    )
    control.add_argument(
        "--budget",
        "-b",
        metavar="SPEC",
        help='limits, e.g. "total=20k,thinking=8000,cost=0.05,steps=10,tools=5,seconds=60"',
    )
    for flag, key, what in (
        ("--max-tokens", "total", "prompt + completion tokens over the run"),
        ("--max-thinking", "thinking", "thinking tokens over the run"),
        ("--max-cost", "cost", "US dollars over the run"),
        ("--max-steps", "steps", "model calls"),
        ("--max-tool-calls", "tools", "tool calls"),
        ("--max-seconds", "seconds", "wall-clock seconds"),
    ):
        control.add_argument(flag, metavar="N", dest=f"limit_{key}", help=f"limit: {what}")
    shown = parser.add_argument_group("display and tools")
    shown.add_argument(
        "--thinking",
        choices=("show", "summary", "hide"),
        help="how to display streamed thinking (default: show)",
    )
    shown.add_argument(
        "--tools",
        "-t",
        metavar="LIST",
        help=f"comma-separated built-in tools: {', '.join(TOOL_NAMES)}, or none "
        f"(default: {default_tools}; the embedded model: calculator, convert_units, is_prime, "
        "days_between; python asks before each run)",
    )
    shown.add_argument(
        "--no-warm",
        action="store_true",
        help="run in this process, not in the warm background process that keeps the "
        "embedded model loaded (also AGENTTHINK_WARM=0)",
    )
    shown.add_argument("--system", metavar="PROMPT", help="system prompt")
    shown.add_argument(
        "--budget-visibility",
        action="store_true",
        help="tell the model what is left of its budget on every call",
    )
    _otel_flag(shown)


def _service_options(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument(
        "--database",
        help="sqlite:///PATH (default sqlite:///agentthink-service.sqlite) or "
        "postgresql://USER@HOST:PORT/DB",
    )
    parser.add_argument("--concurrency", type=int, help="runs executed at once (default 16)")
    parser.add_argument(
        "--agent", metavar="MODULE:FUNCTION", help="your own Agent factory (tools, model)"
    )
    parser.add_argument("--model", "-m", help="litellm model string (default: embedded SmolLM2)")
    parser.add_argument("--api-base", help="base URL of the model server")
    _native_cap_flag(parser)
    parser.add_argument("--policy", "-p", help="default policy of runs")
    parser.add_argument("--budget", "-b", metavar="SPEC", help="default budget of each run")
    parser.add_argument("--tools", "-t", metavar="LIST", help="built-in tools the agent may use")
    _otel_flag(parser)


Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""The subcommands of the ``agentthink`` parser."""


def build_parser() -> argparse.ArgumentParser:
    """The ``agentthink`` parser and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="agentthink",
        description="An agent for reasoning models that decides when to think, act or answer, "
        "within token, cost and time budgets.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--config", metavar="FILE", help="TOML settings file")
    parser.add_argument("--version", action="version", version="agentthink 0.1.0")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _agent_commands(commands)
    _inspection_commands(commands)
    _service_commands(commands)
    _passthrough_commands(commands)
    return parser


def _agent_commands(commands: Commands) -> None:
    """``run`` and ``chat``."""
    run = commands.add_parser(
        "run", help="answer one question", description="Answer one question and exit."
    )
    run.add_argument("question", help='the question (use "-" to read it from stdin)')
    run.add_argument(
        "--json", action="store_true", help="print answer, usage, decisions and trace as JSON"
    )
    _agent_options(run, default_tools="none")

    chat = commands.add_parser(
        "chat",
        help="talk with the agent (streams thinking, decisions, tools, a budget bar)",
        description="An interactive chat. Type /help inside for the slash commands. "
        "Ctrl-C cancels a running answer; Ctrl-C twice at the prompt (or /exit, Ctrl-D) leaves.",
    )
    _agent_options(chat, default_tools="calculator")


def _inspection_commands(commands: Commands) -> None:
    """``models`` and ``doctor``."""
    models = commands.add_parser(
        "models",
        help="what agentthink knows of a model (thinking control, prices)",
        description="Without MODEL: the capability table. With MODEL: how its thinking is "
        "controlled, and its prices from litellm's price map.",
    )
    models.add_argument("model", nargs="?", help="a model string, e.g. anthropic/claude-sonnet-4-5")
    models.add_argument("--json", action="store_true", help="print as JSON")
    _common(models)

    doctor = commands.add_parser(
        "doctor",
        help="check the environment and say what to fix",
        description="Checks the embedded model, llama-cpp-python, litellm, the configured "
        "model and its API keys.",
    )
    doctor.add_argument("--model", "-m", help="check this model instead of the configured one")
    doctor.add_argument(
        "--api-base", help="base URL of the model server (checked for reachability)"
    )
    _common(doctor)


def _service_commands(commands: Commands) -> None:
    """``serve`` and ``worker``."""
    serve = commands.add_parser(
        "serve",
        help="the HTTP API, an OpenAI-compatible endpoint and the run viewer (the service extra)",
        description="Serve agent runs over HTTP: POST /v1/runs, live events, cancel, "
        "/v1/chat/completions, and the run viewer at /viewer. With SQLite (the default) this "
        "process executes the runs; with PostgreSQL, `agentthink worker` processes can share "
        "them. Settings: flags, AGENTTHINK_* variables, then --config FILE "
        "(or AGENTTHINK_SERVICE_CONFIG).",
    )
    _service_options(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="API only: leave the runs to `agentthink worker` processes (PostgreSQL)",
    )

    worker = commands.add_parser(
        "worker",
        help="execute queued runs from a PostgreSQL queue (run as many as you like)",
        description="Execute runs queued by `agentthink serve` in a PostgreSQL database. A "
        "run whose worker dies is resumed by another from its last checkpoint.",
    )
    _service_options(worker)


def _passthrough_commands(commands: Commands) -> None:
    """``export``, ``bench`` and ``warm``: their own modules parse their arguments."""
    commands.add_parser(  # parsed by agentthink.cli.export
        "export",
        help="write finished runs as fine-tuning data (chat or reasoning JSONL; STaR filters)",
        add_help=False,
    )
    bench = commands.add_parser(
        "bench",
        help="the policy lab: compare policies, fuzz budgets, measure overhead and throughput",
        add_help=False,
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    warm = commands.add_parser(
        "warm",
        help="the warm background process that keeps the embedded model loaded: status, "
        "start, stop",
        add_help=False,
    )
    warm.add_argument("warm_args", nargs=argparse.REMAINDER)
