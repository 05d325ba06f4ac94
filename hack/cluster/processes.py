"""The cluster's processes: spawn in a session of their own (in a network namespace, for the
control plane), check, stop by process group, and find what was left behind (processes, pod
processes of the node agent)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from localnode.identity import NODE_MARKER

STOP_GRACE_SECONDS = 15


def spawn(argv: list[str], log_path: Path, cwd: Path | None = None, pass_fds: tuple[int, ...] = (),
          netns: str | None = None, env: dict[str, str] | None = None) -> int:
    """Starts a component in a session of its own (so the launcher can exit, and a stop can signal
    the whole group), its output appended to log_path, in the named network namespace if given,
    with env as its whole environment if given (else ours); returns its pid. `ip netns exec` execs
    the component in place (no fork), so the pid and the process group are the component's own."""
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=cwd, pass_fds=pass_fds, env=env)
    return process.pid


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        pass
    try:  # not our child: alive unless it is a zombie; it may also vanish while we look
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return not alive(pid)


def stop_process_group(pid: int, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the component's process group, SIGKILL what is left after the grace period."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        if wait_gone(pid, wait):
            return


def node_processes(node_identity: str) -> list[int]:
    """Processes the node agent started (its marker, NAME.BRIDGE, is in their environment)."""
    marker = f"{NODE_MARKER}={node_identity}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found
