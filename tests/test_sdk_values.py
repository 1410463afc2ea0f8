"""`krmfn.same_value`: equal values of equal types all the way down, as YAML sees them."""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from krmfn import same_value

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                    st.floats(allow_nan=True, allow_infinity=True))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=20)


@given(VALUES)
def test_a_value_is_the_same_as_its_copy_nans_included(value: Any) -> None:
    assert same_value(value, copy.deepcopy(value))


@given(VALUES, VALUES)
def test_same_values_have_the_same_yaml(a: Any, b: Any) -> None:
    """Same means one YAML text: a difference that YAML writes differently is never same."""
    import yaml

    if same_value(a, b):
        assert yaml.safe_dump(a) == yaml.safe_dump(b)


def test_types_and_signs_tell_values_apart() -> None:
    assert not same_value(1, 1.0) and not same_value(1, True) and not same_value(0, False)
    assert not same_value(0.0, -0.0) and not same_value("1", 1)
    assert same_value(math.nan, float("nan")) and not same_value(math.nan, math.inf)
    assert not same_value({"a": 1}, {"a": 1, "b": None}) and not same_value([1], [1, 1])
    assert same_value({"a": [1, {"b": math.nan}]}, {"a": [1, {"b": math.nan}]})
