"""Run the embedded llama.cpp server so that it ends with the process that started it.

``python embedded_child.py PARENT_PID <llama_cpp.server arguments>``: a watchdog thread checks
once a second that the parent is still alive and exits when it is not, so a CLI killed by
SIGTERM or SIGKILL (which runs no clean-up) leaves no server behind. Started by path, not as
``-m agentthink...``, so the child imports nothing of agentthink.

llama.cpp's extra weight buffers (AMX tiles, repacking) are switched off: some VMs advertise
AMX without enabling its register state, and the first matrix product then dies with a general
protection fault in ``ggml_backend_amx_mul_mat`` (seen on a 2-core Xeon VM).
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
from typing import Any


def _watch(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _no_extra_buffers() -> None:
    """Load models without llama.cpp's extra buffer types (see the module docstring)."""
    import llama_cpp.llama_cpp as llama_cpp

    default = llama_cpp.llama_model_default_params

    def params() -> Any:
        chosen = default()
        chosen.use_extra_bufts = False
        return chosen

    llama_cpp.llama_model_default_params = params


def main() -> None:
    """Start the watchdog, then run ``llama_cpp.server`` with the remaining arguments."""
    parent = int(sys.argv[1])
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()
    _no_extra_buffers()
    sys.argv = ["llama_cpp.server", *sys.argv[2:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
