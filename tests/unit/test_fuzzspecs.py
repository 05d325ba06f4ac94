"""The fuzzed-spec strategies (tests/fuzzspecs.py) follow the API models: a drawn valid spec parses
strictly (so the integration test's agreement check judges the CRD, not the walker), and a broken one
says what was broken."""

import json

import pytest
from hypothesis import HealthCheck, given, seed, settings

from fuzzspecs import broken_specs, valid_specs
from mlops_operator.api.kinds import KINDS

DATA = "file:///tmp/fuzz/data.csv"
FAST = settings(max_examples=10, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])


@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
def test_valid_specs_parse_strictly_through_the_model(kind):
    @seed(13)
    @FAST
    @given(valid_specs(kind, DATA))
    def parses(spec):
        kind.spec.model_validate(json.loads(json.dumps(spec)), strict=True)

    parses()


@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
def test_broken_specs_say_what_was_broken(kind):
    @seed(13)
    @FAST
    @given(broken_specs(kind, DATA))
    def labelled(drawn):
        spec, label = drawn
        assert isinstance(spec, dict | list | str | int | float | bool)
        assert label.startswith("CEL: ") or " at spec." in label

    labelled()
