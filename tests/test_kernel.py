"""The one place kernel facts live: the CFS bandwidth bug (VER-007 and RES-003 both use it)."""

from __future__ import annotations

import pytest

from checks import kernel, versions
from checks.kernel import cfs_kernel_verdict, cfs_throttling_bug


@pytest.mark.parametrize(
    ("raw", "affected"),
    [
        ("4.9.337", True),  # no backport to 4.9
        ("4.14.62-70.117.amzn2.x86_64", True),
        ("4.14.153", True),
        ("4.14.154", False),  # first 4.14 stable release with the backport
        ("4.14.154-128.181.amzn2.x86_64", False),
        ("4.18.20", True),  # branch ended before the fix
        ("4.19.83", True),
        ("4.19.84", False),
        ("5.2.21", True),
        ("5.3.8", True),
        ("5.3.9", False),
        ("5.4.0-1051-aws", False),
        ("6.1.0-18-cloud-amd64", False),
        # Distribution kernels whose number hides the backport are not called affected…
        ("4.15.0-1044-aws", False),
        ("4.19.0-21-amd64", False),
        ("3.10.0-1160.el7.x86_64", False),
        ("linux", False),
    ],
)
def test_cfs_throttling_bug(raw: str, affected: bool) -> None:
    assert cfs_throttling_bug(raw) is affected


def test_distribution_kernels_are_undecided_in_the_verdict() -> None:
    """…but the verdict says "cannot tell", so a check can warn instead of passing."""
    for raw in ("4.15.0-1044-aws", "4.19.0-21-amd64", "3.10.0-1160.el7.x86_64"):
        verdict = cfs_kernel_verdict(raw)
        assert verdict.version is not None and verdict.affected is None, raw
        assert "CVE-2019-19922" in verdict.reason
    assert cfs_kernel_verdict("linux").version is None


def test_the_versions_area_uses_the_same_function() -> None:
    assert versions.cfs_kernel_verdict is kernel.cfs_kernel_verdict
