"""The CRDs are generated from the API models: no drift, structural, documented."""

from pathlib import Path

import pytest
import yaml

from mlops_operator.api.crdgen import CHART_CRDS, KUSTOMIZATION, chart_files, rendered_files
from mlops_operator.api.crdgen import main as crdgen_main
from mlops_operator.api.kinds import KINDS

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((REPO / "manifests" / "examples").glob("*.yaml"))
# Short names of built-in resources (kubectl api-resources on Kubernetes 1.36).
BUILTIN_SHORT_NAMES = {
    "cs", "cm", "ep", "ev", "limits", "ns", "no", "pvc", "pv", "po", "rc", "quota", "sa", "svc",
    "crd", "crds", "ds", "deploy", "rs", "sts", "hpa", "cj", "csr", "ing", "netpol", "pdb", "pc", "sc",
    "ipaddr", "vac",
}


def test_crds_and_the_charts_copies_match_the_models():
    assert crdgen_main(["--check", str(REPO / "crds"), "--chart", str(REPO / CHART_CRDS)]) == 0


def test_crd_folders_hold_exactly_the_generated_files():
    assert sorted(p.name for p in (REPO / "crds").glob("*.yaml")) == sorted(rendered_files())
    assert sorted(p.name for p in (REPO / CHART_CRDS).glob("*.yaml")) == sorted(chart_files())


def test_crds_kustomization_lists_every_crd_and_is_no_yaml_file():
    """crds/Kustomization makes crds/ a kustomize base (manifests/install); without a .yaml
    extension, `kubectl apply -f crds/` skips it."""
    kustomization = yaml.safe_load((REPO / "crds" / KUSTOMIZATION).read_text())
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["resources"] == sorted(rendered_files())
    assert not list((REPO / "crds").glob("kustomization.y*ml"))


def test_the_check_reports_a_changed_a_missing_and_a_stale_file(tmp_path, capsys):
    crds, chart = tmp_path / "crds", tmp_path / "chart"
    assert crdgen_main([str(crds), "--chart", str(chart)]) == 0
    assert crdgen_main(["--check", str(crds), "--chart", str(chart)]) == 0
    first = sorted(chart_files())[0]
    (chart / first).write_text((chart / first).read_text().replace("keep", "delete"))
    (crds / first).unlink()
    (crds / KUSTOMIZATION).unlink()
    (chart / "old.mlops.dev.yaml").write_text("stale")
    assert crdgen_main(["--check", str(crds), "--chart", str(chart)]) == 1
    out = capsys.readouterr().out
    assert str(chart / first) in out and str(crds / first) in out and "old.mlops.dev.yaml (not generated)" in out
    assert str(crds / KUSTOMIZATION) in out
    assert crdgen_main([str(crds), "--chart", str(chart)]) == 0  # writing repairs all four
    assert not (chart / "old.mlops.dev.yaml").exists()
    assert crdgen_main(["--check", str(crds), "--chart", str(chart)]) == 0


def test_a_check_without_the_chart_folder_is_refused():
    with pytest.raises(SystemExit):
        crdgen_main(["--check", str(REPO / "crds")])


def _walk(schema: dict, path: str, named: bool = True):
    """Yields (path, node, named) for every node; named nodes are fields kubectl explain shows."""
    yield path, schema, named
    for name, sub in (schema.get("properties") or {}).items():
        yield from _walk(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], f"{path}[]", named=False)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _walk(schema["additionalProperties"], f"{path}{{}}", named=False)


@pytest.mark.parametrize("name, text", sorted(rendered_files().items()))
def test_schema_is_structural_and_every_field_is_described(name, text):
    crd = yaml.safe_load(text.split("\n", 1)[1])
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for section in ("spec", "status"):
        for path, node, named in _walk(root["properties"][section], section):
            assert not {"$ref", "anyOf", "oneOf", "allOf", "$defs"} & set(node), path
            assert node.get("type") or node.get("x-kubernetes-preserve-unknown-fields") or node.get(
                "x-kubernetes-int-or-string"), f"{path} has no type"
            assert not named or node.get("description"), f"{path} has no description"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_short_names_collide_with_no_builtin(kind):
    assert not set(kind.short_names) & BUILTIN_SHORT_NAMES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_parse_as_the_models(path):
    by_kind = {k.kind: k for k in KINDS}
    for document in yaml.safe_load_all(path.read_text()):
        by_kind[document["kind"]].spec.model_validate(document["spec"])


def test_api_reference_matches_the_models():
    from mlops_operator.api.docgen import main as docgen_main

    assert docgen_main(["--check", str(REPO / "docs" / "api.md")]) == 0
