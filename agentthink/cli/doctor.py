"""``agentthink doctor``: check the environment and say what to fix."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
from dataclasses import dataclass

__all__ = ["Check", "doctor_command", "run_checks", "sandbox_check"]


@dataclass(frozen=True)
class Check:
    """One check: ``ok``, ``warn`` or ``fail``, what was found, and the fix."""

    name: str
    status: str
    found: str
    fix: str = ""


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def run_checks(model: str | None, api_base: str | None, api_key: str | None) -> list[Check]:
    """Every check, in order."""
    checks: list[Check] = []
    version = _version("litellm")
    checks.append(
        Check("litellm", "ok", f"litellm {version}")
        if version
        else Check("litellm", "fail", "litellm is not installed", "pip install agentthink")
    )
    embedded_needed = model is None
    level = "fail" if embedded_needed else "warn"
    llama = _version("llama_cpp_python")
    if llama and importlib.util.find_spec("llama_cpp") is not None:
        checks.append(Check("llama-cpp-python", "ok", f"llama-cpp-python {llama}"))
    else:
        checks.append(
            Check(
                "llama-cpp-python",
                level,
                "not installed (the embedded model needs it)",
                "pip install 'agentthink[local]' (builds llama.cpp, several minutes), "
                "or set a model with --model / AGENTTHINK_MODEL",
            )
        )
    from agentthink.errors import ConfigurationError
    from agentthink.models.embedded import embedded_gguf_path

    try:
        path = embedded_gguf_path()
        size = path.stat().st_size / 1e6
        checks.append(Check("embedded model", "ok", f"{path} ({size:.0f} MB)"))
    except ConfigurationError as exc:
        checks.append(Check("embedded model", level, "SmolLM2 GGUF not found", str(exc)))
    if model is None:
        checks.append(
            Check(
                "model",
                "ok",
                "none configured: the embedded SmolLM2-135M demo model is used",
                "for real work set AGENTTHINK_MODEL (e.g. anthropic/claude-sonnet-4-5)",
            )
        )
        return checks
    checks.extend(_model_checks(model, api_base, api_key))
    return checks


def _model_checks(model: str, api_base: str | None, api_key: str | None) -> list[Check]:
    from agentthink.testing.script_file import SCRIPTED_PREFIX

    if model.startswith(SCRIPTED_PREFIX):
        from agentthink.errors import ConfigurationError
        from agentthink.testing.script_file import load_scripted_model

        try:
            load_scripted_model(model)
        except ConfigurationError as exc:
            return [Check("model", "fail", model, str(exc))]
        return [Check("model", "ok", f"{model} (scripted, no network)")]
    from agentthink.errors import UnknownModelError
    from agentthink.models import missing_keys, provider_of
    from agentthink.models.profiles import resolve_profile

    profile, litellm_model = resolve_profile(model)
    checks: list[Check] = []
    try:
        provider = provider_of(litellm_model, api_base)
    except UnknownModelError as exc:
        return [Check("model", "fail", f"{model}: no provider", str(exc))]
    checks.append(Check("model", "ok", f"{model} (provider {provider}; {profile.description})"))
    if api_key:
        checks.append(Check("API key", "ok", "given by --api-key / AGENTTHINK_API_KEY"))
    elif api_base:
        checks.append(Check("API key", "ok", f"none needed for a server at {api_base} (probably)"))
    else:
        missing = missing_keys(litellm_model)
        if missing:
            checks.append(
                Check(
                    "API key",
                    "fail",
                    f"{' and '.join(missing)} not set",
                    f"export {missing[0]}=... (or set AGENTTHINK_API_KEY)",
                )
            )
        else:
            checks.append(Check("API key", "ok", "the provider's keys are set"))
    if api_base:
        checks.append(_reach(api_base))
    return checks


def _reach(api_base: str) -> Check:
    import httpx

    url = api_base.rstrip("/") + "/models"
    try:
        response = httpx.get(url, timeout=3.0)
    except httpx.HTTPError as exc:
        return Check(
            "server",
            "fail",
            f"{api_base} does not answer ({type(exc).__name__})",
            "start the server, or fix --api-base / AGENTTHINK_API_BASE",
        )
    return Check("server", "ok", f"{api_base} answers (HTTP {response.status_code} on /models)")


def sandbox_check(python: str | None, cgroup: str | None) -> Check:
    """What the python tool's sandbox holds here, from one real (tiny) run."""
    import asyncio
    import sys

    if sys.platform != "linux":
        return Check("python sandbox", "warn", "Linux only", "run the agent on Linux to use it")
    from agentthink.errors import ToolError
    from agentthink.tools.builtins.sandbox import probe_protections

    try:
        lines = asyncio.run(probe_protections(python, cgroup))
    except ToolError as exc:
        return Check("python sandbox", "warn", str(exc), "see the python tool's documentation")
    missing = [line.removeprefix("missing: ") for line in lines if line.startswith("missing:")]
    held = "; ".join(line.removeprefix("held: ") for line in lines if line.startswith("held:"))
    if missing:
        return Check("python sandbox", "warn", held, "; ".join(missing))
    return Check("python sandbox", "ok", held)


def doctor_command(args: argparse.Namespace) -> int:
    """Print every check; exit 1 when one failed."""
    from agentthink.cli import EXIT_ERROR, EXIT_OK
    from agentthink.config import load_settings

    settings = load_settings(args.config, model=args.model, api_base=args.api_base)
    marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
    checks = run_checks(settings.model, settings.api_base, settings.api_key)
    checks.append(sandbox_check(settings.sandbox_python, settings.sandbox_cgroup))
    for check in checks:
        print(f"[{marks[check.status]}] {check.name}: {check.found}")
        if check.fix and check.status != "ok":
            print(f"       fix: {check.fix}")
        elif check.fix:
            print(f"       note: {check.fix}")
    failed = [c for c in checks if c.status == "fail"]
    print("all good" if not failed else f"{len(failed)} problem(s) to fix")
    return EXIT_ERROR if failed else EXIT_OK
