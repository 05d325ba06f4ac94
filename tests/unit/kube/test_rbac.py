"""The chart's RBAC rules are the adapter's resource table: every verb it lists, nothing more."""

from pathlib import Path

import kopf

from mlops_operator.kube.rbac import (CRD_READ_RULES, LEADER_ELECTION_RULES, NAMESPACE_READ_RULES, RULES_FILE, main,
                                      operator_rules, render)
from mlops_operator.kube.resources import LEADER_ELECTION_LEASE, RESOURCES, resource

REPO = Path(__file__).resolve().parents[3]


def _grants(rules) -> set[tuple[str, str, str]]:
    return {(group, resource, verb) for rule in rules
            for group in rule.api_group.split(",") for resource in rule.resources for verb in rule.verbs}


def _table() -> set[tuple[str, str, str]]:
    out = set()
    for entry in RESOURCES.values():
        out |= {(entry.group, entry.plural, verb) for verb in entry.verbs}
        out |= {(entry.group, f"{entry.plural}/status", verb) for verb in entry.status_verbs}
        out |= {(entry.group, f"{entry.plural}/finalizers", verb) for verb in entry.finalizers_verbs}
    return out


def test_the_charts_rules_file_matches_the_table():
    assert main(["--check", str(REPO / RULES_FILE)]) == 0


def test_the_check_reports_drift(tmp_path, capsys):
    out = tmp_path / "_rules.tpl"
    out.write_text(render().replace('"delete"', '"deletecollection"'))
    assert main(["--check", str(out)]) == 1
    assert "differ from the resource table" in capsys.readouterr().out
    assert main([str(out)]) == 0 and main(["--check", str(out)]) == 0


def test_the_rules_grant_exactly_the_tables_verbs():
    rules = operator_rules()
    assert _grants(rules) == _table()
    # No grant twice, no wildcard, no resource name the table does not have.
    assert sum(len(r.resources) * len(r.verbs) for r in rules) == len(_table())
    assert not any("*" in r.verbs or "*" in r.resources or r.api_group == "*" for r in rules)


def test_kopfs_own_reads_are_read_only_and_cluster_scoped_kinds():
    assert _grants(CRD_READ_RULES) == {("apiextensions.k8s.io", "customresourcedefinitions", v) for v in ("list", "watch")}
    assert _grants(NAMESPACE_READ_RULES) == {("", "namespaces", v) for v in ("list", "watch")}


def test_every_resource_kopf_watches_has_list_and_watch():
    import mlops_operator.handlers.operator  # noqa: F401  (registers the handlers)

    registry = kopf.get_default_registry()
    watched = set()
    for handlers in (registry._watching, registry._changing, registry._spawning, registry._indexing):
        watched |= {(h.selector.group, h.selector.any_name or h.selector.plural)
                    for h in handlers.get_all_handlers() if h.selector}
    assert watched  # the import registered them
    granted = _grants(operator_rules())
    for group, plural in sorted(watched):
        assert {(group, plural, "list"), (group, plural, "watch")} <= granted, f"{group}/{plural}"


def test_what_the_operator_server_side_applies_it_may_also_create():
    """An apply that makes the object is authorized as create as well as patch (apiserver's
    handlers/patch.go): without create, the first model server of a Deployment is forbidden."""
    from mlops_operator.handlers.operator import SERVING_CHILDREN

    granted = _grants(operator_rules())
    for group, _version, plural in SERVING_CHILDREN:
        assert {(group, plural, "patch"), (group, plural, "create")} <= granted, f"{group}/{plural}"


def test_every_owner_of_a_child_may_update_its_finalizers():
    """Children's owner references set blockOwnerDeletion, which OwnerReferencesPermissionEnforcement
    allows only with update on the owner's finalizers (the local cluster enables that plugin)."""
    granted = _grants(operator_rules())
    for entry in RESOURCES.values():
        if entry.group == "mlops.dev":
            assert ("mlops.dev", f"{entry.plural}/finalizers", "update") in granted, entry.plural


def test_the_lease_is_granted_apart_from_the_watched_namespaces():
    """Leader election's Lease is in the operator's own namespace: its verbs are a rule of their
    own (a Role there), never part of the rules granted in every watched namespace."""
    assert _grants(LEADER_ELECTION_RULES) == {("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")}
    assert not any(group == "coordination.k8s.io" for group, _, _ in _grants(operator_rules()))
    assert resource("coordination.k8s.io/v1", "Lease") is LEADER_ELECTION_LEASE
