"""One reconcile at a time per object, and bursts of triggers folded into one more pass.

Many watch events (a dozen trial Jobs finishing, the initial listing after a restart) ask for the
same Experiment; the first caller runs the reconcile, later callers only mark it dirty, and the
runner loops while it is dirty. asyncio runs one task at a time, so no lock is needed.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class _State:
    running: bool = False
    dirty: bool = False


class Coalescer:
    def __init__(self, reconcile: Callable[[str, str], Awaitable[None]]):
        self._reconcile = reconcile
        self._states: dict[tuple[str, str], _State] = {}

    async def request(self, namespace: str, name: str) -> None:
        key = (namespace, name)
        state = self._states.setdefault(key, _State())
        state.dirty = True
        if state.running:
            return
        state.running = True
        try:
            while state.dirty:
                state.dirty = False
                await self._reconcile(namespace, name)
        finally:
            state.running = False
            if not state.dirty:
                self._states.pop(key, None)
