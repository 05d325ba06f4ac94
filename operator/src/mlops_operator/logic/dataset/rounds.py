"""Validation rounds: one per generation, and with refresh one per interval. The round number
comes from the clock (whole intervals since creation), so any operator replica or restart names the
due round's Job the same way and starts it at most once."""

from dataclasses import dataclass
from datetime import datetime

from ... import labels
from ..jobs import JobFacts


def due_round(created: datetime, now: datetime, interval_seconds: float | None) -> int:
    """0 without refresh; else whole intervals since creation."""
    if not interval_seconds:
        return 0
    return int((now - created).total_seconds() // interval_seconds)


def seconds_until_next_round(created: datetime, now: datetime, interval_seconds: float) -> float:
    return interval_seconds - ((now - created).total_seconds() % interval_seconds)


def _label_int(job: JobFacts, key: str) -> int | None:
    try:
        return int(job.meta.labels[key])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class Rounds:
    """The Dataset's validation Jobs as seen from its current generation."""

    due: str  # name of the round due now
    number: int  # the due round's number
    busy: bool  # the due round's Job exists, or a round of this generation still runs
    running: list[JobFacts]  # unfinished rounds of this generation
    latest_finished: JobFacts | None  # the newest finished round of this generation
    stale: list[str]  # Jobs nothing needs any more

    @property
    def unfinished(self) -> bool:
        return bool(self.running)


def rounds(jobs: list[JobFacts], generation: int, due: str, number: int, recorded: str | None) -> Rounds:
    """A round that outlasts the interval delays the next one instead of piling up. Kept: the due,
    running, newest finished and recorded rounds; any other Job (older generations, superseded
    rounds) is stale."""
    mine = [j for j in jobs if _label_int(j, labels.GENERATION) == generation]
    running = [j for j in mine if not j.finished]
    finished = sorted((j for j in mine if j.finished), key=lambda j: _label_int(j, labels.ROUND) or 0)
    latest = finished[-1] if finished else None
    names = {j.name for j in jobs}
    keep = {due, recorded, *(j.name for j in running), latest.name if latest else None}
    return Rounds(due, number, bool(running) or due in names, running, latest, sorted(names - keep))
