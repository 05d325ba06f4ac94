"""A work queue per kind, in the manner of client-go's: each object is reconciled by one worker at
a time; triggers arriving meanwhile fold into one more pass; a failed reconcile is retried with
exponential back-off; a reconcile may ask to run again after a delay (which replaces kopf's
timers and daemons, and with them the finalizers they require). A bounded number of workers keeps
concurrency, and connections, bounded."""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from .metrics import ControllerMetrics, QueueObserver, Result

log = logging.getLogger(__name__)

Key = Hashable


@dataclass(frozen=True)
class Backoff:
    """Retry delays of a failing key: first * 2^(failures-1), at most `limit` seconds."""

    first: float = 1.0
    limit: float = 300.0

    def delay(self, failures: int) -> float:
        return min(self.limit, self.first * 2 ** max(0, failures - 1))


Reconcile = Callable[[Key], Awaitable[float | None]]
"""Reconciles one key; returns seconds after which to run it again, or None. Raising retries it
with back-off, except TerminalError."""


class TerminalError(Exception):
    """A failure the same input will fail again (a spec that does not parse): counted as an error,
    not retried; the object's next change queues it again."""


class WorkQueue:
    def __init__(self, name: str, reconcile: Reconcile, workers: int = 4, backoff: Backoff = Backoff(),
                 observer: QueueObserver | None = None):
        self.name = name
        self._reconcile = reconcile
        self._workers = workers
        self._backoff = backoff
        self._queue: deque[Key] = deque()
        self._dirty: set[Key] = set()  # queued, or asked for again while processing
        self._processing: set[Key] = set()
        self._failures: dict[Key, int] = {}
        self._timers: dict[Key, tuple[float, asyncio.TimerHandle]] = {}
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._added_at: dict[Key, float] = {}  # since when a dirty key waits for a worker
        self._started_at: dict[Key, float] = {}  # since when a key is being reconciled
        # Without an observer of its own (tests), the queue reports into a registry nobody reads.
        self._observer = observer or ControllerMetrics(CollectorRegistry()).observer(name, workers)
        self._observer.watch_processing(self._unfinished_seconds, self._longest_running_seconds)

    # --- adding -----------------------------------------------------------------------------------

    def add(self, key: Key) -> None:
        """Asks for a reconcile of key as soon as a worker is free (at most once queued)."""
        if key in self._dirty:
            return
        self._dirty.add(key)
        self._added_at[key] = time.monotonic()
        self._observer.added(len(self._dirty))
        if key not in self._processing:
            self._queue.append(key)
            self._ready.set()

    def add_after(self, key: Key, delay: float) -> None:
        """Asks for a reconcile after delay seconds; an earlier request for the key wins."""
        if delay <= 0:
            self.add(key)
            return
        self._observer.delayed()
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        pending = self._timers.get(key)
        if pending and pending[0] <= due:
            return
        if pending:
            pending[1].cancel()
        self._timers[key] = (due, loop.call_at(due, self._fire, key))

    def _fire(self, key: Key) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def forget(self, key: Key) -> None:
        """Drops key's pending delayed request and failure count (its object is gone)."""
        pending = self._timers.pop(key, None)
        if pending:
            pending[1].cancel()
        self._failures.pop(key, None)

    # --- state ------------------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        return len(self._queue)

    def idle(self) -> bool:
        return not self._queue and not self._processing

    def _unfinished_seconds(self) -> float:
        now = time.monotonic()
        return sum(now - started for started in self._started_at.values())

    def _longest_running_seconds(self) -> float:
        now = time.monotonic()
        return max((now - started for started in self._started_at.values()), default=0.0)

    # --- workers ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(), name=f"{self.name} worker {i}") for i in range(self._workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    async def _next(self) -> Key:
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    async def _work(self) -> None:
        while True:
            key = await self._next()
            self._dirty.discard(key)
            self._processing.add(key)
            started = self._started_at[key] = time.monotonic()
            self._observer.started(started - self._added_at.pop(key, started), len(self._dirty))
            # This pass decides anew when the key needs another look.
            pending = self._timers.pop(key, None)
            if pending:
                pending[1].cancel()
            result, terminal = Result.SUCCESS, False
            try:
                again = await self._reconcile(key)
            except asyncio.CancelledError:
                raise
            except TerminalError:
                result, terminal = Result.ERROR, True
                self._failures.pop(key, None)
            except Exception:  # the reconcile said what failed, on the object; retry with back-off
                result = Result.ERROR
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                delay = self._backoff.delay(failures)
                log.info("%s %s: failed %d time(s) in a row; retrying in %.1fs", self.name, key, failures, delay)
                log.debug("%s %s: the failure", self.name, key, exc_info=True)
                self.add_after(key, delay)
            else:
                self._failures.pop(key, None)
                if again is not None:
                    result = Result.REQUEUE_AFTER
                    self.add_after(key, again)
            finally:
                self._processing.discard(key)
                self._started_at.pop(key, None)
                if key in self._dirty:
                    self._queue.append(key)
                    self._ready.set()
                seconds = time.monotonic() - started
                log.debug("%s %s reconciled in %.3fs", self.name, key, seconds)
            self._observer.finished(result, seconds, terminal)
