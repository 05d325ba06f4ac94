"""The adapter's table: resources keyed by (apiVersion, kind), never by a bare kind."""

import pytest

from mlops_operator.kube.resources import RESOURCES, UnknownResource, resource


def test_mlops_and_apps_deployments_are_different_keys():
    assert resource("mlops.dev/v1alpha1", "Deployment").plural == "deployments"
    assert resource("mlops.dev/v1alpha1", "Deployment").group == "mlops.dev"
    with pytest.raises(UnknownResource, match="apps/v1 Deployment is not in the operator's resource table"):
        resource("apps/v1", "Deployment")


def test_a_bare_kind_is_refused_as_ambiguous():
    with pytest.raises(UnknownResource, match="ambiguous"):
        resource("", "Deployment")


def test_every_resource_names_the_verbs_the_operator_uses():
    assert all(r.verbs for r in RESOURCES.values())
    assert resource("batch/v1", "Job").verbs == ("get", "list", "watch", "create", "delete")
    assert resource("mlops.dev/v1alpha1", "Experiment").status_verbs == ("patch",)


def test_the_documented_permissions_are_the_tables():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "operations.md").read_text()
    table = text[text.index("| resource | verbs |"):].split("\n\n")[0]
    documented = {}
    for names, verbs in re.findall(r"^\| (`[^|]+) \| ([a-z, ]+)", table, re.MULTILINE):
        for name in re.findall(r"`([a-z/]+)`", names):
            documented[name] = tuple(v.strip() for v in verbs.split(","))
    for entry in RESOURCES.values():
        assert documented[entry.plural] == entry.verbs, entry.plural
        if entry.status_verbs:
            assert documented[f"{entry.plural}/status"] == entry.status_verbs
    assert len(documented) == len(RESOURCES) + sum(1 for e in RESOURCES.values() if e.status_verbs)
