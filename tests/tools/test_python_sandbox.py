"""python: programs run in a limited, separate process; bombs end the call, not the agent.

Each test checks afterwards that no process of the run is left (a fork bomb that escaped would
show up here). Limits are kept small so the whole file takes a few seconds.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from agentthink.errors import ToolError
from agentthink.models.turn import ToolCall
from agentthink.tools import Tool, ToolRunner
from agentthink.tools.builtins import python_tool
from agentthink.tools.builtins.sandbox import run_sandboxed, sandbox_processes
from agentthink.tools.builtins.sandbox_limits import memory_guard

from .conftest import LoopbackServer, send

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")


def leftovers() -> list[str]:
    """Command lines of live processes still running a sandboxed program."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if "agentthink-py-" in cmdline and state != "Z":
            found.append(cmdline)
    return found


@pytest.fixture(autouse=True)
def nothing_left_behind() -> object:
    yield None
    deadline = time.monotonic() + 2
    while (leftovers() or sandbox_processes()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers() == [] and sandbox_processes() == []


def run_tool(**options: object) -> Tool:
    return python_tool(needs_approval=False, **options)  # type: ignore[arg-type]


async def test_prints_come_back() -> None:
    assert await run_tool().invoke({"code": "print(sum(range(10)))"}) == "45"


async def test_fresh_directory_minimal_environment_and_imports_allowed() -> None:
    code = (
        "import os, json\n"
        "mod = __import__('math')\n"
        "open('note.txt', 'w').write('x')\n"
        "print(json.dumps({'cwd': os.getcwd(), 'env': sorted(os.environ),"
        " 'files': os.listdir('.'), 'uid': os.getuid(), 'pi': mod.pi > 3}))"
    )
    import json

    out = json.loads(await run_tool().invoke({"code": code}))
    assert set(out["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_CTYPE"}
    assert sorted(out["files"]) == ["main.py", "note.txt"] and out["pi"] is True
    assert "agentthink-py-" in out["cwd"]
    assert not await asyncio.to_thread(Path(out["cwd"]).exists)  # deleted afterwards
    if os.geteuid() == 0:
        assert out["uid"] != 0  # root runs programs as an unprivileged uid


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop happens only for root")
async def test_root_privileges_are_gone() -> None:
    with pytest.raises(ToolError, match="PermissionError"):
        await run_tool().invoke({"code": "import os\nos.setuid(0)"})


async def test_exceptions_come_back_as_errors_with_the_traceback() -> None:
    with pytest.raises(ToolError) as info:
        await run_tool().invoke({"code": "print('before')\n1 / 0"})
    message = str(info.value)
    assert message.startswith("the program exited with status 1.")
    assert "before" in message and "ZeroDivisionError: division by zero" in message


async def test_infinite_loop_hits_the_wall_clock() -> None:
    start = time.perf_counter()
    with pytest.raises(ToolError, match=r"wall-clock limit of 1\.5s"):
        await run_tool(timeout=1.5).invoke({"code": "print('spinning')\nwhile True: pass"})
    assert time.perf_counter() - start < 5


async def test_cpu_limit_kills_a_busy_program() -> None:
    with pytest.raises(ToolError, match="resource limit"):
        await run_tool(timeout=10, cpu_seconds=1).invoke({"code": "while True: pass"})


async def test_memory_bomb_gets_memory_error() -> None:
    start = time.perf_counter()
    with pytest.raises(ToolError, match="MemoryError"):
        await run_tool(memory_mb=256).invoke(
            {"code": "blocks = []\nwhile True: blocks.append(bytearray(50 * 2**20))"}
        )
    assert time.perf_counter() - start < 5


async def test_fork_bomb_is_contained() -> None:
    start = time.perf_counter()
    with pytest.raises(ToolError):
        await run_tool(timeout=5, max_processes=16).invoke(
            {"code": "import os\nwhile True: os.fork()"}
        )
    assert time.perf_counter() - start < 8


async def test_stubborn_fork_bomb_and_escaping_children_are_all_killed() -> None:
    code = (
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(120)\n"
        "        os._exit(0)\n"
        "while True:\n"
        "    try:\n"
        "        os.fork()\n"
        "    except OSError:\n"
        "        pass\n"
    )
    outcome = await run_sandboxed(code, wall_seconds=1.5, max_processes=16)
    if memory_guard().kind == "one-process":  # no cgroup: the program may not fork at all
        refused = ("Operation not permitted", "Resource temporarily unavailable")  # seccomp, nproc
        assert any(reason in outcome.output for reason in refused), outcome.output
    else:
        assert outcome.timed_out


async def test_output_is_capped_head_and_tail() -> None:
    code = "print('START')\nprint('x' * 200000)\nprint('END')"
    out = await run_tool(max_output_chars=1000).invoke({"code": code})
    assert out.startswith("START") and out.endswith("END")
    assert "bytes of output removed" in out and len(out) < 1200


async def test_flooding_output_stops_the_program() -> None:
    start = time.perf_counter()
    with pytest.raises(ToolError, match="far more output"):
        await run_tool(timeout=10, max_output_chars=1000).invoke(
            {"code": "while True: print('y' * 1000)"}
        )
    assert time.perf_counter() - start < 5


async def test_block_network(http_server: LoopbackServer) -> None:
    http_server.routes["/"] = lambda h: send(h, "reachable")
    code = (
        "import urllib.request\n"
        f"print(urllib.request.urlopen('{http_server.url('/')}', timeout=2).read().decode())"
    )
    try:
        blocked = run_tool(block_network=True)
        with pytest.raises(ToolError) as info:
            await blocked.invoke({"code": code})
    except ToolError as exc:  # pragma: no cover - depends on the host
        pytest.skip(f"network namespaces unavailable: {exc}")
    if "sandbox could not start" in str(info.value):  # pragma: no cover - depends on the host
        pytest.skip(str(info.value))
    assert "URLError" in str(info.value) or "unreachable" in str(info.value).lower()
    assert await run_tool().invoke({"code": code}) == "reachable"


async def test_needs_approval_by_default() -> None:
    tool = python_tool()
    assert tool.needs_approval
    [result] = await ToolRunner([tool]).run([ToolCall("c1", "python", {"code": "print(1)"}, "{}")])
    assert result.error_kind == "denied"
