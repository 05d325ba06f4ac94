"""manifests/install, the kustomize installation, against the chart's defaults: `kubectl kustomize`
(kubectl's built-in kustomize, what `kubectl apply -k` applies) renders the objects that `helm
template` renders with default values, with equal bodies once Helm's bookkeeping is removed from the
chart's side (the helm.sh/chart label, app.kubernetes.io/managed-by: Helm, the helm.sh/resource-policy
annotation). The one other difference allowed: kustomize also creates the Namespace (Helm's
--create-namespace). No cluster: kubectl and helm render client-side."""

import os
import subprocess
from pathlib import Path

import install_manifests  # hack/, on the path from tests/conftest.py
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "mlops-operator"
INSTALL = REPO / "manifests" / "install"
NAMESPACE = "mlops-system"
pytestmark = pytest.mark.timeout(1800)  # the first use builds helm (minutes, once)

Key = tuple[str, str, str | None]


def _run(binary: Path, *args: str) -> str:
    # KUBECONFIG=/dev/null: nothing here may reach a cluster, whatever the caller's environment.
    result = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "KUBECONFIG": os.devnull})
    assert result.returncode == 0, result.stderr
    return result.stdout


def _by_key(text: str) -> dict[Key, dict]:
    objects = {}
    for doc in yaml.safe_load_all(text):
        if doc:
            key = (doc["kind"], doc["metadata"]["name"], doc["metadata"].get("namespace"))
            assert key not in objects, f"{key} twice"
            objects[key] = doc
    return objects


def chart_defaults(helm: Path) -> dict[Key, dict]:
    return _by_key(_run(helm, "template", "mlops-operator", str(CHART), "--namespace", NAMESPACE))


def kustomize(kubectl: Path, folder: Path = INSTALL) -> dict[Key, dict]:
    return _by_key(_run(kubectl, "kustomize", str(folder)))


def without_helm_bookkeeping(obj: dict) -> dict:
    """The chart's object less exactly Helm's bookkeeping, which must be there to be removed."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    metadatas = [obj["metadata"]]
    if obj["kind"] == "Deployment":
        metadatas.append(obj["spec"]["template"]["metadata"])
    for metadata in metadatas:
        labels = metadata["labels"]
        assert labels.pop("helm.sh/chart") == f"{chart['name']}-{chart['version']}"
        assert labels.pop("app.kubernetes.io/managed-by") == "Helm"
    if obj["kind"] == "CustomResourceDefinition":
        assert obj["metadata"].pop("annotations") == {"helm.sh/resource-policy": "keep"}
    return obj


def differences(a, b, path: str = "") -> list[str]:
    """Where two parsed documents differ, as paths (a short message instead of pages of CRD)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in (differences(a[k], b[k], f"{path}.{k}") if k in a and k in b
                          else [f"{path}.{k}: only in {'kustomize' if k in a else 'helm'}"])]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: kustomize {a!r} != helm {b!r}"]


def test_kustomize_renders_the_charts_defaults(helm, kubectl):
    chart = {key: without_helm_bookkeeping(obj) for key, obj in chart_defaults(helm).items()}
    installed = kustomize(kubectl)
    namespace = installed.pop(("Namespace", NAMESPACE, None))
    deployment_labels = chart[("Deployment", "mlops-operator", NAMESPACE)]["metadata"]["labels"]
    assert namespace == {"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": NAMESPACE, "labels": deployment_labels}}
    assert sorted(installed, key=str) == sorted(chart, key=str)
    for key, obj in chart.items():
        assert not (found := differences(installed[key], obj)), f"{key}:\n" + "\n".join(found[:20])


def test_the_namespace_is_applied_first_and_the_crds_are_crds_folder(kubectl):
    """kubectl apply -k applies in this order: the Namespace exists before the objects in it."""
    documents = list(yaml.safe_load_all(_run(kubectl, "kustomize", str(INSTALL))))
    assert [d["kind"] for d in documents][:5] == ["Namespace"] + ["CustomResourceDefinition"] * 4
    assert yaml.safe_load((REPO / "crds" / "Kustomization").read_text())["kind"] == "Kustomization"
    assert "../../crds" in yaml.safe_load((INSTALL / "kustomization.yaml").read_text())["resources"]


def test_an_overlay_moves_the_namespace_and_the_image(kubectl, tmp_path):
    """What docs/operations.md tells: `namespace:` moves every namespaced object, the Namespace and
    the binding's subject; `images:` the operator's image."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    # kustomize takes no absolute path to a base: the overlay names it relative to itself.
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "ml-ops",
        "resources": [os.path.relpath(INSTALL, overlay)],
        "images": [{"name": "ghcr.io/mlops-operator/operator", "newName": "registry.example/mlops/operator",
                    "newTag": "0.2.0"}],
    }))
    objects = kustomize(kubectl, overlay)
    assert ("Namespace", "ml-ops", None) in objects
    assert not [key for key in objects if NAMESPACE in key]
    assert {ns for (kind, _, ns) in objects if kind in ("ServiceAccount", "Deployment")} == {"ml-ops"}
    binding = objects[("ClusterRoleBinding", "mlops-operator", None)]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mlops-operator", "namespace": "ml-ops"}]
    (container,) = objects[("Deployment", "mlops-operator", "ml-ops")]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example/mlops/operator:0.2.0"


def test_the_generated_folder_is_current_and_drift_is_reported(helm, tmp_path, capsys):
    assert install_manifests.main(["--check", "--helm", str(helm)]) == 0
    out = tmp_path / "manifests" / "install"
    assert install_manifests.main(["--out", str(out), "--helm", str(helm)]) == 0
    assert install_manifests.main(["--check", "--out", str(out), "--helm", str(helm)]) == 0
    (out / "deployment.yaml").write_text((out / "deployment.yaml").read_text().replace("--workers=4", "--workers=5"))
    (out / "webhook.yaml").write_text("stale")
    assert install_manifests.main(["--check", "--out", str(out), "--helm", str(helm)]) == 1
    report = capsys.readouterr().out
    assert str(out / "deployment.yaml") in report and "webhook.yaml (not generated)" in report
    assert install_manifests.main(["--out", str(out), "--helm", str(helm)]) == 0  # writing repairs both
    assert not (out / "webhook.yaml").exists()
    assert install_manifests.main(["--check", "--out", str(out), "--helm", str(helm)]) == 0
