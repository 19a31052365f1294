"""Fixtures for the versions area.

Versions judged against the release calendar are derived from the shipped calendar, so the
fixtures keep meaning the same thing when the calendar data is refreshed.
"""

from __future__ import annotations

from datetime import date

from k8saudit.releases import MinorRelease, ReleaseCalendar, format_version
from tests import factories as f
from tests.check_fixtures import fixture

FIXTURE_DAY = date(2026, 11, 20)  # tests/test_catalog.py judges fixtures as of this day
CALENDAR = ReleaseCalendar.shipped()


def v(version: tuple[int, int, int]) -> str:
    return "v" + format_version(version)


def newest_minor() -> MinorRelease:
    return CALENDAR.newest_released(FIXTURE_DAY)


def closed_branch() -> MinorRelease:
    """A minor whose branch was closed when its final patch was recorded (a definitive newest patch)."""
    return next(
        m
        for m in reversed(CALENDAR.minors)
        if m.end_of_life <= CALENDAR.latest_verified_on(m) and m.latest[2] >= 3
    )


# -- VER-001 newest patch --------------------------------------------------------------------------


@fixture("VER-001", "pass")
def patch_pass():
    return f.make_inventory(version=v(closed_branch().latest))


@fixture("VER-001", "fail")
def patch_fail():
    latest = closed_branch().latest
    return f.make_inventory(version=v((latest[0], latest[1], latest[2] - 3)))


# -- VER-002 newest minor --------------------------------------------------------------------------


@fixture("VER-002", "pass")
def minor_pass():
    newest = newest_minor().minor
    return f.make_inventory(version=f"v{newest[0]}.{newest[1]}.0")


@fixture("VER-002", "fail")
def minor_fail():
    newest = newest_minor().minor
    return f.make_inventory(version=f"v{newest[0]}.{newest[1] - 3}.2")


# -- VER-003 skew ----------------------------------------------------------------------------------


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


# -- VER-004 end of life ---------------------------------------------------------------------------


@fixture("VER-004", "pass")
def eol_pass():
    return f.make_inventory(version=v(newest_minor().latest))


@fixture("VER-004", "fail")
def eol_fail():
    return f.make_inventory(version="v1.27.9")


# -- VER-005 mixed minors --------------------------------------------------------------------------


@fixture("VER-005", "pass")
def mixed_pass():
    return f.make_inventory(
        version="v1.29.3",
        nodes=[f.node("n1", kubelet="v1.29.3"), f.node("n2", kubelet="v1.29.3-eks-adc7111")],
    )


@fixture("VER-005", "fail")
def mixed_fail():
    return f.make_inventory(
        version="v1.29.3",
        nodes=[
            f.node("n1", kubelet="v1.29.3"),
            f.node("n2", kubelet="v1.28.7"),
            f.node("n3", kubelet="v1.27.9"),
        ],
    )


# -- VER-006 known-bad versions --------------------------------------------------------------------


@fixture("VER-006", "pass")
def known_bad_pass():
    return f.make_inventory(version="v1.35.9", nodes=[f.node("n1", kubelet="v1.35.9")])


@fixture("VER-006", "fail")
def known_bad_fail():
    return f.make_inventory(
        version="v1.11.2", nodes=[f.node("n1", kubelet="v1.11.2"), f.node("n2", kubelet="v1.28.3")]
    )


# -- VER-007 CFS throttling kernels ----------------------------------------------------------------


def _limited_pod(name: str, node_name: str) -> dict:
    return f.pod(name, "shop", node_name=node_name, containers=[f.container(cpu_limit="500m")])


@fixture("VER-007", "pass")
def cfs_pass():
    return f.make_inventory(
        nodes=[
            f.node("new", kernel="5.15.0-1051-aws"),
            f.node("backported", kernel="4.14.225-169.362.amzn2.x86_64"),
        ],
        pods=[_limited_pod("api-1", "new"), _limited_pod("api-2", "backported")],
    )


@fixture("VER-007", "fail")
def cfs_fail():
    return f.make_inventory(
        nodes=[f.node("old", kernel="4.14.146-119.123.amzn2.x86_64"), f.node("new", kernel="6.1.55")],
        pods=[_limited_pod("api-1", "old"), _limited_pod("api-2", "new")],
    )


# -- VER-008 container runtimes --------------------------------------------------------------------


@fixture("VER-008", "pass")
def runtime_pass():
    return f.make_inventory(
        version="v1.35.9",
        nodes=[f.node("n1", kubelet="v1.35.9", runtime="containerd://2.3.1")],
    )


@fixture("VER-008", "fail")
def runtime_fail():
    return f.make_inventory(
        version="v1.23.17",
        nodes=[
            f.node("n1", kubelet="v1.23.17", runtime="docker://19.3.13"),
            f.node("n2", kubelet="v1.23.17", runtime="containerd://1.5.11"),
        ],
    )


# -- VER-009 objects applied under removed API versions --------------------------------------------


def _applied(*pairs: tuple[dict, str]) -> dict[str, dict[str, str]]:
    return {
        "cronjobs": {f"{obj['metadata']['namespace']}/{obj['metadata']['name']}": api for obj, api in pairs}
    }


@fixture("VER-009", "pass")
def applied_pass():
    report = f.cronjob("report", "shop")
    return f.make_inventory(
        version="v1.29.3", cronjobs=[report], applied_api_versions=_applied((report, "batch/v1"))
    )


@fixture("VER-009", "fail")
def applied_fail():
    cleanup = f.cronjob("cleanup", "shop")
    report = f.cronjob("report", "shop")
    return f.make_inventory(
        version="v1.27.9",
        cronjobs=[cleanup, report],
        applied_api_versions=_applied((cleanup, "batch/v1beta1"), (report, "batch/v1")),
    )


# -- VER-010 served group/versions removed next ----------------------------------------------------


@fixture("VER-010", "pass")
def served_pass():
    return f.make_inventory(
        version="v1.29.3",
        served_api_versions=["v1", "apps/v1", "batch/v1", "flowcontrol.apiserver.k8s.io/v1beta3"],
    )


@fixture("VER-010", "fail")
def served_fail():
    return f.make_inventory(
        version="v1.28.5",
        served_api_versions=["v1", "apps/v1", "flowcontrol.apiserver.k8s.io/v1beta2"],
    )
