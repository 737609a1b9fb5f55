"""The process tree of a run (Linux /proc): adopt what a worker leaves behind, and end it.

`make run`'s supervisor makes itself the child subreaper, so a dbt process whose parent (the
worker) died is re-parented to the supervisor instead of init, and `kill_descendants` still finds
it. No psutil: two /proc reads are all it takes, and this runs only where /proc exists.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def stat_fields(pid: int) -> list[str] | None:
    """The fields of `/proc/<pid>/stat` after the command name, from the state on (`proc(5)`
    field 3 is index 0), or None when there is no such process. The command name may hold spaces
    and parentheses, so the fields are counted from its last `)`."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := stat_fields(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int | None = None) -> list[int]:
    """Every process below `pid` (default: this process), children first in the order found."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(root, []))
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def send(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def kill_descendants(timeout: float = 5.0) -> bool:
    """SIGKILL every process below this one and wait until each has exited and been reaped, so
    none outlives the caller, not even as a zombie: an orphan re-parented to an init that does not
    reap (a container's PID 1 often does not) would stay in the process group for ever. A process
    may fork while we kill, and a killed process's children are re-parented to us (the
    subreaper) only once it has died, so it kills and reaps until nothing is left. False when
    something is still there after `timeout` seconds (a process stuck in the kernel)."""
    deadline = time.monotonic() + timeout
    while True:
        pids = descendants()
        for pid in pids:
            if (fields := stat_fields(pid)) and fields[0] != "Z":
                send(pid, signal.SIGKILL)
        reap_zombies()
        if not pids or not descendants():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def reap_zombies() -> None:
    """Collect the exit status of every child that has ended (never blocks)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
