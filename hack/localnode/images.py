"""Which container images the local node can run, and with what.

There is no container runtime: an image maps to a local Python environment. python:3.x images and
the project's runtime image run with the node agent's own interpreter, whose environment has the
project (and its runtime extra) installed. Any other image shows a Waiting container with reason
ImageNotRunnableLocally.
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

RUNTIME_IMAGE_REPOSITORY = "ghcr.io/mlops-operator/runtime"
PYTHON_IMAGE = re.compile(r"^(docker\.io/)?(library/)?python(:3(\.\d+)*([-.][\w.-]+)?)?(@sha256:[0-9a-f]+)?$")
RUNTIME_IMAGE = re.compile(rf"^{re.escape(RUNTIME_IMAGE_REPOSITORY)}(:[\w.-]+)?(@sha256:[0-9a-f]+)?$")
PYTHON_COMMANDS = re.compile(r"^(/usr(/local)?/bin/)?python(3(\.\d+)?)?$")


@dataclass(frozen=True)
class Runtime:
    """A local stand-in for an image."""

    python: str
    default_command: tuple[str, ...]

    @property
    def bin_dir(self) -> str:
        return str(Path(self.python).parent)

    def executable(self, command: str) -> str:
        """The local program for the image's command: its python is ours; others come from PATH."""
        return self.python if PYTHON_COMMANDS.match(command) else command


def runtime_for(image: str, python: str = sys.executable) -> Runtime | None:
    if PYTHON_IMAGE.match(image):
        return Runtime(python=python, default_command=("python3",))
    if RUNTIME_IMAGE.match(image):
        return Runtime(python=python, default_command=("python3", "-m", "mlops_operator.runtime"))
    return None
