"""Who holds a bridge name: a lock file per name, held by the node agent for its whole life (and,
in a local cluster, by every process of the control plane too: its network namespace is named
after the bridge, so the name stays the cluster's until the last of its processes ends).

Launchers choose the lowest free `mlbrK`, so two clusters starting at the same moment used to
pick the same name; the second agent then deleted the first one's bridge as a leftover. Now a
launcher claims a name by taking its lock and creating the bridge (`ip link add` fails if the
name exists), and hands the locked file to its agent (`--bridge-lock-fd`) and control plane; an
agent started by hand takes the lock itself. The lock is an flock: the kernel drops it when the
last process holding the file ends, even on SIGKILL. Standard library only (the launcher uses it).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_DIR = Path("/run/mlops-localnode")


def lock_bridge(bridge: str) -> int | None:
    """Takes the lock of the bridge name; returns the locked file descriptor, or None when a
    live agent holds it. The descriptor is close-on-exec: pass it to a child explicitly."""
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    fd = os.open(LOCK_DIR / f"{bridge}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def holds_lock(fd: int, bridge: str) -> bool:
    """Whether fd is the bridge name's lock file, locked (a launcher's hand-over). Taking an
    flock again through a descriptor that holds it succeeds; through another one it would not."""
    try:
        if os.fstat(fd).st_ino != (LOCK_DIR / f"{bridge}.lock").stat().st_ino:
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except (OSError, BlockingIOError):
        return False
