"""Which Experiments use a Dataset."""

from mlops_operator.controller.references import References


def test_references_follow_edits_and_deletions():
    refs = References()
    refs.set(("ns", "a"), ("ns", "data"))
    refs.set(("ns", "b"), ("ns", "data"))
    refs.set(("other", "a"), ("other", "data"))
    assert refs.referrers(("ns", "data")) == [("ns", "a"), ("ns", "b")]
    refs.set(("ns", "a"), ("ns", "other-data"))  # an edit of datasetRef
    refs.set(("ns", "b"), None)  # deleted
    assert refs.referrers(("ns", "data")) == [] and refs.referrers(("ns", "other-data")) == [("ns", "a")]
