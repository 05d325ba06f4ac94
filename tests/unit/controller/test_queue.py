"""The work queue: one reconcile per key at a time, bursts folded, failures retried with back-off,
delays instead of timers, bounded concurrency."""

import asyncio

import pytest

from mlops_operator.controller.queue import Backoff, WorkQueue


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


async def until(predicate, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


class Recorder:
    def __init__(self, hold: asyncio.Event | None = None, fail: dict[str, int] | None = None,
                 again: float | None = None):
        self.calls: list[str] = []
        self.running: set[str] = set()
        self.most_at_once = 0
        self.hold, self.fail, self.again = hold, fail or {}, again

    async def __call__(self, key):
        assert key not in self.running, "two reconciles of one key at once"
        self.running.add(key)
        self.most_at_once = max(self.most_at_once, len(self.running))
        self.calls.append(key)
        try:
            if self.hold:
                await self.hold.wait()
            if self.fail.get(key):
                self.fail[key] -= 1
                raise RuntimeError("boom")
            return self.again
        finally:
            self.running.discard(key)


def test_a_burst_of_triggers_folds_into_one_more_pass():
    async def scenario():
        hold = asyncio.Event()
        recorder = Recorder(hold)
        queue = WorkQueue("t", recorder, workers=4)
        queue.start()
        queue.add("a")
        await until(lambda: recorder.calls == ["a"])
        for _ in range(50):
            queue.add("a")  # while "a" is being reconciled
        hold.set()
        await until(lambda: queue.idle())
        await queue.stop()
        return recorder.calls

    assert run(scenario()) == ["a", "a"]


def test_workers_bound_concurrency_and_one_key_never_runs_twice_at_once():
    async def scenario():
        hold = asyncio.Event()
        recorder = Recorder(hold)
        queue = WorkQueue("t", recorder, workers=3)
        queue.start()
        for key in "abcdefgh":
            queue.add(key)
        await until(lambda: len(recorder.running) == 3)
        assert queue.depth == 5
        hold.set()
        await until(lambda: queue.idle())
        await queue.stop()
        return recorder

    recorder = run(scenario())
    assert recorder.most_at_once == 3 and sorted(recorder.calls) == list("abcdefgh")


def test_a_failure_is_retried_with_back_off_and_others_go_on():
    async def scenario():
        recorder = Recorder(fail={"bad": 2})
        queue = WorkQueue("t", recorder, workers=1, backoff=Backoff(first=0.01, limit=0.02))
        queue.start()
        queue.add("bad")
        queue.add("good")
        await until(lambda: recorder.calls.count("bad") == 3)
        await until(lambda: queue.idle())
        await queue.stop()
        return recorder.calls

    calls = run(scenario())
    assert calls[:2] == ["bad", "good"] and calls.count("bad") == 3 and calls.count("good") == 1


@pytest.mark.parametrize("failures, delay", [(1, 1.0), (2, 2.0), (5, 16.0), (20, 300.0)])
def test_back_off_doubles_up_to_its_limit(failures, delay):
    assert Backoff().delay(failures) == delay


def test_a_reconcile_asks_to_run_again_later():
    async def scenario():
        recorder = Recorder(again=0.02)
        queue = WorkQueue("t", recorder, workers=1)
        queue.start()
        queue.add("a")
        await until(lambda: len(recorder.calls) >= 3)
        recorder.again = None
        queue.forget("a")
        await until(lambda: queue.idle())
        seen = len(recorder.calls)
        await asyncio.sleep(0.05)
        await queue.stop()
        return seen, len(recorder.calls)

    seen, later = run(scenario())
    assert later <= seen + 1  # forgotten: no timer left running


def test_an_earlier_delay_wins_and_a_pass_replaces_pending_timers():
    async def scenario():
        recorder = Recorder()
        queue = WorkQueue("t", recorder, workers=1)
        queue.start()
        queue.add_after("a", 60)
        queue.add_after("a", 0.01)
        queue.add_after("a", 30)
        await until(lambda: recorder.calls == ["a"])
        await until(lambda: queue.idle())
        pending = len(queue._timers)
        await queue.stop()
        return pending

    assert run(scenario()) == 0
