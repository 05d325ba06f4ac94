"""The Argo CD health checks (manifests/argocd/resource_customizations/mlops.dev/<Kind>/health.lua)
give the expected health for every fixture of their health_test.yaml, on Argo CD's own Lua engine
(gopher-lua, run as Argo CD's util/lua runs a health check): hack/argocd-health's `go test`. Go is a
requirement of the test command, as for the control plane's build; its module comes through the Go
module proxy on the first run and from Go's cache afterwards."""

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "hack" / "argocd-health"


def go() -> str:
    found = shutil.which("go") or next((p for p in ("/usr/local/go/bin/go",) if os.access(p, os.X_OK)), None)
    assert found, "go is not on PATH: the test command needs Go >= 1.26 (README)"
    return found


def test_health_checks_give_the_expected_health_on_argo_cds_lua_engine():
    result = subprocess.run([go(), "test", "-count=1", "./..."], cwd=MODULE, capture_output=True, text=True,
                            timeout=600, env={**os.environ, "GOFLAGS": "-mod=readonly"})
    assert result.returncode == 0, f"go test in {MODULE.relative_to(REPO)} failed:\n{result.stdout}{result.stderr}"


def test_argocd_cm_snippet_holds_the_health_checks():
    result = subprocess.run(["python3", str(REPO / "hack" / "argocd_cm.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
