"""The start of a script that times llama.cpp called directly on the embedded GGUF, the baseline
of ``bench startup`` and its first-answer timers."""

from __future__ import annotations

__all__ = ["LOAD"]

LOAD = """
import sys
import llama_cpp.llama_cpp as lib
from llama_cpp import Llama
_default = lib.llama_model_default_params
def _params():  # as the embedded server loads it: no extra weight buffers (AMX faults on VMs)
    chosen = _default()
    chosen.use_extra_bufts = False
    return chosen
lib.llama_model_default_params = _params
llm = Llama(model_path=sys.argv[1], n_ctx=2048, n_threads={threads}, verbose=False)
"""
"""Loads the GGUF in ``sys.argv[1]`` as ``llm``, as the embedded server does; ``{threads}`` is
formatted in. The timing scripts add their call after it."""
