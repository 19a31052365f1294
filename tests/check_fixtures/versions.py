"""Fixtures for the versions area."""

from __future__ import annotations

from tests import factories as f
from tests.check_fixtures import fixture


@fixture("VER-003", "pass")
def skew_pass():
    return f.make_inventory(
        version="v1.29.3", nodes=[f.node("n1", kubelet="v1.29.3"), f.node("n2", kubelet="v1.28.7")]
    )


@fixture("VER-003", "fail")
def skew_fail():
    return f.make_inventory(
        version="v1.29.3", nodes=[f.node("n1", kubelet="v1.29.3"), f.node("old", kubelet="v1.25.16")]
    )
