"""No function in the package is longer than 80 lines (the benchmarks in ``agentthink/bench/``
excepted): a longer one is split into named steps."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 80


def long_functions(folder: Path, limit: int = LIMIT) -> list[str]:
    """``path:line name (N lines)`` for each function under ``folder`` longer than ``limit``
    lines (decorators not counted; bench/ skipped)."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        if "bench" in path.relative_to(folder).parts[:-1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    found.append(
                        f"{path.relative_to(folder.parent)}:{node.lineno} {node.name} ({lines} lines)"
                    )
    return found


def test_no_function_is_over_80_lines() -> None:
    found = [
        f for folder in ("agentthink", "tools", "policies") for f in long_functions(ROOT / folder)
    ]
    assert not found, "split these into named steps:\n" + "\n".join(found)


def test_a_long_function_is_found(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "m.py").write_text(f"def short():\n    pass\n\n\ndef long():\n{body}\n")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "b.py").write_text(f"def long():\n{body}\n")
    assert long_functions(tmp_path) == [f"{tmp_path.name}/m.py:5 long ({LIMIT + 1} lines)"]
