"""The shape of every controller's decision: what to create, delete, patch and announce."""

from dataclasses import dataclass, field
from typing import Any

NORMAL, WARNING = "Normal", "Warning"


@dataclass(frozen=True)
class Event:
    """An Event the decision asks to post on the object (one per real transition)."""

    type: str  # Normal or Warning
    reason: str
    message: str


@dataclass(frozen=True)
class Creation:
    """A child to create; its Event is posted only if this create made it (not on a 409)."""

    manifest: dict[str, Any]
    event: Event | None = None


@dataclass(frozen=True)
class Deletion:
    api_version: str
    kind: str
    name: str


@dataclass(frozen=True)
class Plan:
    """The complete decision of one reconcile. Applying it is writes only: deletions, creations,
    server-side applies, one status merge patch (empty: nothing to write), then the Events."""

    create: list[Creation] = field(default_factory=list)
    delete: list[Deletion] = field(default_factory=list)
    apply: list[dict[str, Any]] = field(default_factory=list)
    """Children kept in a desired state (server-side apply), listed only when they differ from it."""
    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    requeue_after: float | None = None
    """Seconds until the object needs another look though nothing it watches changes."""
