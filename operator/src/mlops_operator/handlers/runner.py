"""One reconcile of one object: gather -> plan -> apply, and what status says when that fails."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..api.vocabulary import CommonReason
from ..controller.queue import TerminalError
from ..kube.client import Kube, KubeError, NameTaken, unavailable
from ..logic.errors import child_refusal_message, failure_report
from ..logic.plan import Plan
from ..resources.meta import Meta
from .apply import apply, post
from .reads import InvalidSpec

log = logging.getLogger(__name__)
Key = tuple[str, str]


@dataclass(frozen=True)
class Observed:
    """An object as read, with its world for the plan."""

    meta: Meta
    status: dict[str, Any]
    world: Any


@dataclass(frozen=True)
class Controller:
    """A kind's reconcile: its reads, its pure decision, and the shared apply."""

    kind: str
    api_version: str
    gather: Callable[[Kube, Key, datetime], Awaitable[Observed | None]]
    plan: Callable[[Any], Plan]


def _diagnosis(kind: str, error: Exception) -> tuple[CommonReason, str, bool]:
    """Reason, message, and whether the object is Stalled: retrying the same spec cannot help."""
    if isinstance(error, InvalidSpec):
        return CommonReason.INVALID_SPEC, f"the spec does not parse: {error}", True
    if isinstance(error, NameTaken):
        return CommonReason.CHILD_CONFLICT, str(error), False
    if isinstance(error, KubeError) and error.refused:
        return CommonReason.CHILD_REFUSED, child_refusal_message(kind, error.message), True
    return CommonReason.RECONCILE_ERROR, f"{type(error).__name__}: {error}", False


async def reconcile(controller: Controller, kube: Kube, key: Key) -> float | None:
    """Returns when to look again; raises (after saying so on the object) to be retried with back-off."""
    observed = None
    try:
        observed = await controller.gather(kube, key, datetime.now(UTC))
        if observed is None:
            return None
        plan = controller.plan(observed.world)
        await apply(kube, observed.meta, plan)
        return plan.requeue_after
    except Exception as error:
        if isinstance(error, KubeError) and error.code == 404 and await _gone(kube, controller, key):
            # Deleted (or its namespace) while being reconciled: no error, and nowhere to report one.
            log.debug("%s %s/%s: gone while being reconciled: %s", controller.kind, *key, error)
            return None
        if unavailable(error):
            # Nothing of the object's own: no Ready=False, no Event, only a retry with back-off
            # (the status could not be written now anyway).
            log.warning("%s %s/%s: the API server is unavailable: %s: %s", controller.kind, *key,
                        type(error).__name__, error)
            raise
        await _report(kube, controller, key, observed, error)
        if isinstance(error, InvalidSpec):
            # Not retried: nothing changes until the spec does, and that is a watch event.
            raise TerminalError(str(error)) from error
        raise


async def _gone(kube: Kube, controller: Controller, key: Key) -> bool:
    try:
        return await kube.get(controller.api_version, controller.kind, *key) is None
    except Exception:  # the API may be what failed: then it is an error to report and retry
        return False


async def _report(kube: Kube, controller: Controller, key: Key, observed: Observed | None, error: Exception) -> None:
    reason, message, stalled = _diagnosis(controller.kind, error)
    log.warning("%s %s/%s: %s: %s", controller.kind, *key, reason, message)
    try:
        if observed is None:
            body = await kube.get(controller.api_version, controller.kind, *key)
            if body is None:
                return
            meta, status = Meta.of(body), body.get("status") or {}
        else:
            meta, status = observed.meta, observed.status
        patch, events = failure_report(status, meta.generation, reason, message, stalled,
                                       datetime.now(UTC))
        if patch:
            await kube.patch_status(meta, patch)
        for event in events:
            await post(kube, meta, event)
    except Exception as report_error:  # the API may be what failed; the retry tries again
        log.warning("%s %s/%s: could not report the failure: %s", controller.kind, *key, report_error)
