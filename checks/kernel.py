"""Linux kernel facts the checks need, kept in one place.

The CFS bandwidth-control bug: on kernels without upstream commit de53fd7aedb1 ("sched/fair: Fix
low cpu usage with high throttling by removing expiration of cpu-local slices", Linux 5.4),
containers with a CPU limit are throttled long before they use their quota, mostly
multi-threaded, latency-sensitive services. Buffer (and Zalando, who turned CFS quota off) saw
their latency collapse for this reason. The fix was backported to the 4.14.154, 4.19.84 and
5.3.9 stable releases; the 4.15-4.18 and 5.0-5.2 branches had ended and never got it.
"""

from __future__ import annotations

import re

KernelVersion = tuple[int, int, int]

_KERNEL = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?(.*)$")

FIRST_FIXED_BRANCH = (5, 4)
# Stable branches that received the backport, and the first patch release carrying it.
FIXED_IN_STABLE: dict[tuple[int, int], int] = {(4, 14): 154, (4, 19): 84, (5, 3): 9}
CFS_FIX_COMMIT = "https://github.com/torvalds/linux/commit/de53fd7aedb100f03e5d2231cfce0e4993282425"


def parse_kernel_version(kernel_version: str) -> KernelVersion | None:
    """`5.15.0-1051-aws` -> (5, 15, 0); `4.14.154-128.181.amzn2.x86_64` -> (4, 14, 154)."""
    match = _KERNEL.match(kernel_version) if isinstance(kernel_version, str) else None
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def cfs_throttling_bug(kernel_version: str) -> bool:
    """True when the kernel lacks the CFS throttling fix (containers with CPU limits throttle early).

    Vendor kernels that report a zero patch level with an ABI suffix (Debian/Ubuntu style,
    `4.19.0-21-amd64`) hide the upstream patch they are built from; on a branch that received the
    backport they get the benefit of the doubt. Unparseable versions are not called affected:
    callers that must tell "unknown" apart use `parse_kernel_version` first.
    """
    version = parse_kernel_version(kernel_version)
    if version is None:
        return False
    branch, patch = version[:2], version[2]
    if branch >= FIRST_FIXED_BRANCH:
        return False
    fixed_patch = FIXED_IN_STABLE.get(branch)
    if fixed_patch is None:
        return True  # older than 4.14, or a branch that ended before the backport
    if patch == 0 and _has_vendor_suffix(kernel_version):
        return False
    return patch < fixed_patch


def _has_vendor_suffix(kernel_version: str) -> bool:
    match = _KERNEL.match(kernel_version)
    return bool(match and match.group(4).startswith("-"))
