"""One vocabulary: every phase, condition type and reason is declared once, with its meaning, and
the CRDs' phase enums are exactly the declared phases."""

import inspect

import pytest

from mlops_operator.api import vocabulary
from mlops_operator.api.crdgen import openapi_schema
from mlops_operator.api.kinds import KINDS

TERMS = [cls for _, cls in inspect.getmembers(vocabulary, inspect.isclass)
         if issubclass(cls, vocabulary.Term) and cls is not vocabulary.Term]


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.__name__)
def test_every_term_says_what_it_means(term):
    assert list(term) and all(member.description.strip() for member in term)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_each_kinds_phase_is_its_declared_vocabulary(kind):
    phases = kind.phases
    assert openapi_schema(kind.status)["properties"]["phase"]["enum"] == [str(p) for p in phases]


def test_terms_are_plain_strings_on_the_wire():
    import json

    assert json.dumps({"reason": vocabulary.DatasetReason.VALIDATION_PASSED}) == '{"reason": "ValidationPassed"}'


def test_every_term_class_belongs_to_a_kind():
    used = {kind.phases for kind in KINDS} | {t for kind in KINDS for t in kind.terms} | {vocabulary.ConditionType}
    assert set(TERMS) == used
