"""Who holds each alias of a modelName, decided from what is in the cluster alone.

The versions are walked in creation order (creationTimestamp, then name). Each version's gate
compares it with the holder of its compared alias among the versions before it; a version whose
gate passes takes every alias it asks for. So the holder of an alias is the most recently created
version that asks for it and whose gate passes for its current generation; deleting or un-asking a
version gives its aliases back to the previous passing version (a Git revert is a rollback), and
every version's reconcile computes the same answer from the same objects.
"""

from dataclasses import dataclass, field
from datetime import datetime

from ...api.model import CompareTo, Threshold
from .gate import GateVerdict, Opponent, judge


@dataclass(frozen=True)
class Scores:
    """A version's recorded evaluation that stands for its current spec."""

    metrics: dict[str, float]
    dataset: str
    split: str
    digest: str

    def same_data(self, other: "Scores") -> bool:
        return (self.dataset, self.split, self.digest) == (other.dataset, other.split, other.digest)


@dataclass(frozen=True)
class Compared:
    """A version's record of the holder it was last compared with: the holder's score on the data
    the version was scored on (its own, or from a rescore)."""

    model: str
    artifact_uri: str
    digest: str
    metrics: dict[str, float] = field(default_factory=dict)
    rescored: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Version:
    name: str
    created: datetime
    asks: tuple[str, ...]
    artifact_uri: str
    artifact_format: str
    gated: bool  # it has a validation policy
    scores: Scores | None = None
    thresholds: tuple[Threshold, ...] = ()
    compare: CompareTo | None = None
    override: str | None = None
    compared: Compared | None = None
    last_passed: bool = False  # its gate's last answer for these scores (the answer that stands while re-comparing)

    @property
    def order(self) -> tuple[datetime, str]:
        return self.created, self.name


@dataclass(frozen=True)
class Standing:
    """A version's gate as the walk found it: a verdict, or what it still waits for."""

    verdict: GateVerdict | None
    opponent: Version | None = None  # the holder it is compared with
    needs_rescore: bool = False  # the opponent was scored on other data and not yet on this version's
    standing_answer: bool = False  # while re-comparing: the gate's last answer, which holds until then

    @property
    def passed(self) -> bool:
        return self.verdict.passed if self.verdict is not None else self.standing_answer


@dataclass(frozen=True)
class Resolution:
    holders: dict[str, str]  # alias -> version name
    standings: dict[str, Standing]  # version name -> its gate


def _opponent_scores(version: Version, holder: Version) -> Opponent | None:
    """The holder's score on the version's data: its own when it was scored on the same data, else
    what the version recorded of it on that data (new data for the holder alone changes nothing);
    None when it still has to be scored."""
    scores = version.scores
    assert scores is not None
    if holder.scores and holder.scores.same_data(scores):
        return Opponent(holder.name, holder.scores.metrics, rescored=False)
    compared = version.compared
    if compared and (compared.model, compared.artifact_uri, compared.digest) == (holder.name, holder.artifact_uri,
                                                                                 scores.digest):
        return Opponent(holder.name, compared.metrics, rescored=compared.rescored, error=compared.error)
    return None


def standing(version: Version, holder: Version | None) -> Standing:
    """The version's gate given the current holder of its compared alias."""
    if not version.gated:
        return Standing(GateVerdict(()))
    if version.scores is None:
        return Standing(None)
    opponent = None
    if version.compare and holder is not None:
        opponent = _opponent_scores(version, holder)
        if opponent is None:
            return Standing(None, holder, needs_rescore=True, standing_answer=version.last_passed)
    verdict = judge(version.scores.metrics, list(version.thresholds), version.compare, opponent, version.override)
    return Standing(verdict, holder)


def resolve(versions: list[Version]) -> Resolution:
    holders: dict[str, Version] = {}
    standings: dict[str, Standing] = {}
    for version in sorted(versions, key=lambda v: v.order):
        holder = holders.get(version.compare.alias) if version.compare else None
        standings[version.name] = standing(version, holder)
        if standings[version.name].passed:
            holders.update({alias: version for alias in version.asks})
    return Resolution({alias: v.name for alias, v in holders.items()}, standings)
