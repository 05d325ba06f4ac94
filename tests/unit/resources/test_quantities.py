"""Resource quantities compare by value: the API server stores them in canonical form."""

from decimal import Decimal

import pytest

from mlops_operator.resources.quantities import quantity, same_quantity


@pytest.mark.parametrize("written, canonical", [
    ("1024Mi", "1Gi"), ("0.5", "500m"), (0.5, "500m"), (1, "1"), ("1000m", "1"), ("1e3", "1k"), ("2048Ki", "2Mi"),
    ("1.5Gi", "1536Mi"), ("100M", "100M"), ("+1", "1"), (".5", "500m"), ("1E3", "1k"),
])
def test_a_quantity_and_its_canonical_form_are_the_same(written, canonical):
    assert same_quantity(written, canonical)


@pytest.mark.parametrize("a, b", [("1Gi", "1G"), ("1", "1m"), ("500m", "501m"), ("1Gi", None), ("1Gi", "big")])
def test_different_quantities_differ(a, b):
    assert not same_quantity(a, b)


@pytest.mark.parametrize("text", ["", "Gi", "1GB", "1.2.3", "one", "1 Gi", True, None, [1]])
def test_what_is_not_a_quantity_is_none(text):
    assert quantity(text) is None


def test_suffixes_are_exact():
    assert quantity("1Ki") == 1024 and quantity("3m") == Decimal("0.003") and quantity("1e-3") == Decimal("0.001")
