"""Which container images the local node can run, and with what.

There is no container runtime: an image maps to a local Python environment. python:3.x images and
the project's operator and runtime images run with the node agent's own interpreter, whose
environment has the project (and its runtime extra) installed. Any other image shows a Waiting
container with reason ImageNotRunnableLocally.

The environment's folders are the image's files: a container that mounts a volume over one of them
(an emptyDir on /tmp, with the repository checked out under /tmp) must still see them, as a real
container sees its image under its mounts (`Runtime.image_paths`, re-bound by enter.py).
"""

import functools
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RUNTIME_IMAGE_REPOSITORY = "ghcr.io/mlops-operator/runtime"
OPERATOR_IMAGE_REPOSITORY = "ghcr.io/mlops-operator/operator"
PYTHON_IMAGE = re.compile(r"^(docker\.io/)?(library/)?python(:3(\.\d+)*([-.][\w.-]+)?)?(@sha256:[0-9a-f]+)?$")


def _project_image(repository: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(repository)}(:[\w.-]+)?(@sha256:[0-9a-f]+)?$")


RUNTIME_IMAGE = _project_image(RUNTIME_IMAGE_REPOSITORY)
OPERATOR_IMAGE = _project_image(OPERATOR_IMAGE_REPOSITORY)
PYTHON_COMMANDS = re.compile(r"^(/usr(/local)?/bin/)?python(3(\.\d+)?)?$")


@dataclass(frozen=True)
class Runtime:
    """A local stand-in for an image."""

    python: str
    default_command: tuple[str, ...]

    @property
    def image_paths(self) -> tuple[str, ...]:
        return environment_paths(self.python)

    @property
    def bin_dir(self) -> str:
        return str(Path(self.python).parent)

    def executable(self, command: str) -> str:
        """The local program for the image's command: its python is ours; others come from PATH."""
        return self.python if PYTHON_COMMANDS.match(command) else command


@functools.cache
def environment_paths(python: str) -> tuple[str, ...]:
    """The folders the interpreter reads its standard library, packages and the (editable) project
    from: what an image would hold."""
    program = ("import json, pathlib, sys\n"
               "try:\n    import mlops_operator; project = [str(pathlib.Path(mlops_operator.__file__).parents[1])]\n"
               "except ImportError:\n    project = []\n"
               "print(json.dumps([sys.prefix, sys.base_prefix, *sys.path, *project]))")
    paths = json.loads(subprocess.run([python, "-I", "-c", program], check=True, capture_output=True,
                                      text=True).stdout)
    existing = {Path(p).resolve() for p in [*paths, str(Path(python).parent)] if p and Path(p).is_dir()}
    return tuple(sorted(str(p) for p in existing if not any(other in p.parents for other in existing)))


DEFAULT_COMMANDS = (
    (PYTHON_IMAGE, ("python3",)),
    (RUNTIME_IMAGE, ("python3", "-m", "mlops_operator.runtime")),
    (OPERATOR_IMAGE, ("python3", "-m", "mlops_operator")),
)


def runtime_for(image: str, python: str = sys.executable) -> Runtime | None:
    for pattern, default_command in DEFAULT_COMMANDS:
        if pattern.match(image):
            return Runtime(python=python, default_command=default_command)
    return None
