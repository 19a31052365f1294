"""Hypothesis strategies shared by the property tests: JSON as a server or a file may hold it."""

from __future__ import annotations

from hypothesis import strategies as st

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what orjson reads and writes as ints
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)


def json_values(max_leaves: int = 30) -> st.SearchStrategy[object]:
    return st.recursive(
        json_scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)
        ),
        max_leaves=max_leaves,
    )
