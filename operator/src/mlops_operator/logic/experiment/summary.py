"""The bounded view of a run that status shows: counts, the best trial, trial summaries, history.
The full record of every trial is status.trialResults (and, while they exist, the trial Jobs)."""

from collections.abc import Callable
from typing import Any

from ...api.experiment import TrialResult
from ...api.vocabulary import RunPhase, TrialPhase
from ...contract import format_value
from ..jobs import Blocker
from ..results import Outcome

MAX_SUMMARIES_PER_GROUP = 10
MAX_RUN_HISTORY = 10


def result_of(outcome: Outcome) -> TrialResult:
    if outcome.phase == TrialPhase.SUCCEEDED:
        return TrialResult(phase=TrialPhase.SUCCEEDED, value=outcome.objective)
    return TrialResult(phase=TrialPhase.FAILED, reason=outcome.reason)


def counts(total: int, results: dict[int, TrialResult], running: int) -> dict[str, int]:
    succeeded = sum(1 for r in results.values() if r.phase == TrialPhase.SUCCEEDED)
    failed = len(results) - succeeded
    running = min(running, max(0, total - succeeded - failed))
    return {"total": total, "pending": max(0, total - succeeded - failed - running), "running": running,
            "succeeded": succeeded, "failed": failed}


def _sign(goal: str) -> float:
    return -1.0 if goal == "maximize" else 1.0


def best_index(results: dict[int, TrialResult], goal: str) -> int | None:
    """The succeeded trial with the best objective; a tie goes to the lowest index, so the choice
    never depends on the order trials finished in."""
    eligible = [(_sign(goal) * r.value, i) for i, r in results.items()
                if r.phase == TrialPhase.SUCCEEDED and r.value is not None]
    return min(eligible)[1] if eligible else None


def best_trial(index: int | None, previous: dict[str, Any] | None, outcomes: dict[int, Outcome], name: str,
               parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """The best trial's record: from its outcome when it was judged now, else as status had it
    (its metrics are known only when it is judged)."""
    if index is None:
        return None
    if index in outcomes:
        outcome = outcomes[index]
        record = {"name": name, "index": index, "parameters": parameters, "metrics": outcome.metrics,
                  "objectiveValue": outcome.objective, "artifactUri": outcome.artifact_uri}
        return {k: v for k, v in record.items() if v is not None}
    if previous and previous.get("index") == index:
        return previous
    return {"name": name, "index": index, **({"parameters": parameters} if parameters else {})}


def summaries(results: dict[int, TrialResult], unfinished: list[int], blocked: dict[int, Blocker],
              outcomes: dict[int, Outcome], previous: list[dict[str, Any]], goal: str,
              name_of: Callable[[int], str],
              parameters_of: Callable[[int], dict[str, Any] | None]) -> list[dict[str, Any]]:
    """At most 30 entries whatever the sweep's size: the 10 best succeeded, the 10 latest failed
    and the 10 first unfinished trials, in index order."""
    earlier = {s.get("index"): s for s in previous}
    succeeded = sorted((i for i, r in results.items() if r.phase == TrialPhase.SUCCEEDED and r.value is not None),
                       key=lambda i: (_sign(goal) * results[i].value, i))
    failed = sorted((i for i, r in results.items() if r.phase == TrialPhase.FAILED), reverse=True)
    chosen = (succeeded[:MAX_SUMMARIES_PER_GROUP] + failed[:MAX_SUMMARIES_PER_GROUP]
              + sorted(unfinished)[:MAX_SUMMARIES_PER_GROUP])
    entries = []
    for index in sorted(chosen):
        entry: dict[str, Any] = {"name": name_of(index), "index": index}
        parameters = parameters_of(index)
        if parameters:
            entry["parameters"] = {k: format_value(v) for k, v in sorted(parameters.items())}
        result = results.get(index)
        if result is None:
            blocker = blocked.get(index)
            entry["phase"] = TrialPhase.PENDING if blocker else TrialPhase.RUNNING
            if blocker:
                entry.update(reason=blocker.reason, message=blocker.message[:512])
        elif result.phase == TrialPhase.SUCCEEDED:
            entry.update(phase=TrialPhase.SUCCEEDED, objectiveValue=result.value)
        else:
            message = outcomes[index].message if index in outcomes else earlier.get(index, {}).get("message")
            entry.update(phase=TrialPhase.FAILED, reason=result.reason, **({"message": message} if message else {}))
        entries.append(entry)
    return entries


def run_record(run: int, phase: RunPhase, digest: str | None, started_at: str | None, completed_at: str | None,
               best: dict[str, Any] | None, tally: dict[str, int], model: str | None = None) -> dict[str, Any]:
    record = {"run": run, "phase": phase, "datasetDigest": digest, "startedAt": started_at,
              "completedAt": completed_at, "succeeded": tally["succeeded"], "failed": tally["failed"], "model": model}
    if best and best.get("objectiveValue") is not None:
        record.update(bestTrial=best["name"], bestValue=best["objectiveValue"])
    return {k: v for k, v in record.items() if v is not None}


def with_record(history: list[dict[str, Any]], record: dict[str, Any]) -> list[dict[str, Any]]:
    kept = [r for r in history if r.get("run") != record["run"]]
    return (kept + [record])[-MAX_RUN_HISTORY:]
