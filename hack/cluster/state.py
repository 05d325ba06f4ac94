"""Where the local cluster keeps things, and its state file (standard library only)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

HACK = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("MLOPS_CACHE_DIR", Path.home() / ".cache" / "mlops-operator"))
DEFAULT_STATE_DIR = CACHE / "cluster"
NODE_NAME = "local-node"


@dataclass
class Component:
    name: str
    pid: int
    port: int  # where it serves, in the control-plane namespace (0: nothing, or the agent's own choice)
    # How it was started, so that a test can stop it and start the same process again.
    argv: list[str] = field(default_factory=list)
    netns: str | None = None  # the network namespace it runs in (None: the host's)


@dataclass
class ClusterState:
    state_dir: str
    bin_dir: str
    kubeconfig: str
    server: str
    etcd_data_dir: str
    node_identity: str = ""
    components: list[Component] = field(default_factory=list)
    bridge: str = ""  # the claimed bridge name; its lock is held while a process of the cluster lives
    pod_cidr: str = ""
    netns: str = ""  # the control plane's network namespace
    service_cidr: str = ""

    def save(self) -> None:
        Path(self.state_dir, "state.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> ClusterState | None:
        path = Path(state_dir) / "state.json"
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        raw["components"] = [Component(**c) for c in raw["components"]]
        return cls(**raw)

    def env(self) -> dict[str, str]:
        """KUBECONFIG, and PATH with the built kubectl's folder first."""
        return {"KUBECONFIG": self.kubeconfig, "PATH": f"{self.bin_dir}:{os.environ.get('PATH', '')}"}
