"""Type-check the package as it is installed: ``agentthink`` with ``tools/`` and ``policies/`` as
``agentthink.tools`` and ``agentthink.policies``.

mypy finds modules by their folders and cannot follow setuptools' ``package-dir`` mapping, so
this builds the installed layout out of symlinks in a scratch folder (``agentthink/`` whose
entries point at the checkout's, plus ``tools`` and ``policies``), runs ``mypy`` there with the
checkout's ``pyproject.toml``, and shows the errors at the checkout's own paths. Extra arguments
go to mypy. Exit status: mypy's.

    python .ci/typecheck.py            # what `.ci/run` does
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPED = {"tools": ROOT / "tools", "policies": ROOT / "policies"}


def installed_layout(scratch: Path) -> Path:
    """``scratch/agentthink``: the package with its mapped folders inside, all symlinks."""
    package = scratch / "agentthink"
    package.mkdir()
    for entry in (ROOT / "agentthink").iterdir():
        if entry.name != "__pycache__" and entry.name not in MAPPED:
            (package / entry.name).symlink_to(entry)
    for name, folder in MAPPED.items():
        (package / name).symlink_to(folder)
    return package


def checkout_path(line: str) -> str:
    """A mypy output line with ``agentthink/tools/...`` shown as ``tools/...`` (likewise
    policies)."""
    for name in MAPPED:
        line = line.replace(f"agentthink/{name}/", f"{name}/")
    return line


def main(argv: list[str]) -> int:
    """Run mypy over the installed layout; print its report at the checkout's paths."""
    with tempfile.TemporaryDirectory(prefix="agentthink-typecheck-") as scratch:
        installed_layout(Path(scratch))
        command = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            *(argv or ["agentthink"]),
        ]
        done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        print(checkout_path(line))
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
