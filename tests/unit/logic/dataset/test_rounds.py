"""Validation rounds: named by the clock, one at a time per generation, old ones cleaned up."""

from datetime import timedelta

from mlops_operator import labels
from mlops_operator.logic.dataset.rounds import due_round, rounds, seconds_until_next_round

from builders import NOW, facts, job


def test_rounds_advance_with_the_interval_since_creation():
    assert due_round(NOW, NOW + timedelta(minutes=25), None) == 0
    assert due_round(NOW, NOW + timedelta(minutes=9), 600) == 0
    assert due_round(NOW, NOW + timedelta(minutes=25), 600) == 2
    assert seconds_until_next_round(NOW, NOW + timedelta(minutes=25), 600) == 300


def round_job(generation, number, state):
    return job(f"d-validate-g{generation}-{number}", "uid-d", state=state,
               labels_={labels.GENERATION: str(generation), labels.ROUND: str(number)})


def test_a_running_round_delays_the_next_and_the_newest_finished_is_the_result():
    jobs = facts(round_job(1, 0, "complete"), round_job(1, 1, "running"))
    seen = rounds(jobs, 1, "d-validate-g1-2", 2, "d-validate-g1-0")
    assert seen.busy and [j.name for j in seen.running] == ["d-validate-g1-1"]
    assert seen.latest_finished.name == "d-validate-g1-0" and seen.stale == []


def test_old_generations_and_superseded_rounds_are_stale():
    jobs = facts(round_job(1, 0, "complete"), round_job(2, 0, "complete"), round_job(2, 1, "complete"),
                 round_job(2, 2, "complete"))
    seen = rounds(jobs, 2, "d-validate-g2-3", 3, "d-validate-g2-1")
    assert not seen.busy and seen.latest_finished.name == "d-validate-g2-2"
    assert seen.stale == ["d-validate-g1-0", "d-validate-g2-0"]


def test_the_due_round_existing_makes_it_busy():
    assert rounds(facts(round_job(1, 0, "complete")), 1, "d-validate-g1-0", 0, None).busy
