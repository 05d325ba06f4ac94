"""The leader-election loop, in the manner of client-go's LeaderElector: campaign every retry
period until this process holds the Lease, then renew it every retry period until it cannot for
the renew deadline. The decisions are logic/leader.py's; the Lease is read and written through a
store (kube/lease.py), so this loop does no Kubernetes I/O of its own.

A leader renews by writing with the resourceVersion of its own last write, without reading first
(client-go's fast path: one request per renewal); only when that write conflicts does it read the
Lease and decide again (the slow path, counted by leader_election_slowpath_total).

There is no jitter: the resourceVersion precondition already settles two candidates trying at the
same moment, and a fixed period keeps the failover bound simple (docs/operations.md).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from ..logic.leader import (LeaseRecord, Observation, Step, Timing, decide, leadership_lost, microtime, observe,
                            released)

log = logging.getLogger(__name__)


class LeaseStore(Protocol):
    async def read(self) -> tuple[LeaseRecord | None, str | None]: ...

    async def write(self, record: LeaseRecord, resource_version: str | None) -> str | None: ...


class LeaderStatus(Protocol):
    """What the elector reports: leader_election_master_status and leader_election_slowpath_total."""

    def leading(self, on: bool) -> None: ...

    def slow_path(self) -> None: ...


@dataclass(frozen=True)
class Candidate:
    lease: str  # namespace/name, for logs
    identity: str  # this process: unique per process, so a restarted pod is a new candidate
    timing: Timing = Timing()


class LeaderElector:
    def __init__(self, store: LeaseStore, candidate: Candidate, status: LeaderStatus,
                 clock: Callable[[], float] = time.monotonic):
        self._store, self._candidate, self._status, self._clock = store, candidate, status, clock
        self._observation: Observation | None = None
        self._last_renewed = 0.0  # by the clock: when the last successful write was sent
        self.is_leader = False
        status.leading(False)

    async def run(self, started_leading: Callable[[], None], stopped_leading: Callable[[], None]) -> None:
        """Campaigns until this process leads, calls started_leading, renews until it cannot, then
        calls stopped_leading (which is expected to end the process) and returns. Cancelling it
        stops the campaign or the renewals; release() then gives the Lease up."""
        timing = self._candidate.timing
        while not await self._campaign():
            await asyncio.sleep(timing.retry_period)
        self.is_leader = True
        self._status.leading(True)
        log.info("leading: %s holds Lease %s", self._candidate.identity, self._candidate.lease)
        started_leading()
        while True:
            await asyncio.sleep(timing.retry_period)
            left = self._last_renewed + timing.renew_deadline - self._clock()
            try:
                renewed = await asyncio.wait_for(self._attempt(), timeout=max(left, 0.001))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001  (an unreachable API server is retried until the deadline)
                log.warning("renewing Lease %s failed: %s: %s", self._candidate.lease, type(error).__name__, error)
                renewed = False
            if renewed:
                continue
            taken = self._observation is not None and self._observation.record is not None and \
                self._observation.record.holder != self._candidate.identity
            if taken or leadership_lost(self._last_renewed, self._clock(), timing):
                break
        self.is_leader = False
        self._status.leading(False)
        log.error("lost Lease %s (%s): stopping", self._candidate.lease,
                  f"now held by {self._observation.record.holder!r}" if taken else
                  f"not renewed for {timing.renew_deadline:g}s")
        stopped_leading()

    async def _campaign(self) -> bool:
        try:
            return await self._attempt()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001  (a follower keeps trying, whatever the API server says)
            log.warning("reading or taking Lease %s failed: %s: %s", self._candidate.lease, type(error).__name__, error)
            return False

    async def _attempt(self) -> bool:
        """One try to acquire or renew; True when this process holds the Lease afterwards."""
        identity, timing = self._candidate.identity, self._candidate.timing
        previous = self._observation
        if self.is_leader and previous is not None and previous.record is not None:
            # The fast path: the Lease is as this process last wrote it, unless someone else wrote.
            renewal = replace(previous.record, renew_time=microtime(datetime.now(UTC)))
            if await self._write(renewal, previous.resource_version):
                return True
            self._status.slow_path()
        record, resource_version = await self._store.read()
        self._observation = observe(self._observation, record, resource_version, self._clock())
        decision = decide(self._observation, identity, self._clock(), datetime.now(UTC), timing)
        if decision.record is None:
            return False
        if not await self._write(decision.record, self._observation.resource_version):
            return False
        if decision.step is not Step.RENEW:
            log.info("%s Lease %s as %s (transitions: %d)", "created" if decision.step is Step.CREATE else "took over",
                     self._candidate.lease, identity, decision.record.transitions)
        return True

    async def _write(self, record: LeaseRecord, resource_version: str | None) -> bool:
        sent = self._clock()
        written = await self._store.write(record, resource_version)
        if written is None:
            return False
        self._observation = Observation(record, written, sent)
        self._last_renewed = sent
        return True

    async def release(self) -> None:
        """Gives the Lease up if this process holds it (after its work has stopped), so the next
        candidate takes over at its next try instead of after the lease duration. A failure is
        only logged: the Lease then expires as if this process had crashed."""
        observation = self._observation
        if not self.is_leader or observation is None or observation.record is None:
            return
        self.is_leader = False
        self._status.leading(False)
        try:
            if await self._store.write(released(observation.record, datetime.now(UTC)), observation.resource_version):
                log.info("released Lease %s", self._candidate.lease)
            else:
                log.warning("did not release Lease %s: it changed since this process last wrote it",
                            self._candidate.lease)
        except Exception as error:  # noqa: BLE001
            log.warning("releasing Lease %s failed (it expires instead): %s", self._candidate.lease, error)
