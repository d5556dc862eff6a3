"""Every example runs offline on the embedded SmolLM2 model, as a user would run it."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="the 'local' extra (llama-cpp-python) is not installed")

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


@pytest.mark.local_model
@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(example: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=240, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "answer" in done.stdout


def test_there_are_examples() -> None:
    assert {p.stem for p in EXAMPLES} >= {
        "embed_in_app",
        "custom_policy",
        "custom_tool",
        "best_of_n_verifier",
        "strategy_menu",
        "compute_optimal",
    }
