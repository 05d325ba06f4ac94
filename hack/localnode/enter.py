"""Runs inside a container's own mount namespace (`unshare --mount`): binds the pod's volumes
and termination message file at the paths the container asks for, then becomes the container's
process. Standalone on purpose: it runs before anything else in the container.

Every source is opened before the first mount and bound from its descriptor, so a mount over /tmp
cannot hide the next volume's source when the node's pod folders live under /tmp. The image's
folders (the interpreter's environment and the project) that a mount hides are bound back on top
of it, read-only, as a real container keeps seeing its image's files under its volumes.

    unshare --mount --propagation private -- python3 enter.py PLAN.json
"""

import ctypes
import json
import os
import sys

MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC = 1, 32, 4096, 16384
libc = ctypes.CDLL(None, use_errno=True)


def mount(source: str | None, target: str, flags: int) -> None:
    if libc.mount(source.encode() if source else None, target.encode(), None, flags, None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


def ensure_mount_point(source: str, target: str) -> None:
    # Like a container runtime creating a mount point the image lacks: an empty folder or file.
    if os.path.exists(target):
        return
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()


def bind(fd: int, target: str, read_only: bool) -> None:
    source = f"/proc/self/fd/{fd}"
    ensure_mount_point(source, target)
    mount(source, target, MS_BIND | MS_REC)
    if read_only:
        mount(None, target, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)


def is_under(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def main() -> None:
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    sources = [os.open(m["source"], os.O_PATH) for m in plan["mounts"]]
    image = {path: os.open(path, os.O_PATH) for path in plan["image_paths"]}
    cwd = os.open(plan["cwd"], os.O_PATH) if os.path.isdir(plan["cwd"]) else None
    for fd, volume in zip(sources, plan["mounts"], strict=True):
        bind(fd, volume["target"], volume["read_only"])
    targets = [m["target"] for m in plan["mounts"]]
    for path, fd in image.items():
        if any(is_under(path, target) for target in targets):
            bind(fd, path, read_only=True)
    # The container's own view first (a workingDir inside a volume), else the folder the node chose.
    try:
        os.chdir(plan["cwd"])
    except OSError:
        if cwd is None:
            raise
        os.fchdir(cwd)
    argv = plan["argv"]
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        # The kubelet reports a missing executable as exit code 127 with StartError.
        print(f"exec {argv[0]}: {error.strerror}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main()
