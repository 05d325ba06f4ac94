"""The aliases a version holds after a resolution, and the hand-overs that changed them: the
promotion history each side records (whom it replaced, whom it was superseded by) and announces."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...api.model import MAX_HISTORY
from ...api.vocabulary import AliasChange, ModelEvent, ModelReason
from ...resources.meta import format_time
from ..plan import NORMAL, Event
from .registry import Resolution, Standing


@dataclass(frozen=True)
class Holdings:
    held: list[str]
    promoted_at: dict[str, str]
    history: list[dict[str, Any]]
    events: list[Event]


def previous_holder(alias: str, me: str, siblings: list[tuple[str, dict[str, Any]]]) -> str | None:
    """The version that held alias before me: one whose status still says so, or one whose last
    hand-over of it names me (it may have let go before I recorded taking it)."""
    for name, status in siblings:
        if name != me and alias in (status.get("aliases") or []):
            return name
    for name, status in siblings:
        lost = [r for r in status.get("history") or [] if r.get("alias") == alias]
        if name != me and lost and lost[-1].get("change") == AliasChange.LOST and lost[-1].get("supersededBy") == me:
            return name
    return None


def _why_lost(alias: str, asks: tuple[str, ...], new_holder: str | None, standing: Standing) -> str:
    if new_holder:
        return ModelReason.SUPERSEDED
    if alias not in asks:
        return ModelReason.NOT_ASKED
    return ModelReason.GATE_FAILED if standing.verdict is not None else ModelReason.EVALUATING


def holdings(me: str, asks: tuple[str, ...], status: dict[str, Any], resolution: Resolution,
             siblings: list[tuple[str, dict[str, Any]]], now: datetime) -> Holdings:
    standing = resolution.standings[me]
    before = list(status.get("aliases") or [])
    held = [a for a in asks if resolution.holders.get(a) == me]
    at = format_time(now)
    history, events = list(status.get("history") or []), []
    overridden = standing.verdict.overridden if standing.verdict else None
    for alias in (a for a in held if a not in before):
        replaced = previous_holder(alias, me, siblings)
        reason = ModelReason.OVERRIDDEN if overridden else ModelReason.GATE_PASSED
        history.append({k: v for k, v in {"alias": alias, "change": AliasChange.TOOK, "at": at, "replaced": replaced,
                                           "reason": reason}.items() if v})
        source = f" from {replaced}" if replaced else "; no version held it"
        audit = f", by override despite a lost comparison: {overridden}" if overridden else ""
        events.append(Event(NORMAL, ModelReason.OVERRIDDEN if overridden else ModelEvent.ALIAS_TAKEN,
                            f"took {alias}{source}{audit}"))
    for alias in (a for a in before if a not in held):
        new_holder = resolution.holders.get(alias)
        reason = _why_lost(alias, asks, new_holder, standing)
        history.append({k: v for k, v in {"alias": alias, "change": AliasChange.LOST, "at": at,
                                           "supersededBy": new_holder, "reason": reason}.items() if v})
        events.append(Event(NORMAL, ModelEvent.ALIAS_LOST,
                            f"lost {alias} to {new_holder}" if new_holder else f"released {alias}: {reason}"))
    promoted_at = {a: (status.get("promotedAt") or {}).get(a) or at for a in held}
    return Holdings(held, promoted_at, history[-MAX_HISTORY:], events)
