"""Which evaluation Jobs' pods a Model's gather reads: the finished ones status does not record."""

import pytest
from builders import job

from mlops_operator.logic.jobs import job_facts
from mlops_operator.logic.model.evaluation import unrecorded_finished

JOBS = [job_facts(job("eval-a", "uid-m", state="complete")), job_facts(job("rescore-b", "uid-m", state="failed")),
        job_facts(job("eval-c", "uid-m"))]


@pytest.mark.parametrize("validation, wanted", [
    ({}, ["eval-a", "rescore-b"]),
    ({"job": "eval-a"}, ["rescore-b"]),
    ({"job": "eval-a", "baseline": {"model": "v1", "job": "rescore-b"}}, []),
    ({"job": "eval-c"}, ["eval-a", "rescore-b"]),
], ids=["nothing recorded", "evaluation recorded", "both recorded", "an unfinished Job is never read"])
def test_only_finished_unrecorded_jobs_have_their_pods_read(validation, wanted):
    assert [j.name for j in unrecorded_finished(JOBS, validation)] == wanted
