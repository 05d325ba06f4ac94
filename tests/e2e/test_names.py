"""Any name the API accepts works: 63, 64 and 253 characters, dots included, for Datasets and
Experiments, through validation and training."""

import pytest

from pipeline import apply, dataset, events_once_posted, experiment, experiment_finished, jobs_of, phase_is, write_csv
from support import wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.restricted]

NAMES = {
    63: "n" * 63,
    64: "a.b-" + "c" * 60,
    253: ".".join(["d" * 63, "e" * 63, "f" * 63, "g" * 61]),
}


def test_names_of_63_64_and_253_characters_with_dots(crds, namespace, operator, tmp_path):
    uri = write_csv(tmp_path / "cancer.csv")
    for length, name in NAMES.items():
        assert len(name) == length
        apply(crds, namespace, dataset(name, uri))
        apply(crds, namespace, experiment(name, name, values=(1, 2), parallelism=2))
    operator.start()
    for name in NAMES.values():
        final = wait_for(lambda: experiment_finished(crds, namespace, name), 180, f"the sweep of {name[:20]}...")
        assert final["phase"] == "Succeeded" and final["bestTrial"]["objectiveValue"] == 2
        assert phase_is(crds, namespace, "dataset", name, "Ready")
        for job in jobs_of(crds, namespace, "experiment", name) + jobs_of(crds, namespace, "dataset", name):
            assert len(job["metadata"]["name"]) <= 63 and "." not in job["metadata"]["name"]
            assert all(len(value) <= 63 for value in job["metadata"]["labels"].values())
        events_once_posted(crds, namespace, name, "RunStarted", "RunCompleted")
