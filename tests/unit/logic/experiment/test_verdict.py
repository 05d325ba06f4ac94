"""What an Experiment's conditions say, in each situation."""

import pytest

from mlops_operator.logic.conditions import Progress
from mlops_operator.logic.experiment.verdict import RunFacts, verdict
from mlops_operator.logic.jobs import Blocker


def facts(succeeded=0, failed=0, running=0, best=None, blocked=None):
    tally = {"total": 4, "pending": 4 - succeeded - failed - running, "running": running, "succeeded": succeeded,
             "failed": failed}
    return RunFacts(1, 4, tally, best, "auc", blocked or {}, lambda i: f"exp-r1-t{i}")


BEST = {"name": "exp-r1-t1", "objectiveValue": 0.9}


@pytest.mark.parametrize("run, complete, waiting, phase, ready, succeeded, progress, reason", [
    (facts(running=2), False, None, "Running", "False", "Unknown", Progress.WORKING, "TrialsRunning"),
    (facts(running=1, blocked={2: Blocker("Unschedulable", "no node")}), False, None, "Running", "False", "Unknown",
     Progress.WORKING, "TrialsNotStarting"),
    (facts(3, 1, best=BEST), True, None, "Succeeded", "True", "True", Progress.DONE, "BestTrialFound"),
    (facts(0, 4), True, None, "Failed", "False", "False", Progress.STALLED, "AllTrialsFailed"),
    (facts(running=1), False, ("WaitingForDataset", "gone"), "Waiting", "False", "Unknown", Progress.WORKING,
     "WaitingForDataset"),
    (facts(3, 1, best=BEST), True, ("WaitingForDataset", "edit waits"), "Waiting", "False", "True", Progress.WORKING,
     "WaitingForDataset"),
])
def test_verdicts(run, complete, waiting, phase, ready, succeeded, progress, reason):
    judged = verdict(run, complete, waiting)
    assert (judged.phase, judged.ready.status, judged.succeeded.status, judged.progress, judged.ready.reason) == (
        phase, ready, succeeded, progress, reason)
