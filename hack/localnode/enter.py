"""Runs inside a container's own mount namespace (`unshare --mount`): binds the pod's volumes
and termination message file at the paths the container asks for, then becomes the container's
process. Standalone on purpose: it runs before anything else in the container.

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


def main() -> None:
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    for bind in plan["mounts"]:
        ensure_mount_point(bind["source"], bind["target"])
        mount(bind["source"], bind["target"], MS_BIND | MS_REC)
        if bind["read_only"]:
            mount(None, bind["target"], MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)
    os.chdir(plan["cwd"])
    argv = plan["argv"]
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        # The kubelet reports a missing executable as exit code 127 with StartError.
        print(f"exec {argv[0]}: {error.strerror}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main()
