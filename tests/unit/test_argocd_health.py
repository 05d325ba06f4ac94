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


def test_the_health_scripts_and_the_argocd_cm_snippet_are_the_templates():
    result = subprocess.run(["python3", str(REPO / "hack" / "argocd_cm.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_each_kind_gets_the_shared_rules_and_only_its_own_sections():
    import argocd_cm

    template = "--@template\n-- health of @KIND@\nshared()\n--@Deployment\nrollout()\n--@end\nready()\n"
    assert argocd_cm.health_script("Model", template) == "-- health of Model\nshared()\nready()\n"
    assert argocd_cm.health_script("Deployment", template) == \
        "-- health of Deployment\nshared()\nrollout()\nready()\n"
    real = (REPO / "hack" / "argocd_health.lua.in").read_text()
    assert "Suspended" in argocd_cm.health_script("Deployment", real)
    assert "Suspended" not in argocd_cm.health_script("Dataset", real)
