"""Both install kinds hold the whole package: the wheel, and the editable install CI runs in.

1. Build the wheel (``pip wheel --no-deps``) and check that it holds every module of the
   checkout under its import name (``tools/x.py`` as ``agentthink/tools/x.py``, likewise
   ``policies/``) and the data files (``py.typed``, the run viewer, the lab's worlds).
2. Install it (``--no-deps``) in a scratch venv that sees this interpreter's packages (the
   dependencies) through a ``.pth`` line, and there, from a folder outside the checkout, import
   ``agentthink.tools`` and ``agentthink.policies`` from the wheel and run one agent on a
   ``ScriptedModel`` that calls the calculator and answers.
3. In this interpreter (the editable install), from outside the checkout, the same agent, with
   ``agentthink.tools`` and ``agentthink.policies`` coming from the checkout's folders.

Run with the interpreter of the environment to check, e.g. ``.venv/bin/python
.ci/wheel_check.py``. Needs no network beyond what ``pip wheel`` needs for the build backend.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPED = {"tools": "agentthink/tools", "policies": "agentthink/policies"}
DATA = ("agentthink/py.typed", "agentthink/service/viewer/index.html")

AGENT_RUN = """
import sys
from pathlib import Path

import agentthink.policies
import agentthink.tools
from agentthink import Agent, Budget
from agentthink.policies.registry import get_policy
from agentthink.testing import ScriptedCall, ScriptedModel, ScriptedTurn
from agentthink.tools.builtins import calculator_tool

where = Path(sys.argv[1]).resolve()
for module in (agentthink, agentthink.tools, agentthink.policies):
    found = Path(module.__file__).resolve()
    assert found.is_relative_to(where), f"{module.__name__} came from {found}, not from {where}"
model = ScriptedModel([
    ScriptedTurn(tool_calls=(ScriptedCall("calculator", {"expression": "6*7"}),)),
    ScriptedTurn(text="6*7 is 42."),
])
agent = Agent(model, tools=[calculator_tool()], policy=get_policy("adaptive"),
              budget=Budget(max_steps=4))
result = agent.run_sync("What is 6*7?")
assert result.answer == "6*7 is 42.", result
assert result.usage.tool_calls == 1, result.usage
print(f"ok: {agentthink.tools.__file__} answered {result.answer!r}")
"""


def expected_files() -> set[str]:
    """Every module and data file of the checkout, at its place in the wheel."""
    files = set(DATA)
    for py in (ROOT / "agentthink").rglob("*.py"):
        files.add(py.relative_to(ROOT).as_posix())
    for folder, target in MAPPED.items():
        for py in (ROOT / folder).rglob("*.py"):
            files.add(f"{target}/{py.relative_to(ROOT / folder).as_posix()}")
    for world in (ROOT / "agentthink" / "bench" / "worlds").glob("*.toml"):
        files.add(world.relative_to(ROOT).as_posix())
    return {f for f in files if "__pycache__" not in f}


def build_wheel(out: Path) -> Path:
    """The wheel of the checkout, built into ``out``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
    )
    [wheel] = out.glob("agentthink-*.whl")
    return wheel


def check_contents(wheel: Path) -> None:
    """Fail naming each module or data file the wheel lacks."""
    with zipfile.ZipFile(wheel) as archive:
        held = set(archive.namelist())
    missing = sorted(expected_files() - held)
    if missing:
        sys.exit(
            f"{wheel.name} lacks {len(missing)} file(s) of the checkout (list new packages in "
            "pyproject.toml's [tool.setuptools] packages):\n  " + "\n  ".join(missing)
        )
    print(f"ok: {wheel.name} holds all {len(expected_files())} modules and data files")


def scratch_venv(where: Path) -> Path:
    """A venv whose own site-packages comes first and that sees this interpreter's packages
    (agentthink's dependencies) after it; its python."""
    venv.EnvBuilder(with_pip=False).create(where)
    python = where / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "agentthink-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def run_agent(python: Path, package_root: Path, cwd: Path) -> None:
    """Run the scripted agent with ``python`` from ``cwd``; the package must come from
    ``package_root``."""
    subprocess.run([str(python), "-c", AGENT_RUN, str(package_root)], cwd=cwd, check=True)


def main() -> int:
    """Build, inspect, install and run; exit non-zero at the first failure."""
    with tempfile.TemporaryDirectory(prefix="agentthink-wheel-") as scratch:
        base = Path(scratch)
        wheel = build_wheel(base / "dist")
        check_contents(wheel)
        python = scratch_venv(base / "venv")
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
             str(wheel)],
            check=True,
        )  # fmt: skip
        elsewhere = base / "elsewhere"
        elsewhere.mkdir()
        run_agent(python, base / "venv", elsewhere)
        installed = editable_root(elsewhere)
        if installed != ROOT:
            sys.exit(
                f"{sys.executable} has agentthink from {installed}, not an editable install of "
                f"{ROOT}: run `{sys.executable} -m pip install --no-deps -e {ROOT}` first"
            )
        run_agent(Path(sys.executable), ROOT, elsewhere)
    return 0


def editable_root(cwd: Path) -> Path | None:
    """The checkout this interpreter imports agentthink from (outside ``cwd``), or None."""
    found = subprocess.run(
        [sys.executable, "-c", "import agentthink; print(agentthink.__file__)"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return Path(found).resolve().parent.parent if found else None


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        sys.exit(
            f"wheel check failed: {' '.join(map(str, exc.cmd[:4]))} ... exited {exc.returncode}"
        )
