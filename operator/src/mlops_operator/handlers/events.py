"""Posting the Events a plan asks for, on the object they are about."""

from typing import Any

import kopf

from ..logic.events import Event


def post(obj: dict[str, Any], event: Event) -> None:
    kopf.event(obj, type=event.type, reason=event.reason, message=event.message)
