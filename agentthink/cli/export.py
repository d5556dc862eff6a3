"""``agentthink export SOURCE... -o FILE.jsonl``: run traces as fine-tuning data.

Its own parser, like ``bench``: ``agentthink.cli.main`` hands it ``argv`` after ``export``.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["export_main"]

_EPILOG = """\
sources: files written by `agentthink run --json` (one run per .json file, one per line in a
.jsonl file), folders of them, or the service's database (sqlite:///PATH, postgresql://...).

examples:
  agentthink run --json "What is 17*23?" > runs/q1.json
  agentthink export runs/ -o chat.jsonl
  agentthink export runs/ --format reasoning --star -o star.jsonl
  agentthink export sqlite:///agentthink-service.sqlite --accepted -o accepted.jsonl
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agentthink export",
        description="Write finished runs as a JSONL dataset: chat fine-tuning examples (OpenAI "
        "fine-tuning API, TRL) or question/reasoning/answer records. Runs cut by the budget "
        "and duplicates are left out; --accepted and --shortest make it STaR / rejection "
        "sampling data.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="run files, folders, databases")
    p.add_argument("-o", "--output", metavar="FILE", help="the JSONL file (default: stdout)")
    p.add_argument(
        "--format",
        choices=("chat", "reasoning"),
        default="chat",
        help='chat: {"messages": [...], "tools": [...]}; reasoning: question, reasoning, '
        "answer, tokens, verdict (default: chat)",
    )
    p.add_argument(
        "--accepted", action="store_true", help="only runs whose answer a verifier accepted"
    )
    p.add_argument(
        "--shortest",
        action="store_true",
        help="per question, only the trace with the fewest completion tokens",
    )
    p.add_argument("--star", action="store_true", help="both: --accepted --shortest")
    p.add_argument(
        "--keep-cut", action="store_true", help="keep runs a budget limit or an error stopped"
    )
    p.add_argument("--keep-duplicates", action="store_true", help="do not drop duplicates")
    p.add_argument(
        "--thinking",
        choices=("omit", "field", "inline"),
        default="omit",
        help="chat format: leave the reasoning out (the OpenAI API's form, default), put it in "
        "reasoning_content (Qwen3-style templates), or inline between <think> tags",
    )
    p.add_argument(
        "--tool-arguments",
        choices=("string", "object"),
        default="string",
        help="chat format: tool call arguments as a JSON string (OpenAI, default) or an object",
    )
    p.add_argument("--key", metavar="NAME", help="service databases: only this API key's runs")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return p


def export_main(argv: list[str]) -> int:
    """Run ``agentthink export`` with ``argv`` (without ``export``); the exit code."""
    from agentthink.cli import EXIT_OK, EXIT_USAGE, report_error

    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    try:
        return _export(args)
    except Exception as exc:
        if args.debug:
            raise
        return report_error(exc)


def _export(args: argparse.Namespace) -> int:
    from agentthink.cli import EXIT_ERROR, EXIT_OK
    from agentthink.export import DROP_REASONS, ExportOptions, export, read_runs

    options = ExportOptions(
        format=args.format,
        accepted_only=args.accepted or args.star,
        shortest=args.shortest or args.star,
        keep_cut=args.keep_cut,
        dedupe=not args.keep_duplicates,
        thinking=args.thinking,
        tool_arguments=args.tool_arguments,
    )
    skipped: list[str] = []
    records = read_runs(*args.sources, key_name=args.key, skipped=skipped)
    report = export(records, args.output or sys.stdout, options)
    dropped = ", ".join(
        f"{n} {DROP_REASONS[why]}" for why, n in sorted(report.dropped.items()) if n
    )
    print(
        f"export: {report.read} run{'s' if report.read != 1 else ''} read; wrote "
        f"{report.written} {args.format} example{'s' if report.written != 1 else ''} to "
        f"{args.output or 'stdout'}" + (f"; left out {dropped}" if dropped else ""),
        file=sys.stderr,
    )
    if skipped:
        print(
            f"export: skipped {len(skipped)} stored run(s) holding no conversation (finished "
            "before export existed, cancelled before they started, or failed outside the "
            f"agent), e.g. {skipped[0]}",
            file=sys.stderr,
        )
    if report.read and not report.written and options.accepted_only:
        print(
            "export: no run was accepted by a verifier: runs need Agent(verifier=...) "
            "(see the README's `agentthink export` section)",
            file=sys.stderr,
        )
    return EXIT_OK if report.read else EXIT_ERROR
