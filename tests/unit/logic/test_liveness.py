"""When the liveness endpoint reports trouble: only once the API server has stayed unreachable for
the grace period, measured from the first failed check."""

import pytest

from mlops_operator.logic.liveness import ApiContact, verdict


def checks(*outcomes: tuple[float, str | None]) -> ApiContact:
    contact = ApiContact()
    for at, error in outcomes:
        contact = contact.after_check(at, error)
    return contact


@pytest.mark.parametrize("outcomes, now, alive, words", [
    ([(0, None)], 0, True, "the API server answers"),
    # A restart of a few seconds is not trouble.
    ([(0, None), (10, "ConnectError")], 10, True, "has not answered for 0s: ConnectError"),
    ([(0, None), (10, "ConnectError"), (14, "ConnectError")], 14, True, "for 4s"),
    # Counted from the first failed check, not from the last success ten seconds before it.
    ([(0, None), (10, "ConnectError"), (15, "/readyz answered 500: [-]etcd failed")], 15, False,
     "has not answered for 5s: /readyz answered 500: [-]etcd failed"),
    ([(0, "ConnectError"), (20, "ConnectError")], 20, False, "for 20s"),
    # One answer ends the outage.
    ([(0, "ConnectError"), (20, "ConnectError"), (21, None)], 21, True, "the API server answers"),
    ([(0, "ConnectError"), (21, None), (30, "ConnectError")], 30, True, "for 0s"),
])
def test_trouble_only_after_the_grace_period_of_failed_checks(outcomes, now, alive, words):
    judged = verdict(checks(*outcomes), now)
    assert judged.alive is alive
    assert words in judged.message


@pytest.mark.parametrize("contact, now, stale", [
    (ApiContact(), 0, True),  # never checked
    (checks((10, None)), 10.5, False),  # two probes at once share one check
    (checks((10, None)), 11, True),
    (checks((10, "ConnectError")), 10.5, False),
])
def test_a_check_answers_for_a_second(contact, now, stale):
    assert contact.stale(now) is stale
