"""What the liveness endpoint answers: the operator is alive unless the API server has stayed
unreachable, check after check, for the grace period. An API server restart (seconds) is not
trouble; an API server that is gone is, and only then.

The outage is measured from the first failed check, not from the last success: checks run only
when the endpoint is asked (a kubelet asks every 10 s), so the last success may be long before the
API server went away, and counting from it would call a blip an outage.
"""

from dataclasses import dataclass, replace

GRACE_SECONDS = 5.0  # of failed checks before the endpoint reports trouble
RECHECK_SECONDS = 1.0  # a check younger than this answers for the API server (probes come in pairs)


@dataclass(frozen=True)
class ApiContact:
    """The checks of the API server so far: when the last one ran, when the current run of failed
    checks began (None: the last check succeeded), and the last failure's words."""

    checked_at: float | None = None
    failing_since: float | None = None
    error: str = ""

    def after_check(self, now: float, error: str | None) -> "ApiContact":
        """The record after a check at `now` that failed with `error` (None: it succeeded)."""
        if error is None:
            return ApiContact(checked_at=now)
        return replace(self, checked_at=now, error=error,
                       failing_since=now if self.failing_since is None else self.failing_since)

    def stale(self, now: float, recheck: float = RECHECK_SECONDS) -> bool:
        """Whether to check again before answering."""
        return self.checked_at is None or now - self.checked_at >= recheck


@dataclass(frozen=True)
class Verdict:
    alive: bool
    message: str


def verdict(contact: ApiContact, now: float, grace: float = GRACE_SECONDS) -> Verdict:
    if contact.failing_since is None:
        return Verdict(True, "the API server answers")
    unreachable = now - contact.failing_since
    words = f"the API server has not answered for {unreachable:.0f}s: {contact.error}"
    return Verdict(unreachable < grace, words)
