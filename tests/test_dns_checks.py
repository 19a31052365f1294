"""The DNS area beyond its pass/fail fixtures: which workloads count as cluster DNS on each
distribution, the replica ladder, the autoscaler arithmetic, NodeLocal DNSCache coverage, CoreDNS
release dating, and every Corefile edge case (unreadable, redacted, unparseable, odd upstreams)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from checks.advisories import COREDNS_RELEASES, coredns_release_date
from checks.dns import (
    autoscaler_floor,
    autoscaler_replicas,
    daemonset_can_run_on,
    dns_workloads,
    expected_dns_replicas,
)
from k8saudit.engine import run_check
from k8saudit.inventory import Inventory
from k8saudit.model import Finding, Status
from k8saudit.redact import REDACTED, redact
from k8saudit.registry import Context, load_checks
from tests import factories as f
from tests.check_fixtures import dns as fx

CHECKS = load_checks()
CTX = Context.default(datetime(2026, 11, 20, 8, tzinfo=UTC))


def findings(check_id: str, inv: Inventory, ctx: Context = CTX) -> list[Finding]:
    return run_check(CHECKS[check_id], inv, ctx)


def statuses(check_id: str, inv: Inventory, ctx: Context = CTX) -> list[Status]:
    return [x.status for x in findings(check_id, inv, ctx)]


def inv_with(**changes: Any) -> Inventory:
    return f.make_inventory(**{**fx.healthy(), **changes})


# -- which workloads are cluster DNS ------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "name", "image", "labels", "server"),
    [
        (
            "kube-system",
            "coredns",
            "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.11.1-eksbuild.4",
            None,
            "coredns",
        ),
        (
            "kube-system",
            "coredns",
            "mcr.microsoft.com/oss/kubernetes/coredns:v1.9.4-hotfix.20240704",
            None,
            "coredns",
        ),
        ("kube-system", "coredns", "rancher/mirrored-coredns-coredns:1.10.1", None, "coredns"),
        (
            "kube-system",
            "rke2-coredns-rke2-coredns",
            "rancher/hardened-coredns:v1.11.1-build20240305",
            None,
            "coredns",
        ),
        ("kube-system", "kube-dns", "gke.gcr.io/k8s-dns-kube-dns:1.22.28-gke.0", None, "kube-dns"),
        ("dns", "coredns", "coredns/coredns:1.11.3", {"k8s-app": "kube-dns"}, "coredns"),
    ],
)
def test_dns_servers_of_the_distributions(namespace, name, image, labels, server) -> None:
    deployment = f.deployment(name, namespace, labels=labels, containers=[f.container("dns", image)])
    [workload] = dns_workloads(f.make_inventory(deployments=[deployment]))
    assert workload.server == server


def test_openshift_dns_daemonset_counts() -> None:
    ds = f.daemonset(
        "dns-default",
        "openshift-dns",
        containers=[f.container("dns", "quay.io/openshift/origin-coredns:4.16")],
    )
    [workload] = dns_workloads(f.make_inventory(daemonsets=[ds]))
    assert workload.key == "daemonsets" and workload.server == "coredns"


def test_openshift_payload_coredns_is_found_by_the_binary_it_runs() -> None:
    """OpenShift's dns-default image is a release-payload digest that never names CoreDNS."""
    inv = f.make_inventory(**fx.openshift_dns())
    [workload] = dns_workloads(inv)
    assert workload.server == "coredns" and workload.container["name"] == "dns"
    [server] = findings("DNS-001", inv)
    assert server.status is Status.PASS and "CoreDNS" in server.message
    assert statuses("DNS-002", inv) == [Status.PASS]
    assert statuses("DNS-010", inv) == [Status.PASS]  # the Corefile of its own ConfigMap is read


def test_openshift_coredns_version_is_unknown_not_read_from_the_tag() -> None:
    """The payload has no tag, and an OKD image's tag (origin-coredns:4.16) is OpenShift's."""
    [digest_only] = findings("DNS-009", f.make_inventory(**fx.openshift_dns()))
    assert digest_only.status is Status.UNKNOWN
    assert "OpenShift" in digest_only.message and "release payload" in digest_only.message
    okd = fx.openshift_dns()
    okd["daemonsets"][0]["spec"]["template"]["spec"]["containers"][0]["image"] = (
        "quay.io/openshift/origin-coredns:4.16"
    )
    [tagged] = findings("DNS-009", f.make_inventory(**okd))
    assert tagged.status is Status.UNKNOWN and "follows the OpenShift release" in tagged.message
    assert dns_workloads(f.make_inventory(**okd))[0].version is None


def test_coredns_run_from_a_foreign_image_has_no_version() -> None:
    dns = fx.coredns()
    container = dns["deployments"][0]["spec"]["template"]["spec"]["containers"][0]
    container.update(image="registry.example.com/platform/dns:2.3.1", command=["/coredns"])
    [finding] = findings("DNS-009", f.make_inventory(**fx.healthy(dns)))
    assert finding.status is Status.UNKNOWN and "tag is not CoreDNS's" in finding.message


def test_unrelated_coredns_and_node_cache_are_not_cluster_dns() -> None:
    other = f.deployment("coredns", "edge-dns", containers=[f.container("dns", "coredns/coredns:1.11.3")])
    nodelocal = fx.nodelocal_dns()
    assert dns_workloads(f.make_inventory(deployments=[other], daemonsets=[nodelocal])) == []


# -- DNS-001 / DNS-002 --------------------------------------------------------------------------


def test_no_dns_fails_except_on_gke() -> None:
    assert statuses("DNS-001", f.make_inventory(deployments=[], daemonsets=[])) == [Status.FAIL]
    gke = f.make_inventory(version="v1.30.5-gke.1014001", deployments=[], daemonsets=[])
    assert statuses("DNS-001", gke) == [Status.NOT_APPLICABLE]
    gke_kube_dns = f.make_inventory(version="v1.30.5-gke.1014001", **fx.kube_dns(), daemonsets=[])
    assert statuses("DNS-001", gke_kube_dns) == [Status.WARN]


def test_other_dns_checks_are_not_applicable_without_dns() -> None:
    inv = f.make_inventory(deployments=[], daemonsets=[], nodes=[], poddisruptionbudgets=[], configmaps=[])
    for check_id in ("DNS-002", "DNS-003", "DNS-004", "DNS-005", "DNS-006", "DNS-009", "DNS-010", "DNS-013"):
        assert statuses(check_id, inv) == [Status.NOT_APPLICABLE], check_id


@pytest.mark.parametrize(
    ("nodes", "cores", "expected"),
    [
        (1, None, 2),
        (10, None, 2),
        (32, None, 2),
        (33, None, 3),
        (100, None, 7),
        (10, 1024.0, 4),
        (0, None, 2),
    ],
)
def test_expected_replicas_follow_the_linear_ladder(nodes: int, cores: float | None, expected: int) -> None:
    assert expected_dns_replicas(nodes, cores, CTX) == expected


def test_too_few_replicas_for_a_big_cluster_warns() -> None:
    nodes = [f.node(f"n{i}") for i in range(60)]
    inv = inv_with(nodes=nodes)
    [finding] = findings("DNS-002", inv)
    assert finding.status is Status.WARN and "expects 4" in finding.message


def test_cluster_cores_count_when_every_node_reports_them() -> None:
    nodes = [f.node(f"n{i}", status={"capacity": {"cpu": "96"}}) for i in range(6)]  # 576 cores
    [finding] = findings("DNS-002", inv_with(nodes=nodes))
    assert finding.evidence["cores"] == 576 and finding.evidence["expected"] == 3
    assert finding.status is Status.PASS  # 3 replicas


def test_not_ready_dns_replicas_warn() -> None:
    objects = fx.healthy()
    objects["deployments"][0]["status"]["readyReplicas"] = 1
    assert statuses("DNS-002", f.make_inventory(**objects)) == [Status.WARN]


# -- DNS-003 … DNS-006 --------------------------------------------------------------------------


def test_stacked_on_a_burstable_node_names_the_instance_type() -> None:
    objects = fx.healthy(fx.coredns(nodes=["t2-node", "t2-node"], spread=False))
    objects["nodes"] = [f.node("t2-node", instance_type="t2.medium"), f.node("n2")]
    [finding] = findings("DNS-003", f.make_inventory(**objects))
    assert finding.status is Status.FAIL and "t2.medium" in finding.message


def test_custom_priority_class_warns() -> None:
    inv = f.make_inventory(**fx.healthy(fx.coredns(priority="platform-high")))
    assert statuses("DNS-005", inv) == [Status.WARN]


def test_cpu_limit_alone_warns() -> None:
    throttled = {**fx.DNS_RESOURCES, "cpu_limit": "100m"}
    [finding] = findings("DNS-006", f.make_inventory(**fx.healthy(fx.coredns(resources=throttled))))
    assert finding.status is Status.WARN and "cpu limit 100m" in finding.message


def test_kube_dns_containers_are_all_judged() -> None:
    [finding] = findings("DNS-006", f.make_inventory(**fx.kube_dns(), daemonsets=[]))
    assert finding.status is Status.PASS  # factory containers request cpu/memory and cap memory


# -- DNS-007 ------------------------------------------------------------------------------------

# The ladder of the cluster-proportional-autoscaler README and the Kubernetes docs.
LADDER_DOCS_EXAMPLE = {
    "coresToReplicas": [[1, 1], [64, 3], [512, 5], [1024, 7], [2048, 10], [4096, 15]],
    "nodesToReplicas": [[1, 1], [2, 2]],
}


@pytest.mark.parametrize(
    ("mode", "params", "floor"),
    [
        ("linear", {"nodesPerReplica": 16}, 1),
        ("linear", {"nodesPerReplica": 16, "min": 1, "preventSinglePointFailure": False}, 1),
        ("linear", {"nodesPerReplica": 16, "preventSinglePointFailure": True}, 2),
        ("linear", {"nodesPerReplica": 16, "min": 3}, 3),
        ("linear", {"nodesPerReplica": 16, "max": 1, "preventSinglePointFailure": True}, 2),
        # The autoscaler takes the larger of the two ladders' replicas.
        ("ladder", {"nodesToReplicas": [[1, 1], [2, 2]]}, 2),
        ("ladder", {"coresToReplicas": [[1, 2], [64, 3]], "nodesToReplicas": [[1, 1], [10, 3]]}, 2),
        ("ladder", {"nodesToReplicas": [[1, 2], [64, 3]], "coresToReplicas": [[1, 3]]}, 3),
        ("ladder", LADDER_DOCS_EXAMPLE, 2),
        ("ladder", {"coresToReplicas": [[1, 1], [64, 3]], "nodesToReplicas": [[1, 1], [5, 3]]}, 1),
        # Below its first threshold a ladder still gives the first step's replicas.
        ("ladder", {"nodesToReplicas": [[5, 3], [10, 4]]}, 3),
        # A step reachable only on a big cluster still counts.
        ("ladder", {"nodesToReplicas": [[1, 3], [100, 1]]}, 1),
        # Ladder mode has no min and no preventSinglePointFailure.
        ("ladder", {"nodesToReplicas": [[1, 1]], "min": 3, "preventSinglePointFailure": True}, 1),
        ("ladder", {}, 1),
    ],
)
def test_autoscaler_floor(mode: str, params: dict[str, Any], floor: int) -> None:
    assert autoscaler_floor(mode, params) == floor


def test_autoscaler_replicas_for_this_cluster() -> None:
    params = {"coresPerReplica": 256, "nodesPerReplica": 16, "preventSinglePointFailure": True}
    assert autoscaler_replicas("linear", params, 1, None) == 1  # a single node cannot spread anyway
    assert autoscaler_replicas("linear", params, 5, None) == 2
    assert autoscaler_replicas("linear", params, 50, 1200.0) == 5
    assert autoscaler_replicas("linear", {**params, "max": 4}, 200, None) == 4
    # The controller lifts to 2 after applying max.
    assert autoscaler_replicas("linear", {**params, "max": 1}, 5, None) == 2
    assert autoscaler_replicas("ladder", {"nodesToReplicas": [[1, 2]]}, 5, None) == 2
    assert autoscaler_replicas("ladder", LADDER_DOCS_EXAMPLE, 100, None) is None  # cores unknown
    assert autoscaler_replicas("ladder", LADDER_DOCS_EXAMPLE, 100, 400.0) == 3  # the docs' example


def ladder_status(params: dict[str, Any]) -> Finding:
    return autoscaler_status({"ladder": json.dumps(params)})


def test_the_docs_ladder_keeps_two_replicas() -> None:
    """Kubernetes' own ladder example never goes below 2 on a multi-node cluster: the nodes
    ladder gives 2 from two nodes up, and the larger of the two ladders wins."""
    finding = ladder_status(LADDER_DOCS_EXAMPLE)
    assert finding.status is Status.PASS and "at least 2 DNS replicas" in finding.message
    raised_cores = ladder_status({"coresToReplicas": [[1, 2], [64, 3]], "nodesToReplicas": [[1, 1], [10, 3]]})
    assert raised_cores.status is Status.PASS and raised_cores.evidence["floor"] == 2


def test_a_ladder_that_steps_down_to_one_fails_and_says_why() -> None:
    finding = ladder_status({"nodesToReplicas": [[1, 1]], "preventSinglePointFailure": True})
    assert finding.status is Status.FAIL and "shrink DNS to 1 replica " in finding.message
    assert "nodesToReplicas down to 1" in finding.message
    assert "ladder mode ignores preventSinglePointFailure" in finding.message


def test_parameters_the_autoscaler_rejects_fail() -> None:
    rejected = {
        "linear": {"nodesPerReplica": 16, "min": 3, "max": 1},
        "ladder": {"nodesToReplicas": [[1, "2"]]},
    }
    for mode, params in rejected.items():
        finding = autoscaler_status({mode: json.dumps(params)})
        assert finding.status is Status.FAIL and "rejects" in finding.message, mode
    assert "max 1 is below min 3" in autoscaler_status({"linear": json.dumps(rejected["linear"])}).message


def autoscaler_status(data: dict[str, str] | None, *, deployment_args: list[str] | None = None) -> Finding:
    objects = fx.healthy()
    scaler = objects["deployments"][1]
    if deployment_args is not None:
        scaler["spec"]["template"]["spec"]["containers"][0]["command"] = deployment_args
    configmaps = [objects["configmaps"][0]]
    if data is not None:
        configmaps.append(f.configmap("coredns-autoscaler", "kube-system", data))
    [finding] = findings("DNS-007", f.make_inventory(**{**objects, "configmaps": configmaps}))
    return finding


def test_autoscaler_config_edge_cases() -> None:
    assert autoscaler_status({"linear": REDACTED}).status is Status.UNKNOWN
    assert autoscaler_status({"linear": "{not json"}).status is Status.FAIL
    assert autoscaler_status({"linear": "[1, 2]"}).status is Status.FAIL
    assert autoscaler_status({"other": "x"}).status is Status.FAIL
    ladder = json.dumps({"nodesToReplicas": [[1, 2], [16, 3]]})
    assert autoscaler_status({"ladder": ladder}).status is Status.PASS


def test_autoscaler_default_params_are_read_when_the_configmap_is_absent() -> None:
    args = [
        "/cluster-proportional-autoscaler",
        "--configmap=coredns-autoscaler",
        "--target=Deployment/coredns",
        '--default-params={"linear":{"coresPerReplica":256,"nodesPerReplica":16,"preventSinglePointFailure":false}}',
    ]
    finding = autoscaler_status(None, deployment_args=args)
    assert finding.status is Status.FAIL and finding.subject.kind == "Deployment"
    assert "--default-params of coredns-autoscaler" in finding.message


def test_missing_autoscaler_matters_only_on_big_clusters() -> None:
    small = f.make_inventory(**fx.coredns(), configmaps=[], nodes=[f.node(f"n{i}") for i in range(5)])
    assert statuses("DNS-007", small) == [Status.PASS]
    big = f.make_inventory(**fx.coredns(), configmaps=[], nodes=[f.node(f"n{i}") for i in range(60)])
    assert statuses("DNS-007", big) == [Status.WARN]


# -- DNS-008 ------------------------------------------------------------------------------------


def test_nodelocal_dns_states() -> None:
    assert statuses("DNS-008", inv_with(daemonsets=[])) == [Status.WARN]
    assert statuses("DNS-008", inv_with(daemonsets=[fx.nodelocal_dns(desired=2)])) == [Status.FAIL]
    not_ready = fx.nodelocal_dns()
    not_ready["status"]["numberReady"] = 2
    assert statuses("DNS-008", inv_with(daemonsets=[not_ready])) == [Status.WARN]


def test_daemonset_placement_rules() -> None:
    tainted = f.node("gpu-1", taints=[{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}])
    soft = f.node("soft", taints=[{"key": "spot", "effect": "PreferNoSchedule"}])
    cordoned = f.node(
        "cordoned", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    )
    assert not daemonset_can_run_on({}, tainted)
    assert daemonset_can_run_on({"tolerations": [{"operator": "Exists"}]}, tainted)
    assert daemonset_can_run_on({"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]}, tainted)
    assert daemonset_can_run_on({"tolerations": [{"key": "nvidia.com/gpu", "value": "true"}]}, tainted)
    assert not daemonset_can_run_on(
        {"tolerations": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoExecute"}]}, tainted
    )
    assert daemonset_can_run_on({}, soft) and daemonset_can_run_on({}, cordoned)
    assert not daemonset_can_run_on({"nodeSelector": {"pool": "edge"}}, f.node("n1"))


# -- DNS-009 ------------------------------------------------------------------------------------


def version_finding(version: str, corefile: str = fx.GOOD_COREFILE) -> Finding:
    [finding] = findings("DNS-009", f.make_inventory(**fx.healthy(fx.coredns(version), corefile=corefile)))
    return finding


def test_release_dates_are_sorted_and_unique() -> None:
    versions = [v for v, _ in COREDNS_RELEASES]
    dates = [d for _, d in COREDNS_RELEASES]
    assert versions == sorted(set(versions)) and dates == sorted(dates)


def test_release_dating() -> None:
    assert coredns_release_date((1, 11, 1)) == (datetime(2023, 8, 15).date(), True)
    assert coredns_release_date((1, 9, 1)) == (datetime(2022, 5, 27).date(), False)  # dated by 1.9.3
    assert coredns_release_date((9, 0, 0)) is None


def test_coredns_age_and_issues() -> None:
    assert version_finding("v1.12.4").status is Status.WARN  # 2025-09-08: over a year before the scan
    assert version_finding("v1.14.7").status is Status.PASS  # newer than the table
    old = version_finding("1.6.2")
    assert old.status is Status.FAIL and "CVE-2019-19794" in old.message
    inexact = version_finding("v1.9.1")
    assert "released before 2022-05-27" in inexact.message
    assert version_finding("latest").status is Status.UNKNOWN


def test_conditional_issues_need_the_feature_in_the_corefile() -> None:
    recent = Context.default(datetime(2023, 9, 1, tzinfo=UTC))
    plain = f.make_inventory(**fx.healthy(fx.coredns("v1.11.0")))
    assert [x.status for x in findings("DNS-009", plain, recent)] == [Status.PASS]
    tls = fx.GOOD_COREFILE.replace("forward . /etc/resolv.conf", "forward . tls://10.0.0.2")
    with_tls = f.make_inventory(**fx.healthy(fx.coredns("v1.11.0"), corefile=tls))
    [finding] = findings("DNS-009", with_tls, recent)
    assert finding.status is Status.FAIL and "coredns-1.11.0-dot-regression" in finding.message
    quic = fx.GOOD_COREFILE + "quic://.:853 {\n  tls cert.pem key.pem\n  forward . 10.0.0.2\n  cache\n}\n"
    with_quic = f.make_inventory(**fx.healthy(fx.coredns("v1.12.1"), corefile=quic))
    assert "CVE-2025-47950" in findings("DNS-009", with_quic)[0].message


def test_kube_dns_is_not_versioned_here() -> None:
    assert statuses("DNS-009", f.make_inventory(**fx.kube_dns(), daemonsets=[])) == [Status.NOT_APPLICABLE]


# -- Corefile checks ----------------------------------------------------------------------------

COREFILE_CHECKS = ("DNS-010", "DNS-011", "DNS-012", "DNS-013")


@pytest.mark.parametrize("check_id", COREFILE_CHECKS)
def test_configmaps_forbidden_gives_unknown(check_id: str) -> None:
    inv = f.make_inventory(**fx.healthy(), coverage={"configmaps": "forbidden"})
    [finding] = findings(check_id, inv)
    assert finding.status is Status.UNKNOWN and "could not be read" in finding.message


@pytest.mark.parametrize("check_id", COREFILE_CHECKS)
def test_redacted_missing_and_broken_corefiles(check_id: str) -> None:
    redacted = fx.with_corefile(REDACTED)
    assert statuses(check_id, redacted) == [Status.UNKNOWN]
    missing = inv_with(configmaps=[])
    assert statuses(check_id, missing) == [Status.UNKNOWN]
    broken = fx.with_corefile(".:53 {\n  forward . /etc/resolv.conf\n")
    [finding] = findings(check_id, broken)
    assert finding.status is Status.FAIL and "does not parse" in finding.message
    assert statuses(check_id, f.make_inventory(**fx.kube_dns(), daemonsets=[], configmaps=[])) == [
        Status.NOT_APPLICABLE
    ]


def test_corefile_is_found_through_the_deployment_volume() -> None:
    dns = fx.coredns(name="rke2-coredns-rke2-coredns")
    dns["deployments"][0]["spec"]["template"]["spec"]["volumes"] = [
        {"name": "config-volume", "configMap": {"name": "rke2-coredns-rke2-coredns"}}
    ]
    objects = fx.healthy(dns)
    no_loop = fx.GOOD_COREFILE.replace("    loop\n", "")
    objects["configmaps"] = [f.configmap("rke2-coredns-rke2-coredns", "kube-system", {"Corefile": no_loop})]
    [finding] = findings("DNS-010", f.make_inventory(**objects))
    assert finding.status is Status.FAIL and finding.subject.name == "rke2-coredns-rke2-coredns"


def test_loop_matters_only_when_forwarding_to_resolv_conf() -> None:
    explicit = fx.GOOD_COREFILE.replace("/etc/resolv.conf", "10.0.0.2").replace("    loop\n", "")
    assert statuses("DNS-010", fx.with_corefile(explicit)) == [Status.PASS]
    legacy_proxy = ".:53 {\n  proxy . /etc/resolv.conf\n  cache 30\n}\n"
    assert statuses("DNS-010", fx.with_corefile(legacy_proxy)) == [Status.FAIL]


def test_cache_is_required_per_forwarding_block() -> None:
    stub = fx.GOOD_COREFILE + "consul.local:53 {\n  forward . 10.150.0.1\n}\n"
    [finding] = findings("DNS-011", fx.with_corefile(stub))
    assert finding.status is Status.FAIL and finding.evidence["without_cache"] == ["consul.local:53"]
    local_only = ".:53 {\n  kubernetes cluster.local\n}\n"
    assert statuses("DNS-011", fx.with_corefile(local_only)) == [Status.PASS]


@pytest.mark.parametrize(
    ("upstream", "public"),
    [
        ("8.8.8.8", True),
        ("8.8.8.8:53", True),
        ("dns://1.1.1.1", True),
        ("tls://9.9.9.9:853", True),
        ("[2001:4860:4860::8888]:53", True),
        ("2606:4700:4700::1111", True),
        ("10.0.0.2", False),
        ("169.254.169.253", False),
        ("/etc/resolv.conf", False),
    ],
)
def test_public_resolver_forms(upstream: str, public: bool) -> None:
    corefile = fx.GOOD_COREFILE.replace("forward . /etc/resolv.conf", f"forward . {upstream}")
    assert statuses("DNS-012", fx.with_corefile(corefile)) == [Status.WARN if public else Status.PASS]


def test_k3s_corefile_with_a_top_level_import_is_judged() -> None:
    """The import of coredns-custom's server blocks is no parse error; passes say what was not
    read, and a Corefile whose every block is imported is unknown."""
    inv = fx.with_corefile(fx.K3S_COREFILE)
    for check_id in ("DNS-010", "DNS-011", "DNS-012"):
        [finding] = findings(check_id, inv)
        assert finding.status is Status.PASS, check_id
        assert f"imported from {fx.K3S_IMPORT} were not read" in finding.message, check_id
        assert finding.evidence["imports"] == [fx.K3S_IMPORT]
    [health] = findings("DNS-013", inv)
    assert health.status is Status.PASS and "not read" not in health.message
    no_ready = fx.with_corefile(fx.K3S_COREFILE.replace("    ready\n", ""))
    [missing] = findings("DNS-013", no_ready)
    assert missing.status is Status.WARN and "no ready plugin" in missing.message
    assert "were not read" in missing.message
    uncached = fx.with_corefile(fx.K3S_COREFILE.replace("    cache 30\n", ""))
    assert statuses("DNS-011", uncached) == [Status.FAIL]
    only_imports = fx.with_corefile(f"import {fx.K3S_IMPORT}\n")
    [unseen] = findings("DNS-010", only_imports)
    assert unseen.status is Status.UNKNOWN and "imported files" in unseen.message


def test_health_without_lameduck_warns() -> None:
    no_lameduck = fx.GOOD_COREFILE.replace("    health {\n       lameduck 5s\n    }\n", "    health\n")
    [finding] = findings("DNS-013", fx.with_corefile(no_lameduck))
    assert finding.status is Status.WARN and "lameduck" in finding.message


# -- DNS-014 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "status"),
    [
        ({"hostNetwork": True}, Status.PASS),  # ClusterFirst + hostNetwork falls back to the node's resolver
        ({"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"}, Status.WARN),
        ({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["10.0.0.2"]}}, Status.PASS),
        ({"dnsConfig": {"options": [{"name": "ndots", "value": "5"}]}}, Status.WARN),
        ({"dnsConfig": {"options": [{"name": "ndots", "value": "1"}]}}, Status.PASS),
    ],
)
def test_ndots_cases(template: dict[str, Any], status: Status) -> None:
    inv = f.make_inventory(deployments=[f.deployment("web", "shop", template_spec=template)])
    assert statuses("DNS-014", inv) == [status]


def test_workloads_on_every_default_share_one_evidence_dict() -> None:
    """Most workloads inherit every DNS default: their findings hold one evidence dict (one each
    cost 6 MiB at 100k pods), equal to what each would have built; others get their own."""
    inv = f.make_inventory(
        deployments=[
            f.deployment("a", "shop"),
            f.deployment("b", "shop", template_spec={"dnsPolicy": "ClusterFirst"}),
            f.deployment("c", "shop", template_spec={"dnsPolicy": "ClusterFirstWithHostNet"}),
        ]
    )
    a, b, c = findings("DNS-014", inv)
    assert a.evidence is b.evidence and a.evidence == {
        "dnsPolicy": "ClusterFirst",
        "hostNetwork": False,
        "ndots": None,
    }
    assert c.evidence is not a.evidence and c.evidence["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert [a.status, b.status, c.status] == [Status.WARN] * 3


# -- redaction and the recorded cluster ---------------------------------------------------------


def test_redaction_masks_inline_credentials_in_a_kept_corefile() -> None:
    corefile = (
        ".:53 {\n  etcd skydns.local {\n    credentials admin hunter2\n  }\n"
        "  tsig {\n    secret key. c2VjcmV0\n  }\n  forward . /etc/resolv.conf\n  loop\n}\n"
    )
    cm = f.configmap("coredns", "kube-system", {"Corefile": corefile})
    redact("configmaps", cm)
    kept = cm["data"]["Corefile"]
    assert "hunter2" not in kept and "c2VjcmV0" not in kept
    assert "forward . /etc/resolv.conf" in kept and "loop" in kept
    rke2 = f.configmap("rke2-coredns-rke2-coredns", "kube-system", {"Corefile": ".:53 {\n  cache\n}\n"})
    redact("configmaps", rke2)
    assert rke2["data"]["Corefile"] == ".:53 {\n  cache\n}\n"


def test_checks_run_on_the_recorded_v1_24_cluster(fixture_inventory: Inventory) -> None:
    """The recorded apiserver runs kubeadm's CoreDNS 1.8.6 with the default Corefile."""
    results = {cid: statuses(cid, fixture_inventory) for cid in CHECKS if cid.startswith("DNS-")}
    assert results["DNS-001"] == [Status.PASS]
    assert results["DNS-005"] == [Status.PASS]
    assert results["DNS-006"] == [Status.PASS]
    assert results["DNS-009"] == [Status.FAIL]
    assert results["DNS-010"] == [Status.PASS] and results["DNS-011"] == [Status.PASS]
    assert results["DNS-013"] == [Status.WARN]  # health without lameduck
    assert all(Status.ERROR not in s for s in results.values())


def test_the_demo_cluster_shows_the_dns_failures() -> None:
    from tests.demo import build_inventory

    inv = build_inventory()
    status = {cid: statuses(cid, inv) for cid in CHECKS if cid.startswith("DNS-")}
    assert status["DNS-001"] == [Status.PASS]
    for cid in ("DNS-003", "DNS-007", "DNS-009", "DNS-011"):
        assert status[cid] == [Status.FAIL], cid
    assert status["DNS-008"] == [Status.WARN] and status["DNS-012"] == [Status.WARN]
    [stacked] = findings("DNS-003", inv)
    assert "t2.medium" in stacked.message


def test_dns_as_a_daemonset_needs_no_autoscaler() -> None:
    """OpenShift's dns-default runs one CoreDNS pod per node: it follows the node count by design."""
    big = f.make_inventory(**{**fx.openshift_dns(), "nodes": [f.node(f"n{i}") for i in range(60)]})
    [finding] = findings("DNS-007", big)
    assert finding.status is Status.PASS
    assert (
        "DaemonSet openshift-dns/dns-default" in finding.message
        and "scales with the nodes" in finding.message
    )


def test_without_daemonsets_a_missing_dns_deployment_is_unknown_not_a_missing_autoscaler() -> None:
    big = f.make_inventory(
        deployments=[],
        configmaps=[],
        nodes=[f.node(f"n{i}") for i in range(60)],
        coverage={"daemonsets": "forbidden"},
    )
    [finding] = findings("DNS-007", big)
    assert finding.status is Status.UNKNOWN and "DaemonSet" in finding.message


def k3s_with_custom(custom: dict[str, str] | None) -> Inventory:
    """k3s's CoreDNS: the Corefile and the optional coredns-custom ConfigMap mounted as k3s does."""
    objects = fx.healthy(corefile=fx.K3S_COREFILE)
    spec = objects["deployments"][0]["spec"]["template"]["spec"]
    spec["volumes"] = [
        {
            "name": "config-volume",
            "configMap": {"name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]},
        },
        {"name": "custom-config-volume", "configMap": {"name": "coredns-custom", "optional": True}},
    ]
    spec["containers"][0]["volumeMounts"] = [
        {"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True},
        {"name": "custom-config-volume", "mountPath": "/etc/coredns/custom", "readOnly": True},
    ]
    if custom is not None:
        objects["configmaps"].append(f.configmap("coredns-custom", "kube-system", custom))
    return f.make_inventory(**objects)


def test_server_blocks_of_coredns_custom_are_judged() -> None:
    inv = k3s_with_custom({"corp.server": "corp.example:53 {\n  forward . 8.8.8.8\n}\n"})
    [uncached] = findings("DNS-011", inv)
    assert uncached.status is Status.FAIL
    assert "corp.example:53 (from /etc/coredns/custom/corp.server)" in uncached.message
    [public] = findings("DNS-012", inv)
    assert public.status is Status.WARN and "-> 8.8.8.8" in public.message
    assert public.evidence["imported_files"] == ["/etc/coredns/custom/corp.server"]


def test_an_absent_coredns_custom_imports_nothing_and_nothing_is_left_unread() -> None:
    [finding] = findings("DNS-011", k3s_with_custom(None))
    assert finding.status is Status.PASS and "not read" not in finding.message


def test_a_redacted_custom_file_stays_unread() -> None:
    [finding] = findings("DNS-012", k3s_with_custom({"corp.server": REDACTED}))
    assert finding.status is Status.PASS and f"imported from {fx.K3S_IMPORT} were not read" in finding.message


def test_coredns_custom_survives_redaction() -> None:
    custom = f.configmap("coredns-custom", "kube-system", {"corp.server": "corp.example:53 {\n}\n", "x": "y"})
    redact("configmaps", custom)
    assert custom["data"] == {"corp.server": "corp.example:53 {\n}\n", "x": REDACTED}
