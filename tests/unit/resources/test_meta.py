"""Object metadata, read once; children belong to their controlling owner by UID."""

import pytest

from mlops_operator.resources.meta import Meta, labels_lost, owned_by, owner_reference, parse_time


def test_meta_of_an_object():
    meta = Meta.of({"apiVersion": "mlops.dev/v1alpha1", "kind": "Dataset",
                    "metadata": {"name": "d", "namespace": "ns", "uid": "u", "generation": 3,
                                 "creationTimestamp": "2026-11-26T12:00:00Z", "deletionTimestamp": "x"}})
    assert (meta.name, meta.generation, meta.deleting, meta.created) == ("d", 3, True, parse_time("2026-11-26T12:00:00Z"))
    assert owner_reference(meta) == {"apiVersion": "mlops.dev/v1alpha1", "kind": "Dataset", "name": "d", "uid": "u",
                                     "controller": True, "blockOwnerDeletion": True}


def test_a_recreated_owner_never_takes_its_predecessors_children():
    mine = {"metadata": {"ownerReferences": [{"uid": "new", "controller": True}]}}
    predecessor = {"metadata": {"ownerReferences": [{"uid": "old", "controller": True}]}}
    not_controller = {"metadata": {"ownerReferences": [{"uid": "new"}]}}
    assert owned_by([mine, predecessor, not_controller], "new") == [mine]


def test_the_spec_was_last_written_when_a_manager_last_set_a_spec_field():
    fields = {
        "kubectl": {"manager": "kubectl", "operation": "Apply", "time": "2026-11-26T12:00:00Z",
                    "fieldsV1": {"f:spec": {"f:search": {}}}},
        "editor": {"manager": "kubectl-edit", "operation": "Update", "time": "2026-11-26T12:05:00Z",
                   "fieldsV1": {"f:spec": {"f:objective": {}}}},
        "status": {"manager": "mlops-operator", "operation": "Apply", "subresource": "status",
                   "time": "2026-11-26T12:09:00Z", "fieldsV1": {"f:status": {}}},
        "labels": {"manager": "argocd", "operation": "Update", "time": "2026-11-26T12:10:00Z",
                   "fieldsV1": {"f:metadata": {"f:labels": {}}}},
    }

    def written(*managers: str):
        return Meta.of({"metadata": {"name": "e", "managedFields": [fields[m] for m in managers]}}).spec_written_at

    assert written("kubectl", "editor", "status", "labels") == parse_time("2026-11-26T12:05:00Z")
    assert written("status", "labels") is None and written() is None


@pytest.mark.parametrize("held, expected", [
    ({"mlops.dev/owner-uid": "u", "mlops.dev/trial": "0"}, False),
    ({"mlops.dev/owner-uid": "u", "mlops.dev/trial": "0", "example.com/team": "a"}, False),  # others' labels
    ({"mlops.dev/trial": "0"}, True),  # removed by hand: the owner's list no longer finds it
    ({"mlops.dev/owner-uid": "other", "mlops.dev/trial": "0"}, True),
    (None, True),
])
def test_a_child_lost_labels_its_manifest_gives_it(held, expected):
    manifest = {"metadata": {"labels": {"mlops.dev/owner-uid": "u", "mlops.dev/trial": "0"}}}
    assert labels_lost({"metadata": {"labels": held}}, manifest) is expected
