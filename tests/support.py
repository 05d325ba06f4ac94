"""Helpers shared by the integration tests."""

import json
import time
from typing import Any, Callable


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Polls predicate until it returns something truthy; fails with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def get_json(cluster, namespace: str | None, *what: str) -> dict:
    return json.loads(cluster.kubectl("get", *what, "-o", "json", namespace=namespace).stdout)
