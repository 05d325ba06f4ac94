"""What an Experiment reads of its Dataset, and when a run may use it."""

import pytest

from mlops_operator.logic.dataset_view import DatasetView
from mlops_operator.logic.experiment.dataset import why_unusable

from experiments import DATA, DIGEST, NEW_DIGEST, dataset


def body(status, generation=1, spec=DATA):
    return {"metadata": {"name": "data", "uid": "u1", "generation": generation}, "spec": spec, "status": status}


READY = {"observedGeneration": 1, "digest": DIGEST,
         "conditions": [{"type": "Ready", "status": "True", "message": "569 rows passed"}]}


@pytest.mark.parametrize("found, usable", [
    (body(READY), True),
    (body(READY, generation=2), False),  # its status describes an older generation
    (body({**READY, "digest": None}), False),
    (body({**READY, "conditions": [{"type": "Ready", "status": "False", "message": "bad"}]}), False),
    (body(READY, spec={"source": {"uri": "ftp://x"}, "format": "xls"}), False),  # a spec this version cannot read
    (None, False),
])
def test_a_dataset_is_usable_only_when_ready_current_and_digested(found, usable):
    assert DatasetView.of("data", found).usable is usable


@pytest.mark.parametrize("view, pinned, expected", [
    (dataset(found=False), None, ("WaitingForDataset", "Dataset 'data' not found in this namespace")),
    (dataset(current=False), None, ("WaitingForDataset", "Dataset 'data' is being validated for its latest change")),
    (dataset(ready=False), None, ("WaitingForDataset", "Dataset 'data' is not Ready: minRows: 40 rows")),
    (dataset(), DIGEST, None),
    (dataset(), None, None),
    (dataset(digest=NEW_DIGEST), DIGEST, ("DatasetChanged", None)),
])
def test_why_no_trial_may_start(view, pinned, expected):
    found = why_unusable(view, pinned)
    if expected is None:
        assert found is None
    else:
        assert found[0] == expected[0] and (expected[1] is None or found[1] == expected[1])
