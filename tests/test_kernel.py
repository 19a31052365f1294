"""Which kernels throttle CPU-limited containers early (the CFS bandwidth bug)."""

from __future__ import annotations

import pytest

from checks.kernel import cfs_throttling_bug, parse_kernel_version


@pytest.mark.parametrize(
    ("kernel", "affected"),
    [
        ("3.10.0-1160.el7.x86_64", True),  # RHEL/CentOS 7: older than every fixed branch
        ("4.9.0-12-amd64", True),
        ("4.14.146-119.123.amzn2.x86_64", True),
        ("4.14.153", True),
        ("4.14.154", False),  # first 4.14 stable release with the backport
        ("4.14.154-128.181.amzn2.x86_64", False),
        ("4.15.0-1044-aws", True),  # branch ended before the fix
        ("4.18.0", True),
        ("4.19.83", True),
        ("4.19.84", False),
        ("4.19.0-21-amd64", False),  # Debian ABI name hides the patch level: benefit of the doubt
        ("5.0.0-1027-aws", True),
        ("5.2.21", True),
        ("5.3.8", True),
        ("5.3.9", False),
        ("5.4.0-1051-aws", False),
        ("5.15.0-1051-aws", False),
        ("6.1.0-18-cloud-amd64", False),
        ("6.8.0-1008-gke", False),
    ],
)
def test_cfs_throttling_bug(kernel: str, affected: bool) -> None:
    assert cfs_throttling_bug(kernel) is affected


def test_unparseable_kernels_are_not_called_affected() -> None:
    assert parse_kernel_version("") is None
    assert parse_kernel_version("linux") is None
    assert cfs_throttling_bug("linux") is False
    assert parse_kernel_version("5.15.0-1051-aws") == (5, 15, 0)
    assert parse_kernel_version("4.14") == (4, 14, 0)
