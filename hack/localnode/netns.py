"""Sockets and sysctls of another network namespace, for a process that stays in its own.

setns(2) moves only the calling thread, and a socket belongs for life to the namespace it was
created in, whichever thread then uses it. So a short-lived thread enters the namespace, creates
the socket and ends; the caller binds, listens or connects with it as with any other. The same
thread can set the namespace's sysctls (/proc/sys/net is the calling thread's namespace's).

The node agent serves its logs endpoint on the control plane's loopback this way (the API server
dials the Node's address, 127.0.0.1, from its namespace); the launcher sets the control-plane
namespace's sysctls and probes kube-proxy's healthz there. Standard library only (the launcher
uses it).
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def namespace_path(name: str) -> str:
    return f"/run/netns/{name}"


def _setns(fd: int) -> None:
    if hasattr(os, "setns"):  # Python 3.12+
        os.setns(fd, CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns: {os.strerror(error)}")


def run_in(namespace: str, work: Callable[[], T]) -> T:
    """Runs work() on a thread that has entered the named network namespace (`ip netns` names it
    under /run/netns); returns its result or raises its exception. Sockets it creates stay in
    the namespace; /proc/sys/net is that namespace's for it."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with open(namespace_path(namespace)) as handle:
                _setns(handle.fileno())
            result.append(work())
        except BaseException as error:  # handed to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, name=f"in netns {namespace}")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def socket_in(namespace: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A new socket in the named network namespace."""
    return run_in(namespace, lambda: socket.socket(family, kind))


def http_get(namespace: str, host: str, port: int, path: str, timeout: float = 2) -> tuple[int, bytes]:
    """A plain HTTP GET to host:port inside the namespace (a health endpoint on its loopback)."""
    with socket_in(namespace) as sock:
        sock.settimeout(timeout)
        sock.connect((host, port))
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise ValueError(f"not an HTTP response from {host}:{port}{path}: {head[:80]!r}")
    return int(status_line[1]), body
