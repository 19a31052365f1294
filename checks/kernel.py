"""Linux kernel facts the checks need, kept in one place (the versions area's VER-007 judges nodes
by them, the resilience area's RES-003 the workloads whose CPU limits they throttle).

The CFS bandwidth-control bug (CVE-2019-19922): kernels without upstream commit de53fd7aedb1
("sched/fair: Fix low cpu usage with high throttling by removing expiration of cpu-local slices",
Linux 5.4) expire unused per-CPU quota slices, so multi-threaded containers with a CPU limit are
throttled long before they use it. Buffer and Zalando saw their latency collapse for this reason.
The fix was backported to the 4.14.154, 4.19.84 and 5.3.9 stable releases; the 4.15-4.18 and
5.0-5.2 branches had ended and never got it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CFS_FIX_COMMIT = (
    "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/"
    "?id=de53fd7aedb100f03e5d2231cfce0e4993282425"
)
CFS_CVE = "https://nvd.nist.gov/vuln/detail/CVE-2019-19922"
# The fix is in 5.4 and was backported to these stable branches, first in these patches.
CFS_FIX_MAINLINE = (5, 4)
CFS_FIX_BACKPORTS: dict[tuple[int, int], int] = {(5, 3): 9, (4, 19): 84, (4, 14): 154}
_KERNEL = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(.*)$")

# (major, minor, patch) of a Linux kernel: not a Kubernetes `Version`, which knows pre-releases.
KernelVersion = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class KernelVerdict:
    version: KernelVersion | None
    affected: bool | None  # None: a distribution kernel whose number does not tell
    reason: str


def cfs_kernel_verdict(raw: str) -> KernelVerdict:
    """Whether a `kernelVersion` has the CFS slice-expiration throttling bug (CVE-2019-19922).

    Upstream-numbered kernels (`4.14.225-169.362.amzn2.x86_64`, `5.4.0`, `6.1.55`) are judged by
    number. Distribution kernels that freeze the upstream patch level at 0 (Debian/Ubuntu
    `4.19.0-6-amd64`, `4.15.0-1051-aws`) or number their own builds (RHEL `3.10.0-1160.el7`) may
    carry the fix as a backport: their number alone cannot tell.
    """
    match = _KERNEL.match(raw.strip()) if isinstance(raw, str) else None
    if not match:
        return KernelVerdict(None, None, f"unparseable kernel version {raw!r}")
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    rest = match.group(4)
    if version[:2] >= CFS_FIX_MAINLINE:
        return KernelVerdict(version, False, f"{version[0]}.{version[1]} includes the fix (5.4+)")
    fixed_patch = CFS_FIX_BACKPORTS.get(version[:2])
    if fixed_patch is not None and version[2] >= fixed_patch:
        fix = f"{version[0]}.{version[1]}.{fixed_patch}"
        return KernelVerdict(version, False, f"{raw} includes the stable backport of the fix ({fix})")
    vendor_numbered = (version[2] == 0 and re.match(r"^-\d+", rest) is not None) or ".el" in rest
    if vendor_numbered:
        return KernelVerdict(
            version,
            None,
            f"{raw} is a distribution kernel based on {version[0]}.{version[1]}, which predates the "
            "upstream fix; only the vendor's advisory for CVE-2019-19922 can say whether it was backported",
        )
    fix = f"{version[0]}.{version[1]}.{fixed_patch}" if fixed_patch else "5.4"
    return KernelVerdict(version, True, f"{raw} predates the fix (fixed in {fix})")


def cfs_throttling_bug(kernel_version: str) -> bool:
    """True when the kernel is known to lack the CFS throttling fix. Distribution kernels whose
    number cannot tell, and unparseable versions, are not called affected: callers that must tell
    "unknown" apart use `cfs_kernel_verdict`."""
    return cfs_kernel_verdict(kernel_version).affected is True
