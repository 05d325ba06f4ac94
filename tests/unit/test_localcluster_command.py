"""hack/localcluster.py's light commands need only the standard library: `eval "$(python3
hack/localcluster.py env)"` must work with a machine's python3 that has none of the project's
packages."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HACK = REPO / "hack"
HEAVY = ("cryptography", "lightkube", "aiohttp", "httpx2")


def bare_python(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """This interpreter without site-packages (-S): a python3 with nothing installed."""
    return subprocess.run([sys.executable, "-S", *args], capture_output=True, text=True, cwd=REPO, **kwargs)


def test_the_bare_interpreter_really_lacks_the_packages():
    assert bare_python("-c", "import cryptography").returncode != 0


def test_importing_the_facade_loads_no_heavy_module():
    out = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HACK)!r}); import localcluster; "
                          f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_env_prints_exports_with_the_built_kubectl_first_on_path(tmp_path):
    from cluster.state import ClusterState

    state_dir = tmp_path / "state dir"
    state_dir.mkdir()
    ClusterState(str(state_dir), "/opt/k8s bin", str(state_dir / "kubeconfig"), "https://127.0.0.1:1", "/tmp/x").save()
    result = bare_python("hack/localcluster.py", "env", "--state-dir", str(state_dir), env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"export KUBECONFIG='{state_dir}/kubeconfig'",
                                          "export PATH='/opt/k8s bin:/usr/bin:/bin'"]


def test_env_without_a_cluster_says_so(tmp_path):
    result = bare_python("hack/localcluster.py", "env", "--state-dir", str(tmp_path))
    assert result.returncode == 1
    assert "run `up` first" in result.stderr and "Traceback" not in result.stderr


def test_help_needs_no_package():
    result = bare_python("hack/localcluster.py", "--help")
    assert result.returncode == 0 and "up,down,env,build" in result.stdout


def test_the_api_server_runs_pod_security_admission_explicitly():
    from cluster.launch import apiserver_argv
    from cluster.network import ClusterNetwork

    argv = apiserver_argv(Path("/bin"), Path("/pki"), ClusterNetwork("mlbr3", "10.244.3.0/24"))
    [plugins] = [a.split("=", 1)[1].split(",") for a in argv if a.startswith("--enable-admission-plugins=")]
    assert "PodSecurity" in plugins
    assert {"NamespaceLifecycle", "ServiceAccount", "ResourceQuota", "ValidatingAdmissionPolicy"} <= set(plugins)
    assert not [a for a in argv if a.startswith("--disable-admission-plugins")]


def test_a_process_that_is_gone_is_not_alive():
    import subprocess

    from cluster.processes import alive

    done = subprocess.Popen(["true"])
    done.wait()  # reaped: its pid names no process any more
    assert alive(done.pid) is False


def test_only_a_control_plane_component_is_stopped_for_a_restart(tmp_path):
    """The node agent is the node, and a state file from before restarts were possible has no argv:
    neither is stopped, since neither could be started the same way again."""
    from cluster.launch import LocalCluster
    from cluster.state import ClusterState, Component

    ClusterState(str(tmp_path), "/bin", str(tmp_path / "kubeconfig"), "https://127.0.0.1:1", "/tmp/x", components=[
        Component("etcd", 2 ** 22 + 1, 2379, ["etcd", "--data-dir=/tmp/x"], "mlcp-mlbr0"),
        Component("local-node", 2 ** 22 + 2, 0, ["python", "-m", "localnode"], None),
    ]).save()
    local = LocalCluster(tmp_path)
    for name in ("local-node", "kube-scheduler"):
        with pytest.raises(ValueError, match=f"^{name} is not a control-plane component of this cluster \\(etcd\\)$"):
            with local.stopped(name):
                pass
