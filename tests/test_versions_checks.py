"""The tricky parts of the versions checks: version strings, kernels, runtimes, calendars, skew."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from checks import versions
from k8saudit.engine import run_check
from k8saudit.model import Status
from k8saudit.registry import Config, Context, load_checks
from k8saudit.releases import MinorRelease, ReleaseCalendar, from_endoflife, parse_version
from tests import factories as f
from tests.test_releases import FROZEN_MIRROR_V0

CHECKS = load_checks()


def ctx_on(day: date, calendar: ReleaseCalendar | None = None, **config: object) -> Context:
    return Context(
        now=datetime(day.year, day.month, day.day, 8, tzinfo=UTC),
        calendar=calendar or ReleaseCalendar.shipped(),
        config=Config(**config),  # type: ignore[arg-type]
    )


def statuses(check_id: str, inventory, ctx: Context) -> list[tuple[str, str]]:
    return [(str(x.subject), x.status.value) for x in run_check(CHECKS[check_id], inventory, ctx)]


def small_calendar(as_of: date = date(2026, 9, 15)) -> ReleaseCalendar:
    return ReleaseCalendar.build(
        [
            MinorRelease((1, 33), date(2025, 4, 23), date(2026, 6, 28), (1, 33, 11), date(2026, 4, 15)),
            MinorRelease((1, 34), date(2025, 8, 27), date(2026, 10, 27), (1, 34, 9), date(2026, 6, 9)),
            MinorRelease((1, 35), date(2025, 12, 17), date(2027, 2, 28), (1, 35, 9), date(2026, 9, 15)),
        ],
        as_of,
        "test",
    )


# -- version strings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v1.29.3-eks-adc7111", (1, 29, 3)),
        ("v1.30.2+k3s1", (1, 30, 2)),
        ("v1.30.3-rc1+k3s1", (1, 30, 3)),  # a k3s release candidate packages upstream 1.30.3
        ("v1.28.5-gke.1217000", (1, 28, 5)),
        ("v1.27.9+rke2r1", (1, 27, 9)),
        ("v1.26.3+vmware.1", (1, 26, 3)),
        ("v1.27.6+b49f9d1", (1, 27, 6)),  # OpenShift
        ("v1.27.9", (1, 27, 9)),
        ("1.31", (1, 31, 0)),
        ("v1.24.0+0", (1, 24, 0)),
        ("", None),
        ("not-a-version", None),
        ("v0.0.0-master+$Format:%H$", (0, 0, 0)),
    ],
)
def test_parse_version_handles_distribution_suffixes(text: str, expected) -> None:
    version = parse_version(text)
    assert version == expected
    assert version is None or version.prerelease == ""


@pytest.mark.parametrize(
    ("text", "release", "prerelease"),
    [
        ("v1.37.1-rc.0", (1, 37, 1), "rc.0"),
        ("v1.31.0-beta.2", (1, 31, 0), "beta.2"),
        ("v1.30.3-rc.0.12+0a1b2c3d", (1, 30, 3), "rc.0.12"),  # a build 12 commits after rc.0
        ("v1.31.0-alpha.1.123+0a1b2c3d-dirty", (1, 31, 0), "alpha.1.123"),
    ],
)
def test_parse_version_keeps_kubernetes_prereleases_apart_from_their_release(
    text: str, release, prerelease: str
) -> None:
    version = parse_version(text)
    assert version is not None and version.prerelease == prerelease
    assert version.release == release and version != release and version < release


# -- CFS kernels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "affected"),
    [
        ("4.14.225-169.362.amzn2.x86_64", False),  # Amazon Linux 2 follows stable numbering
        ("4.14.154", False),
        ("4.14.153", True),
        ("4.14.146-119.123.amzn2.x86_64", True),
        ("4.19.84", False),
        ("4.19.83-flatcar", True),
        ("5.3.9-arch1-1", False),
        ("5.3.8", True),
        ("5.4.0", False),
        ("5.15.0-1051-aws", False),  # Ubuntu ABI numbering, but 5.15 is past the fix anyway
        ("6.1.0-18-cloud-amd64", False),
        ("4.9.337", True),  # no upstream backport to 4.9
        ("4.15.0-1051-aws", None),  # Ubuntu 18.04: the number cannot tell
        ("4.19.0-6-amd64", None),  # Debian 10
        ("3.10.0-1160.el7.x86_64", None),  # RHEL/CentOS 7
    ],
)
def test_cfs_kernel_verdict(kernel: str, affected: bool | None) -> None:
    verdict = versions.cfs_kernel_verdict(kernel)
    assert verdict.version is not None
    assert verdict.affected is affected, verdict.reason


def test_unparseable_kernel_is_unknown_and_windows_is_not_applicable() -> None:
    assert versions.cfs_kernel_verdict("weird").version is None
    inv = f.make_inventory(
        nodes=[
            f.node("odd", kernel="weird"),
            f.node("win", kernel="10.0.17763.5329"),
        ],
        pods=[],
    )
    inv.objects["nodes"][1]["status"]["nodeInfo"]["operatingSystem"] = "windows"
    assert statuses("VER-007", inv, ctx_on(date(2026, 11, 20))) == [
        ("Node odd", "unknown"),
        ("Node win", "not-applicable"),
    ]


def test_old_kernel_warns_without_cpu_limited_pods_and_vendor_kernels_warn_only_when_exposed() -> None:
    unlimited = f.container(cpu_limit=None)
    inv = f.make_inventory(
        nodes=[
            f.node("idle-old", kernel="4.14.100"),
            f.node("vendor-busy", kernel="4.15.0-1051-aws"),
            f.node("vendor-idle", kernel="4.15.0-1051-aws"),
        ],
        pods=[
            f.pod("a", node_name="idle-old", containers=[unlimited]),
            f.pod("b", node_name="vendor-busy", containers=[f.container(cpu_limit="1")]),
            f.pod("done", node_name="idle-old", containers=[f.container(cpu_limit="1")], phase="Succeeded"),
        ],
    )
    assert statuses("VER-007", inv, ctx_on(date(2026, 11, 20))) == [
        ("Node idle-old", "warn"),
        ("Node vendor-busy", "warn"),
        ("Node vendor-idle", "pass"),
    ]


# -- runtimes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runtime", "kubelet", "day", "expected"),
    [
        ("containerd://1.7.13", "v1.30.1", date(2026, 5, 1), Status.WARN),  # limited extended support
        ("containerd://1.7.13", "v1.30.1", date(2026, 11, 20), Status.FAIL),
        ("containerd://1.6.28-k3s1", "v1.29.1", date(2026, 11, 20), Status.FAIL),
        ("containerd://2.0.5", "v1.33.1", date(2026, 11, 20), Status.WARN),
        ("containerd://2.3.1", "v1.36.1", date(2026, 11, 20), Status.PASS),
        ("containerd://2.3.1", "v1.36.1", date(2028, 4, 1), Status.WARN),  # inside the warning window
        ("containerd://2.9.0", "v1.40.0", date(2026, 11, 20), Status.PASS),  # newer than the table
        ("cri-o://1.29.1", "v1.29.1", date(2026, 11, 20), Status.FAIL),  # follows Kubernetes 1.29
        ("cri-o://1.35.2", "v1.35.2", date(2026, 11, 20), Status.PASS),
        ("cri-o://1.45.0", "v1.45.0", date(2026, 11, 20), Status.UNKNOWN),
        ("docker://19.3.13", "v1.23.17", date(2026, 11, 20), Status.FAIL),  # dockershim
        ("docker://20.10.7", "v1.25.3", date(2026, 11, 20), Status.FAIL),  # EOL engine
        ("docker://27.3.1", "v1.30.1", date(2026, 11, 20), Status.WARN),  # cri-dockerd
        ("remote://1.0", "v1.30.1", date(2026, 11, 20), Status.UNKNOWN),
        ("", "v1.30.1", date(2026, 11, 20), Status.UNKNOWN),
    ],
)
def test_runtime_support(runtime: str, kubelet: str, day: date, expected: Status) -> None:
    node = f.node("n", runtime=runtime, kubelet=kubelet)
    finding = versions.runtime_finding(f.make_inventory().subject("nodes", node), node, ctx_on(day))
    assert finding.status is expected, finding.message


# -- the control plane against the calendar ----------------------------------------------------


@pytest.mark.parametrize(
    ("version", "day", "expected", "words"),
    [
        ("v1.35.9", date(2026, 9, 20), "pass", "newest patch"),
        ("v1.35.9", date(2026, 12, 1), "unknown", "--refresh-releases"),  # 77 days since confirmed
        ("v1.35.8", date(2026, 9, 20), "warn", "one patch release behind"),
        ("v1.35.2", date(2026, 9, 20), "fail", "7 patch releases behind"),
        ("v1.35.11", date(2026, 9, 20), "pass", "newer than the calendar"),
        ("v1.35.9+k3s1", date(2026, 9, 20), "pass", "newest patch"),  # a distribution suffix
        ("v1.35.9-rc.0", date(2026, 9, 20), "warn", "a pre-release of 1.35.9, not the release"),
        ("v1.35.9-rc.0", date(2026, 9, 20), "warn", "one patch release behind 1.35.9"),
        ("v1.35.8-rc.1", date(2026, 9, 20), "fail", "2 patch releases behind 1.35.9"),
        ("v1.35.10-rc.0", date(2026, 9, 20), "pass", "newer than the calendar's newest 1.35.9"),
        ("v1.33.11", date(2026, 11, 20), "unknown", "confirmed on 2026-04-15"),
        ("v1.36.0", date(2026, 9, 20), "unknown", "does not know"),
        ("v1.20.4", date(2026, 9, 20), "fail", "older than every minor"),
    ],
)
def test_control_plane_patch(version: str, day: date, expected: str, words: str) -> None:
    (finding,) = run_check(
        CHECKS["VER-001"], f.make_inventory(version=version), ctx_on(day, small_calendar())
    )
    assert finding.status.value == expected, finding.message
    assert words in finding.message


def test_control_plane_patch_is_not_the_users_job_on_eks_and_unknown_without_version() -> None:
    eks = f.make_inventory(version="v1.34.2-eks-adc7111")
    assert statuses("VER-001", eks, ctx_on(date(2026, 9, 20), small_calendar())) == [
        ("cluster", "not-applicable")
    ]
    broken = f.make_inventory()
    broken.cluster.version = {}
    assert statuses("VER-001", broken, ctx_on(date(2026, 9, 20))) == [("cluster", "unknown")]


def test_newest_patch_trust_window_is_configurable() -> None:
    ctx = ctx_on(date(2026, 12, 1), small_calendar(), newest_patch_max_age_days=90)
    assert statuses("VER-001", f.make_inventory(version="v1.35.9"), ctx) == [("cluster", "pass")]


@pytest.mark.parametrize(
    ("version", "day", "expected"),
    [
        ("v1.35.1", date(2026, 9, 20), "pass"),
        ("v1.34.1", date(2026, 9, 20), "pass"),  # 1.34 ends 2026-10-27: 37 days, outside 30
        ("v1.34.1", date(2026, 10, 1), "warn"),
        ("v1.33.1", date(2026, 9, 20), "fail"),
    ],
)
def test_end_of_life_window(version: str, day: date, expected: str) -> None:
    ctx = ctx_on(day, small_calendar(), eol_warning_days=30)
    assert statuses("VER-004", f.make_inventory(version=version), ctx) == [("cluster", expected)]


def test_minors_behind_uses_only_released_minors() -> None:
    calendar = ReleaseCalendar.build(
        [
            *small_calendar().minors,
            MinorRelease((1, 36), date(2027, 4, 22), date(2028, 6, 28), (1, 36, 0), None),  # announced
        ],
        date(2026, 9, 15),
        "test",
    )
    ctx = ctx_on(date(2026, 9, 20), calendar)
    assert statuses("VER-002", f.make_inventory(version="v1.34.4"), ctx) == [("cluster", "pass")]
    assert statuses("VER-002", f.make_inventory(version="v1.33.4"), ctx) == [("cluster", "warn")]


def test_a_stale_calendar_cannot_pass_the_minor_lag() -> None:
    """Past `calendar_stale_days` a newer minor has likely shipped: no pass on the calendar's
    newest, while being behind even the calendar's newest still warns or fails."""
    stale = ctx_on(date(2027, 3, 20), small_calendar())  # 186 days after its as_of
    findings = list(run_check(CHECKS["VER-002"], f.make_inventory(version="v1.35.2"), stale))
    assert [x.status for x in findings] == [Status.UNKNOWN]
    assert "186 days old" in findings[0].message and "calendar_stale_days = 180" in findings[0].message
    assert "--refresh-releases" in findings[0].message
    assert statuses("VER-002", f.make_inventory(version="v1.36.0"), stale) == [("cluster", "unknown")]
    assert statuses("VER-002", f.make_inventory(version="v1.33.4"), stale) == [("cluster", "warn")]
    assert statuses("VER-002", f.make_inventory(version="v1.32.4"), stale) == [("cluster", "fail")]
    tolerant = ctx_on(date(2027, 3, 20), small_calendar(), calendar_stale_days=365)
    assert statuses("VER-002", f.make_inventory(version="v1.35.2"), tolerant) == [("cluster", "pass")]
    on_the_day = ctx_on(date(2027, 3, 14), small_calendar())  # exactly 180 days: still trusted
    assert statuses("VER-002", f.make_inventory(version="v1.34.2"), on_the_day) == [("cluster", "pass")]


# -- skew -----------------------------------------------------------------------------------------


def test_a_calendar_from_a_frozen_mirror_cannot_pass_the_version_checks() -> None:
    """A mirror that stopped syncing in mid-2024 still lists 1.30.3 as 1.30's newest patch and
    1.30 as the newest minor: fetched today, it is as old as its data, so neither passes."""
    today = date(2026, 11, 21)
    ctx = ctx_on(today, from_endoflife(FROZEN_MIRROR_V0, today))
    inventory = f.make_inventory(version="v1.30.3")
    assert statuses("VER-001", inventory, ctx) == [("cluster", "unknown")]
    assert statuses("VER-002", inventory, ctx) == [("cluster", "unknown")]


def test_allowed_skew_follows_the_policy() -> None:
    assert versions.allowed_node_skew((1, 27, 0)) == 2
    assert versions.allowed_node_skew((1, 28, 0), (1, 25, 3)) == 3
    assert versions.allowed_node_skew((1, 28, 0), (1, 24, 3)) == 2


def test_kube_proxy_version_comes_from_its_pod_not_the_node() -> None:
    node = f.node("n1", kubelet="v1.28.4", kube_proxy="v1.28.4")  # what the kubelet claims
    proxy = f.pod(
        "kube-proxy-abcde",
        "kube-system",
        node_name="n1",
        containers=[f.container("kube-proxy", "registry.k8s.io/kube-proxy:v1.24.17")],
    )
    inv = f.make_inventory(version="v1.28.4", nodes=[node], pods=[proxy])
    assert versions.kube_proxy_version(inv, "n1") == "v1.24.17"
    (finding,) = run_check(CHECKS["VER-003"], inv, ctx_on(date(2026, 11, 20)))
    assert finding.status is Status.FAIL and "kube-proxy v1.24.17" in finding.message


def kube_proxy_pod(node_name: str, image: str):
    return f.pod(
        f"kube-proxy-{node_name}",
        "kube-system",
        node_name=node_name,
        labels={"k8s-app": "kube-proxy"},
        containers=[f.container("kube-proxy", image)],
    )


def test_kube_proxy_pinned_by_digest_is_judged_by_its_tag() -> None:
    image = "registry.k8s.io/kube-proxy:v1.26.0@sha256:" + "c" * 64
    inv = f.make_inventory(
        version="v1.30.4", nodes=[f.node("n1", kubelet="v1.30.4")], pods=[kube_proxy_pod("n1", image)]
    )
    assert versions.kube_proxy_version(inv, "n1") == "v1.26.0"
    (finding,) = run_check(CHECKS["VER-003"], inv, ctx_on(date(2026, 11, 20)))
    assert finding.status is Status.FAIL
    assert "kube-proxy v1.26.0 is 4 minors behind" in finding.message and "allows 3" in finding.message


def test_skew_without_readable_pods_judges_kubelets_but_passes_no_node() -> None:
    inv = f.make_inventory(
        version="v1.28.4",
        nodes=[f.node("n1", kubelet="v1.28.4"), f.node("old", kubelet="v1.24.17")],
        coverage={"pods": "forbidden"},
    )
    current, old = run_check(CHECKS["VER-003"], inv, ctx_on(date(2026, 11, 20)))
    assert current.status is Status.UNKNOWN
    assert "kubelet v1.28.4 is within the skew policy" in current.message
    assert "kube-proxy not checked: Pod could not be read (forbidden)" in current.message
    assert current.evidence["unreadable"] == ["pods"]
    assert old.status is Status.FAIL and "kubelet v1.24.17 is 4 minors behind" in old.message
    assert "not checked" in old.evidence["kube_proxy"]


# -- known-bad versions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "ids"),
    [
        ((1, 10, 10), {"CVE-2018-1002105"}),
        ((1, 10, 11), set()),
        ((1, 11, 0), {"CVE-2018-1002105"}),
        ((1, 11, 2), {"CVE-2018-1002105", "apiserver-leak-1.11"}),
        ((1, 11, 4), {"CVE-2018-1002105"}),
        ((1, 11, 5), set()),
        ((1, 12, 3), set()),
    ],
)
def test_cve_2018_1002105_and_the_giant_swarm_leak(version, ids) -> None:
    found = {i.id for i in versions.known_issues_for("kube-apiserver", version)}
    assert found & {"CVE-2018-1002105", "apiserver-leak-1.11"} == ids


@pytest.mark.parametrize(
    ("kubelet", "expected", "words"),
    [
        # a release-1.30 build after the rc.0 tag cut when 1.30.2 shipped: before the 1.30.3 fix
        (
            "v1.30.3-rc.0.12+0a1b2c3d",
            "fail",
            "(a pre-release of 1.30.3, not the release) is affected by CVE-2024-10220",
        ),
        ("v1.30.3-rc.1", "fail", "CVE-2024-10220"),
        ("v1.30.3", "pass", "none of the known defects"),
        ("v1.30.3+k3s1", "pass", "none of the known defects"),  # a distribution suffix, not a pre-release
        ("v1.30.4-rc.0", "pass", "(a pre-release of 1.30.4, not the release) has none"),
    ],
)
def test_a_prerelease_is_judged_as_before_its_release(kubelet: str, expected: str, words: str) -> None:
    inv = f.make_inventory(version="v1.30.14", nodes=[f.node("n1", kubelet=kubelet)])
    _, node = run_check(CHECKS["VER-006"], inv, ctx_on(date(2026, 11, 20)))
    assert node.status.value == expected, node.message
    assert words in node.message


def test_low_impact_issues_only_warn() -> None:
    inv = f.make_inventory(version="v1.29.3", nodes=[f.node("n1", kubelet="v1.29.7")])
    assert statuses("VER-006", inv, ctx_on(date(2026, 11, 20))) == [("cluster", "warn"), ("Node n1", "pass")]


# -- removed API versions --------------------------------------------------------------------------


def test_applied_api_versions_removed_next_minor_fail_and_later_ones_warn() -> None:
    cron = f.cronjob("cleanup", "shop")
    budget = f.pdb("web", "shop", {"app": "web"})
    inv = f.make_inventory(
        version="v1.24.9",
        cronjobs=[cron],
        poddisruptionbudgets=[budget],
        applied_api_versions={
            "cronjobs": {"shop/cleanup": "batch/v1beta1"},
            "poddisruptionbudgets": {"shop/web": "policy/v1beta1"},
        },
    )
    findings = run_check(CHECKS["VER-009"], inv, ctx_on(date(2026, 11, 20)))
    by_subject = {str(x.subject): x for x in findings}
    assert by_subject["CronJob shop/cleanup"].status is Status.FAIL
    assert "the next minor" in by_subject["CronJob shop/cleanup"].message
    assert by_subject["PodDisruptionBudget shop/web"].status is Status.FAIL


def test_applied_api_versions_deprecated_later_warn_and_edge_cases() -> None:
    budget = f.pdb("web", "shop", {"app": "web"})
    inv = f.make_inventory(
        version="v1.21.9",
        poddisruptionbudgets=[budget],
        applied_api_versions={"poddisruptionbudgets": {"shop/web": "policy/v1beta1"}},
    )
    assert statuses("VER-009", inv, ctx_on(date(2026, 11, 20))) == [("PodDisruptionBudget shop/web", "warn")]
    assert statuses("VER-009", f.make_inventory(), ctx_on(date(2026, 11, 20))) == [
        ("cluster", "not-applicable")
    ]
    hidden = f.make_inventory(coverage={"cronjobs": "forbidden"})
    (finding,) = run_check(CHECKS["VER-009"], hidden, ctx_on(date(2026, 11, 20)))
    assert finding.status is Status.UNKNOWN and "CronJob" in finding.message


def test_group_versions_served_past_removal_warn() -> None:
    inv = f.make_inventory(version="v1.27.9", served_api_versions=["v1", "batch/v1beta1"])
    assert statuses("VER-010", inv, ctx_on(date(2026, 11, 20))) == [("APIVersion batch/v1beta1", "warn")]
    assert statuses("VER-010", f.make_inventory(), ctx_on(date(2026, 11, 20))) == [("cluster", "unknown")]


def test_removal_table_is_consistent() -> None:
    for (group_version, kind), removal in versions.REMOVED_APIS.items():
        assert "/" in group_version and kind[0].isupper()
        assert removal.removed_in >= (1, 16)
        assert removal.replacement != group_version
    assert versions.GROUP_VERSION_REMOVED_IN["batch/v1beta1"] == (1, 25)
    assert versions.GROUP_VERSION_REMOVED_IN["extensions/v1beta1"] == (1, 22)
    assert versions.GROUP_VERSION_REMOVED_IN["storage.k8s.io/v1beta1"] == (1, 27)


# -- mixed minors ----------------------------------------------------------------------------------


def test_two_minors_warn_and_no_nodes_is_not_applicable() -> None:
    inv = f.make_inventory(nodes=[f.node("a", kubelet="v1.29.3"), f.node("b", kubelet="v1.28.1+k3s1")])
    (finding,) = run_check(CHECKS["VER-005"], inv, ctx_on(date(2026, 11, 20)))
    assert finding.status is Status.WARN
    assert finding.evidence["nodes_per_minor"] == {"1.28": 1, "1.29": 1}
    assert statuses("VER-005", f.make_inventory(nodes=[]), ctx_on(date(2026, 11, 20))) == [
        ("cluster", "not-applicable")
    ]
