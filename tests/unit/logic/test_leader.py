"""Leader election's decisions: given the Lease as observed, who this candidate is and the time,
create, renew, take over or follow, as client-go's tryAcquireOrRenew does."""

from datetime import UTC, datetime

import pytest

from mlops_operator.logic.leader import (LeaseRecord, Observation, Step, Timing, decide, leadership_lost, observe,
                                         released)

ME, OTHER = "operator-0_a1", "operator-1_b2"
WALL = datetime(2026, 8, 1, 12, 0, 0, 123456, tzinfo=UTC)
STAMP = "2026-08-01T12:00:00.123456Z"
EARLIER = "2026-08-01T11:59:00.000000Z"
TIMING = Timing()  # 15 s lease, 10 s renew deadline, 2 s retry period
SEEN_AT = 100.0  # local monotonic seconds at which the record below was first seen


def held_by(holder: str, duration: int = 15, transitions: int = 3) -> LeaseRecord:
    return LeaseRecord(holder, duration, EARLIER, EARLIER, transitions)


@pytest.mark.parametrize("record, now, step, written", [
    # No Lease yet: create it, held by this candidate from now.
    (None, SEEN_AT, Step.CREATE, LeaseRecord(ME, 15, STAMP, STAMP, 0)),
    # Its own Lease: a new renewTime; acquireTime and the transition count stay.
    (held_by(ME), SEEN_AT + 1, Step.RENEW, LeaseRecord(ME, 15, EARLIER, STAMP, 3)),
    # Its own, even past the duration (a slow renewal): renewing is still right; the write's
    # resourceVersion precondition fails if someone took it meanwhile.
    (held_by(ME), SEEN_AT + 60, Step.RENEW, LeaseRecord(ME, 15, EARLIER, STAMP, 3)),
    # Another holder, seen renewing less than the lease duration ago: wait.
    (held_by(OTHER), SEEN_AT, Step.FOLLOW, None),
    (held_by(OTHER), SEEN_AT + 14.9, Step.FOLLOW, None),
    # The same record unchanged for the whole duration: the holder stopped renewing; take over.
    (held_by(OTHER), SEEN_AT + 15, Step.TAKE_OVER, LeaseRecord(ME, 15, STAMP, STAMP, 4)),
    # The holder's own duration counts, not this candidate's.
    (held_by(OTHER, duration=60), SEEN_AT + 30, Step.FOLLOW, None),
    (held_by(OTHER, duration=5), SEEN_AT + 5, Step.TAKE_OVER, LeaseRecord(ME, 15, STAMP, STAMP, 4)),
    # Released (no holder): take over at once, whatever the duration says.
    (released(held_by(OTHER), WALL), SEEN_AT, Step.TAKE_OVER, LeaseRecord(ME, 15, STAMP, STAMP, 4)),
])
def test_the_decision_table(record, now, step, written):
    observation = Observation(record, "41" if record else None, SEEN_AT)
    decision = decide(observation, ME, now, WALL, TIMING)
    assert (decision.step, decision.record) == (step, written)
    assert decision.writes == (written is not None)


def test_expiry_counts_from_when_the_record_was_first_seen_not_from_its_renew_time():
    """A renewTime an hour old (a holder whose clock is behind) says nothing: only a record seen
    unchanged for the lease duration by this candidate's own clock has expired."""
    stale_looking = LeaseRecord(OTHER, 15, "2026-08-01T11:00:00.000000Z", "2026-08-01T11:00:00.000000Z", 1)
    first = observe(None, stale_looking, "7", now=500.0)
    assert decide(first, ME, 500.0, WALL, TIMING).step is Step.FOLLOW
    assert decide(first, ME, 515.0, WALL, TIMING).step is Step.TAKE_OVER


def test_a_renewal_restarts_the_count_and_an_unchanged_record_does_not():
    first = observe(None, held_by(OTHER), "7", now=100.0)
    # Read again 10 s later, unchanged (only its resourceVersion is carried along): still since 100.
    again = observe(first, held_by(OTHER), "7", now=110.0)
    assert again.since == 100.0
    assert decide(again, ME, 115.0, WALL, TIMING).step is Step.TAKE_OVER
    # The holder renewed: the new record is counted from when it was seen.
    renewed = LeaseRecord(OTHER, 15, EARLIER, STAMP, 3)
    later = observe(again, renewed, "8", now=112.0)
    assert (later.since, later.resource_version) == (112.0, "8")
    assert decide(later, ME, 126.9, WALL, TIMING).step is Step.FOLLOW
    assert decide(later, ME, 127.0, WALL, TIMING).step is Step.TAKE_OVER


def test_a_deleted_lease_is_created_again():
    gone = observe(observe(None, held_by(OTHER), "7", now=100.0), None, None, now=101.0)
    assert decide(gone, ME, 101.0, WALL, TIMING).step is Step.CREATE


@pytest.mark.parametrize("since_renewal, lost", [(0, False), (9.99, False), (10, True), (30, True)])
def test_a_leader_stops_once_it_has_not_renewed_for_the_renew_deadline(since_renewal, lost):
    assert leadership_lost(last_renewed=200.0, now=200.0 + since_renewal, timing=TIMING) is lost


def test_the_holder_stops_before_anyone_may_take_over():
    """The safety argument: a follower that saw the holder's last renewal no earlier than it was
    written takes over no sooner than lease_duration after it; the holder stopped at renew_deadline."""
    assert TIMING.renew_deadline < TIMING.lease_duration
    assert TIMING.problems() == []


@pytest.mark.parametrize("timing, problem", [
    (Timing(10, 10, 2), "the lease duration must be longer than the renew deadline"),
    (Timing(15, 2, 2), "the renew deadline must be longer than the retry period"),
    (Timing(15, 10, 0), "the retry period must be positive"),
])
def test_unsafe_timings_are_refused(timing, problem):
    assert problem in timing.problems()


def test_releasing_empties_the_holder_and_keeps_the_count():
    record = released(held_by(ME, transitions=5), WALL)
    assert record == LeaseRecord("", 1, STAMP, STAMP, 5)


def test_a_lease_spec_round_trips():
    spec = {"holderIdentity": ME, "leaseDurationSeconds": 15, "acquireTime": EARLIER, "renewTime": STAMP,
            "leaseTransitions": 2}
    assert LeaseRecord.from_spec(spec).to_spec() == spec
    # A Lease made by someone else with only some fields: no holder, no transitions yet.
    assert LeaseRecord.from_spec({}) == LeaseRecord("", 0, None, None, 0)
