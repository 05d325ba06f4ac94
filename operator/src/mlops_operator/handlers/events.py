"""Posting the Events a plan asks for, on the object they are about."""

from typing import Any

import kopf

from ..logic.events import Event
from . import kube


def post(obj: dict[str, Any], event: Event) -> None:
    kopf.event(obj, type=event.type, reason=event.reason, message=event.message)


async def report(obj: dict[str, Any], status_patch: dict[str, Any], planned: list[Event]) -> None:
    """The last step of a reconcile: the status patch when anything changed, then the Events."""
    if status_patch:
        meta = obj["metadata"]
        await kube.patch_status(obj["kind"], meta["namespace"], meta["name"], status_patch)
    for event in planned:
        post(obj, event)
