"""``agentthink warm status|start|stop``: see and control the warm process."""

from __future__ import annotations

import argparse
import sys
import time

from agentthink.cli.warm.client import START_TIMEOUT, connect, start_process
from agentthink.cli.warm.link import WarmPaths, receive, send, warm_paths

__all__ = ["warm_command"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentthink warm",
        description="The warm process keeps litellm, LangGraph and the embedded model loaded so "
        "`agentthink run` and `chat` start in about a second; it stops itself after "
        "AGENTTHINK_WARM_IDLE seconds (default 300) without a command. AGENTTHINK_WARM=0 or "
        "--no-warm runs commands without it.",
    )
    parser.add_argument(
        "action", nargs="?", default="status", choices=("status", "start", "stop"),
        help="status (default): is it running; start: start it now; stop: stop it",
    )  # fmt: skip
    return parser


def warm_command(argv: list[str]) -> int:
    """Show, start or stop the warm process; the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code not in (0, None) else 0
    paths = warm_paths()
    if paths is None:
        print("error: no private directory for the warm process's socket", file=sys.stderr)
        return 1
    if args.action == "start":
        return _start(paths)
    reply = _ask(paths, args.action)
    if reply is None:
        print("warm process: not running")
        return 0
    if args.action == "stop":
        return _stop(paths, reply)
    print(_status_line(reply))
    return 0


def _ask(paths: WarmPaths, command: str) -> dict[str, object] | None:
    sock = connect(paths)
    if sock is None:
        return None
    with sock:
        send(sock, {"command": command})
        return receive(sock)


def _status_line(reply: dict[str, object]) -> str:
    uptime = float(str(reply.get("uptime", 0)))
    embedded = reply.get("embedded") or "not loaded"
    return (
        f"warm process: pid {reply.get('pid')}, up {uptime:.0f} s, {reply.get('running')} "
        f"running, {reply.get('served')} served, stops after "
        f"{float(str(reply.get('idle_timeout', 0))):.0f} s idle; embedded model {embedded}"
    )


def _start(paths: WarmPaths) -> int:
    if connect(paths) is not None:
        print("warm process: already running")
        return 0
    process = start_process(paths)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        sock = connect(paths)
        if sock is not None:
            sock.close()
            reply = _ask(paths, "status")
            print(_status_line(reply) if reply else "warm process: started")
            return 0
        if process.poll() not in (None, 0):
            break
        time.sleep(0.05)
    print(f"error: the warm process did not start; see {paths.log}", file=sys.stderr)
    return 1


def _stop(paths: WarmPaths, reply: dict[str, object]) -> int:
    deadline = time.monotonic() + 10.0
    while paths.socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    running = reply.get("running") or 0
    more = f"; {running} running command(s) finish first" if running else ""
    print(f"warm process {reply.get('pid')}: stopping{more}")
    return 0
