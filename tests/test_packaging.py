"""The package's layout without symlinks: ``tools/`` and ``policies/`` are mapped into it by
``pyproject.toml`` (``.ci/wheel_check.py`` builds and installs the wheel; these are the quick
checks)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPED = {"tools": "agentthink.tools", "policies": "agentthink.policies"}


def test_no_symlink_in_the_package() -> None:
    links = [
        str(p.relative_to(ROOT))
        for folder in ("agentthink", *MAPPED)
        for p in (ROOT / folder).rglob("*")
        if p.is_symlink()
    ]
    assert links == []


def test_pyproject_lists_every_package_under_its_import_name() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    listed = set(config["setuptools"]["packages"])
    assert config["setuptools"]["package-dir"] == {v: k for k, v in MAPPED.items()}
    found = set()
    for folder, name in {"agentthink": "agentthink", **MAPPED}.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join([name, *parts]))
    assert found == listed, f"add to pyproject.toml's packages: {sorted(found - listed)}"


def test_a_checkout_finds_its_own_tools_and_policies(tmp_path: Path) -> None:
    """Imported from this checkout (not installed from it), agentthink.tools and
    agentthink.policies are this checkout's folders, whatever editable install is present."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import agentthink.tools.builtins, agentthink.policies.registry as r; "
        "print(agentthink.tools.builtins.__file__); print(r.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    tools, policies = done.stdout.split()
    assert Path(tools) == ROOT / "tools" / "builtins" / "__init__.py"
    assert Path(policies) == ROOT / "policies" / "registry.py"
