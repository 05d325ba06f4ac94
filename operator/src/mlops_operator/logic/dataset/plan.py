"""A Dataset's whole decision, composed from named steps: the due round, whether to start it,
what the newest finished round means, what status says, when to look again."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...api.dataset import DatasetSpec
from ...resources.jobs import validation_job
from ...resources.meta import Meta
from ...resources.names import validation_name
from ..durations import parse_duration
from ..jobs import STARTUP_GRACE_SECONDS, Blocker, JobFacts, job_blocker, latest_termination
from ..patch import merge_patch
from ..plan import Creation, Deletion, Plan
from ..results import judge_validation
from . import status as says
from .rounds import Rounds, due_round, rounds, seconds_until_next_round

RESYNC_SECONDS = 300.0
"""Safety net while a round runs, should a watch event be missed."""


@dataclass(frozen=True)
class DatasetWorld:
    """Everything a Dataset reconcile reads, gathered in one place."""

    meta: Meta
    spec: DatasetSpec
    status: dict[str, Any]
    jobs: list[JobFacts]  # validation Jobs this Dataset controls
    now: datetime
    pods: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by Job UID
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by Job UID, for pod-less Jobs
    refresh_scale: float = 1.0  # an operator setting for tests; the API allows no interval under 1m

    @property
    def refresh_seconds(self) -> float | None:
        if not self.spec.refresh:
            return None
        return parse_duration(self.spec.refresh.interval) * self.refresh_scale


def observed_rounds(world: DatasetWorld) -> Rounds:
    number = due_round(world.meta.created, world.now, world.refresh_seconds)
    due = validation_name(world.meta.name, world.meta.generation, number)
    return rounds(world.jobs, world.meta.generation, due, number, world.status.get("lastValidationJob"))


def round_to_start(world: DatasetWorld, seen: Rounds) -> list[Creation]:
    """The due round, unless it exists, another round of this generation still runs, or it is the
    one status already records."""
    if seen.busy or world.status.get("lastValidationJob") == seen.due:
        return []
    return [Creation(validation_job(world.meta, world.spec, seen.due, seen.number))]


def blocked_round(world: DatasetWorld, seen: Rounds) -> tuple[JobFacts, Blocker] | None:
    for job in seen.running:
        blocker = job_blocker(job, world.pods.get(job.uid, []), world.events.get(job.uid, []))
        if blocker:
            return job, blocker
    return None


def look_again_in(world: DatasetWorld, seen: Rounds, starting: bool) -> float | None:
    """The next refresh round; soon after starting a round or while one has no pod (its Events may
    say why: nothing else wakes the Dataset then); the safety net while a round runs."""
    waits = [STARTUP_GRACE_SECONDS] if starting else []
    if world.refresh_seconds:
        waits.append(seconds_until_next_round(world.meta.created, world.now, world.refresh_seconds))
    if seen.running:
        waits.append(RESYNC_SECONDS)
        if any(not world.pods.get(j.uid) for j in seen.running):
            waits.append(STARTUP_GRACE_SECONDS)
    return min(waits) if waits else None


def plan(world: DatasetWorld) -> Plan:
    if world.meta.deleting:
        return Plan()
    seen = observed_rounds(world)
    create = round_to_start(world, seen)
    status, generation = world.status, world.meta.generation
    latest = seen.latest_finished
    if latest and status.get("lastValidationJob") != latest.name:
        rule_names = {rule.name for rule in world.spec.validation.rules or []}
        verdict = judge_validation(latest, latest_termination(world.pods.get(latest.uid, [])), rule_names)
        desired, events = says.recorded(status, verdict, latest.name, generation, world.now)
    elif status.get("validatedGeneration") != generation:
        desired, events = says.validating(status, seen.due, blocked_round(world, seen), generation, world.now)
    else:
        desired, events = says.restated(status, generation, blocked_round(world, seen), world.now)
    return Plan(create=create, delete=[Deletion("batch/v1", "Job", name) for name in seen.stale],
                status=merge_patch(status, desired), events=events,
                requeue_after=look_again_in(world, seen, bool(create)))
