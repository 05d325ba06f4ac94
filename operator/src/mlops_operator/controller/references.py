"""Who refers to whom, learnt from watch events: which Experiments use a Dataset, so a Dataset's
change wakes exactly them. A plain map the event handlers keep, not a kopf index (an index makes
every handler wait until it is complete, which stalls a restart over many objects)."""

from collections import defaultdict

Key = tuple[str, str]  # (namespace, name)


class References:
    def __init__(self) -> None:
        self._target: dict[Key, Key] = {}  # referrer -> referred
        self._referrers: defaultdict[Key, set[Key]] = defaultdict(set)

    def set(self, referrer: Key, target: Key | None) -> None:
        """Records what referrer refers to now (None: nothing, e.g. it was deleted)."""
        previous = self._target.pop(referrer, None)
        if previous is not None:
            self._referrers[previous].discard(referrer)
            if not self._referrers[previous]:
                del self._referrers[previous]
        if target is not None:
            self._target[referrer] = target
            self._referrers[target].add(referrer)

    def referrers(self, target: Key) -> list[Key]:
        return sorted(self._referrers.get(target, ()))
