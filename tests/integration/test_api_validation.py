"""The API server itself enforces the API: bad manifests are refused at apply with a clear message."""

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
CORPUS = sorted((REPO / "tests" / "bad-manifests").glob("*.yaml"))
EXAMPLES = sorted((REPO / "manifests" / "examples").glob("*.yaml"))
EXPECT = "# expect: "


def expected_message(path: Path) -> str:
    first_line = path.read_text().splitlines()[0]
    assert first_line.startswith(EXPECT), f"{path.name} must start with '{EXPECT}<message>'"
    return first_line[len(EXPECT):]


def test_corpus_covers_every_kind():
    kinds = {yaml.safe_load_all(p.read_text()).__next__()["kind"] for p in CORPUS}
    assert kinds == {"Dataset", "Experiment", "Model", "Deployment"}


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_bad_manifest_is_refused_with_its_message(crds, namespace, path):
    *setup, bad = list(yaml.safe_load_all(path.read_text()))
    for document in setup:  # e.g. the object before an immutable field is changed
        crds.kubectl("apply", "-f", "-", namespace=namespace, input=yaml.safe_dump(document))
    result = crds.kubectl("apply", "-f", "-", namespace=namespace, input=yaml.safe_dump(bad), check=False)
    assert result.returncode != 0, f"{path.name} was accepted"
    assert expected_message(path) in result.stderr


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_accepted(crds, namespace, path):
    crds.kubectl("apply", "-f", str(path), namespace=namespace)


def test_explain_shows_descriptions(crds):
    out = crds.kubectl("explain", "experiments.spec.search").stdout
    assert "The hyperparameter search." in out
    assert "Most trials running at once (1 to maxTrials)." in out
    assert "enum: grid, random" in out


def test_get_mlops_lists_all_kinds_with_their_columns(crds, namespace):
    crds.kubectl("apply", "-f", str(REPO / "manifests" / "examples"), namespace=namespace)
    out = crds.kubectl("get", "mlops", namespace=namespace).stdout
    for header in (
        "dataset.mlops.dev/breast-cancer",
        "experiment.mlops.dev/breast-cancer-forest",
        "model.mlops.dev/breast-cancer-1",
        "deployment.mlops.dev/breast-cancer",
    ):
        assert header in out
    header_lines = [line.split() for line in out.splitlines() if line.startswith("NAME")]
    assert ["NAME", "READY", "PHASE", "FORMAT", "ROWS", "AGE"] in header_lines
    assert ["NAME", "READY", "PHASE", "TRIALS", "RUNNING", "METRIC", "BEST", "AGE"] in header_lines
    assert ["NAME", "READY", "MODEL", "VERSION", "PHASE", "ALIASES", "EVALUATED", "AGE"] in header_lines
    assert ["NAME", "READY", "PHASE", "STABLE", "CANARY", "WEIGHT", "REPLICAS", "AGE"] in header_lines


def test_short_names_collide_with_no_resource_of_the_cluster(crds):
    rows = [line.split() for line in crds.kubectl("api-resources", "--no-headers").stdout.splitlines()]
    ours = {"mlds", "mlexp", "mlmodel", "mldeploy"}
    # A row is NAME [SHORTNAMES] APIVERSION NAMESPACED KIND; short names are comma-separated.
    theirs = {short for row in rows if "mlops.dev" not in row[-3] and len(row) == 5 for short in row[1].split(",")}
    assert not ours & theirs
    assert ours <= {short for row in rows if len(row) == 5 and "mlops.dev" in row[2] for short in row[1].split(",")}


@pytest.mark.parametrize("splits", [{"validation": 0.1}, {"train": 0.9}, {"test": 0.3}, {"train": 0.6, "validation": 0.1}])
def test_partial_splits_are_accepted(crds, namespace, splits):
    dataset = {"apiVersion": "mlops.dev/v1alpha1", "kind": "Dataset", "metadata": {"name": "partial"},
               "spec": {"source": {"uri": "file:///data/x.csv"}, "format": "csv", "splits": splits}}
    crds.kubectl("apply", "-f", "-", namespace=namespace, input=yaml.safe_dump(dataset))
