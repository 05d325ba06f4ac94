"""Leader election on a coordination.k8s.io Lease, decided as client-go's leaderelection decides it
(tools/leaderelection/leaderelection.go, tryAcquireOrRenew), without I/O: given the Lease as last
read, when this process first saw that record, and the time now, what to write, if anything.

Expiry is judged by the local clock only: a record counts as expired `leaseDurationSeconds` after
this process first saw it unchanged, never by the holder's renewTime, so clocks that disagree
between machines cannot make a live leader look expired. The holder stops leading when it has not
renewed for the renew deadline, which is shorter than the lease duration: it has stopped before any
other candidate may take over.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class Timing:
    """client-go's defaults (and controller-runtime's): a candidate takes over a Lease 15 s after
    its last renewal was seen; a leader gives up after failing to renew for 10 s; everyone tries
    again every 2 s."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def problems(self) -> list[str]:
        """What makes the timing unsafe, as client-go's NewLeaderElector refuses it."""
        found = []
        if self.lease_duration <= self.renew_deadline:
            found.append("the lease duration must be longer than the renew deadline")
        if self.renew_deadline <= self.retry_period:
            found.append("the renew deadline must be longer than the retry period")
        if self.retry_period <= 0:
            found.append("the retry period must be positive")
        return found


@dataclass(frozen=True)
class LeaseRecord:
    """A Lease's spec, as leader election reads and writes it. `holder` is "" once released."""

    holder: str
    lease_duration_seconds: int
    acquire_time: str | None = None
    renew_time: str | None = None
    transitions: int = 0

    @staticmethod
    def from_spec(spec: dict) -> "LeaseRecord":
        return LeaseRecord(holder=spec.get("holderIdentity") or "",
                           lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
                           acquire_time=spec.get("acquireTime"), renew_time=spec.get("renewTime"),
                           transitions=int(spec.get("leaseTransitions") or 0))

    def to_spec(self) -> dict:
        return {"holderIdentity": self.holder, "leaseDurationSeconds": self.lease_duration_seconds,
                "acquireTime": self.acquire_time, "renewTime": self.renew_time,
                "leaseTransitions": self.transitions}


@dataclass(frozen=True)
class Observation:
    """The Lease as last read (None: there is none), its resourceVersion (the precondition of the
    next write), and when, by the local monotonic clock, this record was first seen unchanged."""

    record: LeaseRecord | None
    resource_version: str | None
    since: float


def observe(previous: Observation | None, record: LeaseRecord | None, resource_version: str | None,
            now: float) -> Observation:
    """A read of the Lease. A record equal to the one seen before keeps its first-seen time: only a
    change (a renewal, a new holder) restarts the count towards expiry."""
    if previous is not None and previous.record == record:
        return replace(previous, resource_version=resource_version)
    return Observation(record, resource_version, now)


class Step(StrEnum):
    CREATE = "create"  # no Lease yet: create it, held by this process
    RENEW = "renew"  # this process holds it: write a new renewTime
    TAKE_OVER = "take over"  # released, or expired: write this process as the holder
    FOLLOW = "follow"  # another process holds a live Lease: write nothing, look again later


@dataclass(frozen=True)
class Decision:
    step: Step
    record: LeaseRecord | None  # what to write; None for FOLLOW

    @property
    def writes(self) -> bool:
        return self.record is not None


def microtime(at: datetime) -> str:
    """A Lease's MicroTime: RFC 3339 with microseconds, in UTC."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def expired(observation: Observation, now: float) -> bool:
    assert observation.record is not None
    return now >= observation.since + observation.record.lease_duration_seconds


def decide(observation: Observation, identity: str, now: float, wall_now: datetime, timing: Timing) -> Decision:
    """What this candidate does about the Lease it observed. `now` is the local monotonic clock
    (expiry); `wall_now` the wall clock, only written into the record for people to read."""
    stamp = microtime(wall_now)
    duration = round(timing.lease_duration)
    current = observation.record
    if current is None:
        return Decision(Step.CREATE, LeaseRecord(identity, duration, stamp, stamp, 0))
    if current.holder == identity:
        # acquireTime and the transition count stay: renewing is not acquiring.
        return Decision(Step.RENEW, replace(current, lease_duration_seconds=duration, renew_time=stamp))
    if current.holder and not expired(observation, now):
        return Decision(Step.FOLLOW, None)
    return Decision(Step.TAKE_OVER, LeaseRecord(identity, duration, stamp, stamp, current.transitions + 1))


def leadership_lost(last_renewed: float, now: float, timing: Timing) -> bool:
    """A leader that has not renewed for the renew deadline must stop: within the lease duration
    (longer) another candidate may take over."""
    return now - last_renewed >= timing.renew_deadline


def released(record: LeaseRecord, wall_now: datetime) -> LeaseRecord:
    """The record a leader writes when it stops on purpose, as client-go's ReleaseOnCancel: no
    holder, so the next candidate takes over at its next try instead of waiting for expiry (and a
    one-second duration for candidates that still judge by it). The transition count stays."""
    stamp = microtime(wall_now)
    return replace(record, holder="", lease_duration_seconds=1, acquire_time=stamp, renew_time=stamp)
