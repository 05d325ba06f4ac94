import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def promtool() -> Path:
    """The pinned promtool (Prometheus 3.16), built from its Go module by hack/build-tools.sh
    (cached: a no-op once built; the first build takes minutes)."""
    out = subprocess.run([str(REPO / "hack" / "build-tools.sh"), "prometheus"], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return Path(out.strip().splitlines()[-1]) / "promtool"
