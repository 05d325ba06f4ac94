"""Events a decision asks the handler to post (one per real transition)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    type: str  # Normal or Warning
    reason: str
    message: str
