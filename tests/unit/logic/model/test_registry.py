"""Who holds each alias of a modelName: resolve() over the versions in the cluster."""

from datetime import timedelta
from itertools import permutations

import pytest

from mlops_operator.api.model import CompareTo, Threshold
from mlops_operator.logic.model.registry import Compared, Scores, Version, resolve

from builders import NOW

DIGEST = "sha256:" + "a" * 64
NEW_DIGEST = "sha256:" + "b" * 64
BEATS = CompareTo(alias="champion", metric="auc")
T0 = NOW - timedelta(days=1)


def version(name: str, minute: int, auc: float | None = None, *, asks: tuple[str, ...] = ("champion",),
            digest: str = DIGEST, split: str = "test", compare: CompareTo | None = BEATS, gated: bool = True,
            thresholds: tuple[Threshold, ...] = (), override: str | None = None,
            rescore: Compared | None = None) -> Version:
    """A version created `minute` minutes after T0, scored auc on the Dataset's split (no scores
    yet when auc is None)."""
    scores = Scores({"auc": auc}, "data", split, digest) if auc is not None and gated else None
    return Version(name, T0 + timedelta(minutes=minute), asks, f"s3://models/{name}/model.joblib", "sklearn", gated,
                   scores, thresholds, compare if gated else None, override, rescore)


def holders(versions: list[Version]) -> dict[str, str]:
    return resolve(versions).holders


V1 = version("v1", 1, 0.80)
V2_WORSE = version("v2", 2, 0.78)
V3_BETTER = version("v3", 3, 0.85)


def test_a_single_version_takes_the_alias_it_asks_for():
    resolution = resolve([V1])
    assert resolution.holders == {"champion": "v1"}
    mine = resolution.standings["v1"]
    assert mine.passed and mine.opponent is None and not mine.needs_rescore
    assert "no version holds champion" in mine.verdict.checks[0].message


def test_a_worse_version_is_refused_and_the_holder_keeps_the_alias():
    resolution = resolve([V1, V2_WORSE])
    assert resolution.holders == {"champion": "v1"}
    refused = resolution.standings["v2"]
    assert not refused.passed and refused.opponent == V1
    assert [c.name for c in refused.verdict.failed_checks] == ["auc beats champion"]


def test_a_better_version_takes_the_alias_from_the_holder_before_it():
    resolution = resolve([V1, V2_WORSE, V3_BETTER])
    assert resolution.holders == {"champion": "v3"}
    assert resolution.standings["v3"].opponent == V1  # v2 was refused: v1 is the holder v3 must beat
    assert resolution.standings["v1"].passed and not resolution.standings["v2"].passed


def test_deleting_the_holder_gives_the_alias_back_to_the_previous_passing_version():
    assert holders([V1, V2_WORSE, V3_BETTER]) == {"champion": "v3"}
    assert holders([V1, V2_WORSE]) == {"champion": "v1"}


@pytest.mark.parametrize("asks, expected", [
    ((), {"champion": "v1"}),
    (("challenger",), {"champion": "v1", "challenger": "v3"}),
    (("champion", "challenger"), {"champion": "v3", "challenger": "v3"}),
])
def test_un_asking_gives_the_alias_back(asks, expected):
    v3 = version("v3", 3, 0.85, asks=asks)
    assert holders([V1, V2_WORSE, v3]) == expected


def test_a_newer_passing_version_takes_only_the_aliases_it_asks_for():
    v1 = version("v1", 1, 0.80, asks=("champion", "stable"))
    assert holders([v1, version("v2", 2, 0.85)]) == {"champion": "v2", "stable": "v1"}


@pytest.mark.parametrize("b_auc, holder", [(0.9, "v-b"), (0.8, "v-b"), (0.7, "v-a")])
def test_a_tie_on_creation_time_is_broken_by_name(b_auc, holder):
    """Same creationTimestamp: v-a comes first, v-b is compared with it (equal values pass)."""
    a, b = version("v-a", 5, 0.8), version("v-b", 5, b_auc)
    assert holders([a, b]) == holders([b, a]) == {"champion": holder}
    assert resolve([b, a]).standings["v-b"].opponent == a


def test_a_tie_on_creation_time_without_comparison_goes_to_the_last_name():
    a, b = version("v-a", 5, 0.8, compare=None), version("v-b", 5, 0.1, compare=None)
    assert holders([b, a]) == {"champion": "v-b"}


FLEET = [
    version("v1", 1, 0.80, asks=("champion", "stable")),
    version("v2", 2, 0.78),
    version("v3", 3, 0.85, asks=("champion", "challenger")),
    version("v4", 3, 0.83),  # created with v3, compared with it, refused
    version("v5", 4, None, asks=("challenger",)),  # no scores yet
    version("v6", 5, gated=False, asks=("canary",)),
]


def test_every_order_of_the_list_gives_the_same_holders_and_verdicts():
    expected = resolve(FLEET)
    assert expected.holders == {"champion": "v3", "stable": "v1", "challenger": "v3", "canary": "v6"}
    for order in permutations(FLEET):
        resolution = resolve(list(order))
        assert resolution.holders == expected.holders, [v.name for v in order]
        assert resolution.standings == expected.standings, [v.name for v in order]


@pytest.mark.parametrize("v1_minute, v3_minute", [(1, 3), (3, 1)], ids=["v3 created last", "v3 created first"])
def test_the_better_version_holds_whichever_was_created_first(v1_minute, v3_minute):
    """v3 beats v1 when it comes after it, and v1 loses to v3 when it comes after it."""
    v1, v3 = version("v1", v1_minute, 0.80), version("v3", v3_minute, 0.90)
    resolution = resolve([v1, v3])
    assert resolution.holders == {"champion": "v3"}
    later = "v1" if v1_minute > v3_minute else "v3"
    assert resolution.standings[later].opponent is not None


@pytest.mark.parametrize("v2", [
    version("v2", 2, 0.9, digest=NEW_DIGEST),
    version("v2", 2, 0.9, split="validation"),
], ids=["other digest", "other split"])
def test_a_holder_scored_on_other_data_needs_a_rescore_and_keeps_the_alias_meanwhile(v2):
    resolution = resolve([V1, v2])
    assert resolution.holders == {"champion": "v1"}
    waiting = resolution.standings["v2"]
    assert waiting.needs_rescore and waiting.opponent == V1 and waiting.verdict is None and not waiting.passed


def _rescored(auc: float, model: str = "v1", uri: str = "s3://models/v1/model.joblib", digest: str = NEW_DIGEST,
              error: str | None = None) -> Compared:
    return Compared(model, uri, digest, {"auc": auc} if error is None else {}, rescored=True, error=error)


@pytest.mark.parametrize("rescore, holder, passed", [
    (_rescored(0.85), "v2", True),
    (_rescored(0.95), "v1", False),
    (_rescored(0.0, error="the evaluator failed: boom"), "v1", False),
], ids=["better than the rescored holder", "worse than the rescored holder", "the rescore failed"])
def test_a_matching_rescore_lets_the_comparison_proceed(rescore, holder, passed):
    v2 = version("v2", 2, 0.9, digest=NEW_DIGEST, rescore=rescore)
    resolution = resolve([V1, v2])
    mine = resolution.standings["v2"]
    assert resolution.holders == {"champion": holder}
    assert not mine.needs_rescore and mine.verdict is not None and mine.passed is passed
    assert "rescored" in mine.verdict.checks[0].message or rescore.error in mine.verdict.checks[0].message


@pytest.mark.parametrize("rescore", [
    _rescored(0.5, uri="s3://models/v1/other.joblib"),
    _rescored(0.5, model="v0"),
    _rescored(0.5, digest=DIGEST),
], ids=["another artifact", "another holder", "on other data"])
def test_a_rescore_of_something_else_does_not_count(rescore):
    v2 = version("v2", 2, 0.9, digest=NEW_DIGEST, rescore=rescore)
    resolution = resolve([V1, v2])
    assert resolution.standings["v2"].needs_rescore and resolution.holders == {"champion": "v1"}


def test_a_rescore_of_the_previous_holder_is_stale_once_another_version_holds_the_alias():
    v2 = version("v2", 2, 0.81)  # beats v1 on the same data: the holder is now v2
    v3 = version("v3", 3, 0.9, digest=NEW_DIGEST, rescore=_rescored(0.5))  # rescored v1, not v2
    resolution = resolve([V1, v2, v3])
    assert resolution.holders == {"champion": "v2"}
    assert resolution.standings["v3"].needs_rescore and resolution.standings["v3"].opponent == v2


def test_ungated_versions_take_their_aliases():
    v2 = version("v2", 2, gated=False, asks=("champion", "canary"))
    resolution = resolve([V1, v2])
    assert resolution.holders == {"champion": "v2", "canary": "v2"}
    assert resolution.standings["v2"].passed and resolution.standings["v2"].verdict.checks == ()


def test_an_ungated_holder_must_be_scored_on_the_candidates_data():
    v1 = version("v1", 1, gated=False)
    resolution = resolve([v1, version("v2", 2, 0.9)])
    assert resolution.holders == {"champion": "v1"} and resolution.standings["v2"].needs_rescore


def test_a_version_without_scores_holds_nothing_and_the_next_compares_with_the_holder_before_it():
    v2 = version("v2", 2, None)
    resolution = resolve([V1, v2, V3_BETTER])
    assert resolution.standings["v2"].verdict is None and not resolution.standings["v2"].passed
    assert resolution.standings["v3"].opponent == V1
    assert resolution.holders == {"champion": "v3"}
    assert holders([V1, v2]) == {"champion": "v1"}


def test_a_failed_threshold_holds_nothing_and_the_next_compares_with_the_holder_before_it():
    bar = (Threshold(metric="auc", min=0.82),)
    v1 = version("v1", 1, 0.85, thresholds=bar)
    v2 = version("v2", 2, 0.81, thresholds=bar, compare=None)  # below the bar
    v3 = version("v3", 3, 0.84, thresholds=bar)  # worse than v1
    resolution = resolve([v1, v2, v3])
    assert resolution.holders == {"champion": "v1"}
    assert [c.name for c in resolution.standings["v2"].verdict.failed_checks] == ["auc >= 0.82"]
    assert resolution.standings["v3"].opponent == v1


def test_an_override_takes_the_alias_despite_a_lost_comparison():
    v2 = version("v2", 2, 0.7, override="INC-123")
    resolution = resolve([V1, v2])
    assert resolution.holders == {"champion": "v2"}
    assert resolution.standings["v2"].verdict.overridden == "INC-123"


def test_a_comparison_on_another_alias_uses_that_alias_holder():
    challenger = CompareTo(alias="challenger", metric="auc")
    v1 = version("v1", 1, 0.9)
    v2 = version("v2", 2, 0.7, asks=("challenger",), compare=None)
    v3 = version("v3", 3, 0.75, asks=("challenger",), compare=challenger)
    resolution = resolve([v1, v2, v3])
    assert resolution.standings["v3"].opponent == v2
    assert resolution.holders == {"champion": "v1", "challenger": "v3"}
