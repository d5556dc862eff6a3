"""OS-level confinement steps of the Python sandbox, run by the bootstrap (stdlib + ctypes only).

Like ``_sandbox_boot`` this is not imported by agentthink at run time: its source is handed to
the bootstrap's interpreter (``python -I -S``), which cannot import agentthink. Two steps:

- ``make_filesystem`` (in the namespace's init, still privileged there): a private copy of the
  mount table, every mount made read-only, one small tmpfs (``scratch_bytes``) shared by
  ``/tmp``, ``/var/tmp`` and ``/dev/shm`` holding the working directory, the interpreter's
  folders made reachable when a private folder such as ``/root`` hides them, and a fresh
  ``/proc`` for the new PID namespace. Everything disappears with the namespace.
- ``seal`` (in the program's process, just before ``exec``): capability bounding set and
  ambient set emptied, ``no_new_privs`` set, then the seccomp filter (a BPF program built by
  libseccomp in the agent, see ``sandbox_seccomp``) loaded.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 0x1
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new syscalls are unified)
PR_SET_SECCOMP, SECCOMP_MODE_FILTER, PR_SET_NO_NEW_PRIVS = 22, 2, 38
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
SCRATCH_DIRS = {"/tmp": "tmp", "/var/tmp": "var-tmp", "/dev/shm": "shm"}
"""Where the scratch tmpfs is seen, and the folder of it each place shows."""


class ConfineError(Exception):
    """A confinement step failed; the message says which."""


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _check(result: int, what: str) -> None:
    if result != 0:
        raise ConfineError(f"{what}: {os.strerror(ctypes.get_errno())}")


def _mount(libc: Any, source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:  # fmt: skip
    def encode(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    result = libc.mount(encode(source), target.encode(), encode(fstype), flags, encode(data))
    _check(result, f"mount {fstype or source} on {target}")


def _read_only_everywhere(libc: Any) -> None:
    """Make every mount of this (private) mount namespace read-only, recursively."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    result = libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(attr),
                          ctypes.sizeof(attr))  # fmt: skip
    _check(result, "make the file system read-only (mount_setattr, Linux 5.12+)")


def _bind_read_only(libc: Any, source: str, target: str) -> None:
    _mount(libc, source, target, None, MS_BIND | MS_REC)
    _mount(libc, None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _scratch(libc: Any, size: int) -> None:
    """One tmpfs of ``size`` bytes, seen at /tmp, /var/tmp and /dev/shm."""
    _mount(libc, "agentthink-scratch", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={size},mode=0755")  # fmt: skip
    for folder in SCRATCH_DIRS.values():
        os.mkdir(f"/tmp/{folder}")
        os.chmod(f"/tmp/{folder}", 0o1777)
    for place, folder in reversed(SCRATCH_DIRS.items()):  # /tmp last: it hides the tmpfs root
        if os.path.isdir(place):
            _mount(libc, f"/tmp/{folder}", place, None, MS_BIND)


def _blocking_ancestor(path: str) -> str | None:
    """The outermost folder above ``path`` that other users cannot pass through."""
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts)):
        folder = "/" + "/".join(parts[:depth])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def _under_scratch(path: str) -> bool:
    return any(path.startswith(place + "/") for place in SCRATCH_DIRS)


def _open_for_exposure(paths: list[str]) -> list[tuple[str, int, str | None]]:
    """Open each folder to expose (before any mount hides it), with what blocks it."""
    handles = []
    for path in paths:
        try:
            fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue  # an interpreter without that folder: nothing to show
        handles.append((path, fd, _blocking_ancestor(path)))
    return handles


def _expose(libc: Any, handles: list[tuple[str, int, str | None]], cover: bool) -> None:
    """Bind each opened folder back at its own path, over a covering tmpfs where needed.

    A folder under the scratch space is hidden by it; one below a private folder (``/root``
    is 0700) is not reachable by the sandbox's own uid (``cover``: root mode). Covering the
    private folder with an empty tmpfs and binding only the needed folders into it shows
    those folders and nothing else.
    """
    covered: set[str] = set()
    for path, fd, found in handles:
        blocker = found if cover else None
        if blocker is None and not _under_scratch(path):
            os.close(fd)
            continue
        if blocker is not None and not _under_scratch(blocker) and blocker not in covered:
            _mount(libc, "agentthink-cover", blocker, "tmpfs", MS_NOSUID | MS_NODEV,
                   "size=1m,mode=0755")  # fmt: skip
            covered.add(blocker)
        old_umask = os.umask(0o022)
        os.makedirs(path, exist_ok=True)
        os.umask(old_umask)
        _bind_read_only(libc, f"/proc/self/fd/{fd}", path)
        os.close(fd)


def make_filesystem(cfg: dict[str, Any], libc: Any, uid: int | None) -> None:
    """Build the sandbox's view of the file system (see the module docstring)."""
    with open(cfg["script"], "rb") as fh:
        code = fh.read()  # the host's scratch folder is hidden below
    handles = _open_for_exposure(cfg["expose"])
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    _read_only_everywhere(libc)
    _scratch(libc, int(cfg["scratch_bytes"]))
    _expose(libc, handles, cover=uid is not None)
    _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    workdir = cfg["workdir"]
    os.mkdir(workdir, 0o700)
    with open(os.path.join(workdir, "main.py"), "wb") as fh:
        fh.write(code)
    os.chmod(os.path.join(workdir, "main.py"), 0o644)
    if uid is not None:
        os.chown(workdir, uid, uid)
        os.chown(os.path.join(workdir, "main.py"), uid, uid)


def drop_capability_bounds(libc: Any) -> None:
    """Empty the capability bounding set (needs CAP_SETPCAP: call before giving up root)."""
    with open("/proc/sys/kernel/cap_last_cap") as fh:
        last = int(fh.read())
    for cap in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")


def seal(libc: Any, bpf: bytes | None) -> None:
    """No ambient capabilities, no new privileges, and the seccomp filter (last step)."""
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient caps")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")
    if bpf:
        program = ctypes.create_string_buffer(bpf, len(bpf))
        fprog = _SockFprog(len(bpf) // 8, ctypes.addressof(program))
        result = libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)
        _check(result, "load the seccomp filter")
