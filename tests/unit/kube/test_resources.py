"""The adapter's table: resources keyed by (apiVersion, kind), never by a bare kind."""

import pytest

from mlops_operator.kube.resources import RESOURCES, UnknownResource, resource


def test_mlops_and_apps_deployments_are_different_keys():
    assert resource("mlops.dev/v1alpha1", "Deployment").plural == "deployments"
    assert resource("mlops.dev/v1alpha1", "Deployment").group == "mlops.dev"
    assert resource("apps/v1", "Deployment").group == "apps"
    assert resource("apps/v1", "Deployment").verbs != resource("mlops.dev/v1alpha1", "Deployment").verbs
    with pytest.raises(UnknownResource, match="extensions/v1beta1 Deployment is not in the operator's resource table"):
        resource("extensions/v1beta1", "Deployment")


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
    for names, group, verbs in re.findall(r"^\| (`[^|]+?)(?: \(([a-z.]+)\))? \| ([a-z, ]+)", table, re.MULTILINE):
        for name in re.findall(r"`([a-z/]+)`", names):
            subresource_group = "mlops.dev" if "/" in name else ""
            documented[(group or subresource_group, name)] = tuple(v.strip() for v in verbs.split(","))
    expected = {}
    for entry in RESOURCES.values():
        expected[(entry.group, entry.plural)] = entry.verbs
        for subresource, verbs in (("status", entry.status_verbs), ("finalizers", entry.finalizers_verbs)):
            if verbs:
                expected[(entry.group, f"{entry.plural}/{subresource}")] = verbs
    assert documented == expected
