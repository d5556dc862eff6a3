"""The Python sandbox's seccomp filter, built by libseccomp in the agent's process.

libseccomp (through ``pyseccomp``, a ctypes binding with libseccomp's own Python API; the
``sandbox`` extra installs it, the system needs ``libseccomp2``) turns the rules below into a
BPF program for this machine's architecture. The bootstrap, which cannot import packages, only
loads those bytes (``_sandbox_confine.seal``). Everything is allowed except:

- new namespaces and joining others' (``unshare``, ``setns``, ``clone`` with a namespace flag;
  ``clone3``, whose flags a filter cannot see, answers ENOSYS so libc falls back to ``clone``);
- mounting (``mount``, ``umount2``, ``pivot_root``, the new mount API, ``chroot``);
- reaching into other processes (``ptrace``, ``process_vm_*``, ``pidfd_getfd``, ``kcmp``);
- kernel facilities with a record of privilege escalations: keyrings (``keyctl``,
  ``add_key``, ``request_key``), ``bpf``, ``perf_event_open``, ``userfaultfd``, ``io_uring``;
- administration (modules, ``kexec``, ``reboot``, swap, ``acct``, ``syslog``, clocks,
  file handles) and terminal input injection (``ioctl`` ``TIOCSTI``/``TIOCLINUX``);
- with ``allow_fork=False``: any new process (``fork``, ``vfork``, ``clone`` without
  ``CLONE_THREAD``); threads stay possible.

Refused calls fail with EPERM; a call from another architecture's ABI kills the process.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import tempfile
from collections.abc import Iterable
from typing import Any

__all__ = ["DENIED_SYSCALLS", "seccomp_filter", "seccomp_missing", "syscall_numbers"]

DENIED_SYSCALLS = (
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
    "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "syslog", "quotactl", "lookup_dcookie",
    "open_by_handle_at", "name_to_handle_at", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "iopl", "ioperm", "vhangup",
)  # fmt: skip
"""System calls the sandboxed program may not make (EPERM)."""
_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000,
                    0x40000000)  # fmt: skip  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
_CLONE_THREAD = 0x00010000
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C


def _binding() -> Any:
    """The ``pyseccomp`` module, or the reason it cannot be used."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: no libseccomp.so
        return f"{type(exc).__name__}: {exc}"
    return pyseccomp


def seccomp_missing() -> str | None:
    """Why the filter cannot be built here (and how to fix it), or None when it can."""
    binding = _binding()
    if not isinstance(binding, str):
        return None
    return (
        f"no seccomp filter ({binding}); install the binding and the library: "
        "pip install 'agentthink[sandbox]' and apt-get install libseccomp2"
    )


def _deny(rules: Any, name: str, action: int, *args: Any) -> None:
    with contextlib.suppress(ValueError, OSError):  # a call this architecture lacks
        rules.add_rule(action, name, *args)


@functools.cache
def seccomp_filter(*, allow_fork: bool) -> bytes | None:
    """The filter as a BPF program for this machine, or None without libseccomp."""
    seccomp = _binding()
    if isinstance(seccomp, str):
        return None
    eperm = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    rules.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    for name in DENIED_SYSCALLS:
        _deny(rules, name, eperm)
    for flag in _NAMESPACE_FLAGS:
        _deny(rules, "clone", eperm, seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    _deny(rules, "clone3", seccomp.ERRNO(errno.ENOSYS))
    for request in (_TIOCSTI, _TIOCLINUX):
        _deny(rules, "ioctl", eperm, seccomp.Arg(1, seccomp.EQ, request))
    if not allow_fork:
        for name in ("fork", "vfork"):
            _deny(rules, name, eperm)
        no_thread = seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_THREAD, 0)
        _deny(rules, "clone", eperm, no_thread)
    with tempfile.TemporaryFile() as out:
        rules.export_bpf(out)
        out.seek(0)
        return out.read()


def syscall_numbers(names: Iterable[str]) -> dict[str, int]:
    """The native numbers of system calls (for tests that make them directly)."""
    seccomp = _binding()
    if isinstance(seccomp, str):
        raise RuntimeError(seccomp)
    arch = seccomp.system_arch()
    return {name: int(seccomp.resolve_syscall(arch, name)) for name in names}
