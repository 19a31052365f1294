"""The tricky parts of the nodes checks: instance types, add-on detection, OS names, isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from checks import nodes
from k8saudit.engine import run_check
from k8saudit.model import Status, Subject
from k8saudit.registry import Context, load_checks
from tests import factories as f

CHECKS = load_checks()
NOW = Context.default(datetime(2026, 11, 20, 8, tzinfo=UTC))


def statuses(check_id: str, inventory) -> list[tuple[str, str]]:
    return [(str(x.subject), x.status.value) for x in run_check(CHECKS[check_id], inventory, NOW)]


@pytest.mark.parametrize(
    ("kind", "burstable"),
    [
        ("t2.medium", True),
        ("t3a.large", True),
        ("t4g.small", True),
        ("t1.micro", True),
        ("T3.Medium", True),
        ("m5.large", False),
        ("m6i.xlarge", False),
        ("c7g.2xlarge", False),
        ("e2-medium", True),
        ("e2-micro", True),
        ("e2-standard-4", False),
        ("f1-micro", True),
        ("g1-small", True),
        ("n2-standard-8", False),
        ("Standard_B2s", True),
        ("Standard_B4als_v2", True),
        ("standard_b2ms", True),
        ("Standard_D4s_v5", False),
    ],
)
def test_burstable_instance_types(kind: str, burstable: bool) -> None:
    assert nodes.is_burstable(kind) is burstable


def test_addon_detection_ignores_daemonsets_but_not_dns_or_ingress() -> None:
    ds = f.daemonset("kube-proxy")
    kube_proxy = f.pod(
        "kube-proxy-x",
        "kube-system",
        owner=ds,
        owner_kind="DaemonSet",
        spec={"priorityClassName": "system-node-critical"},
    )
    traefik = f.pod(
        "traefik-abc",
        "edge",
        owner=ds,
        owner_kind="DaemonSet",
        containers=[f.container("traefik", "docker.io/library/traefik:v3.1")],
    )
    metrics = f.pod("metrics-server-1", "kube-system", spec={"priorityClassName": "system-cluster-critical"})
    dns = f.pod("coredns-1", "kube-system", labels={"k8s-app": "kube-dns"})
    assert nodes.critical_addon_role(kube_proxy) is None
    assert nodes.critical_addon_role(traefik) == "ingress"
    assert nodes.critical_addon_role(metrics) == "system-critical"
    assert nodes.critical_addon_role(dns) == "DNS"
    assert nodes.critical_addon_role(f.pod("web", "shop")) is None


def test_instance_checks_are_not_applicable_without_instance_labels_or_on_managed_control_planes() -> None:
    bare = f.make_inventory(
        nodes=[f.node("cp", control_plane=True, instance_type=None), f.node("w", instance_type=None)], pods=[]
    )
    for check_id in ("NODE-001", "NODE-002", "NODE-003"):
        assert statuses(check_id, bare) == [("cluster", "not-applicable")]
    eks = f.make_inventory(
        version="v1.29.3-eks-adc7111", nodes=[f.node("w", instance_type="t3.large")], pods=[]
    )
    assert statuses("NODE-001", eks) == [("cluster", "not-applicable")]
    assert statuses("NODE-006", eks) == [("cluster", "not-applicable")]


def test_unlabelled_node_in_a_labelled_cluster_is_unknown() -> None:
    inv = f.make_inventory(
        nodes=[f.node("w1", instance_type="m5.large"), f.node("w2", instance_type=None)], pods=[]
    )
    assert statuses("NODE-003", inv) == [("Node w1", "pass"), ("Node w2", "unknown")]


def test_each_node_is_judged_by_exactly_one_instance_check() -> None:
    inv = f.make_inventory(
        nodes=[
            f.node("cp", control_plane=True, instance_type="t2.medium"),
            f.node("dns", instance_type="t2.medium"),
            f.node("app", instance_type="t2.medium"),
        ],
        pods=[f.pod("coredns-1", "kube-system", node_name="dns", labels={"k8s-app": "kube-dns"})],
    )
    assert statuses("NODE-001", inv) == [("Node cp", "fail")]
    assert statuses("NODE-002", inv) == [("Node dns", "fail")]
    assert statuses("NODE-003", inv) == [("Node app", "warn")]


@pytest.mark.parametrize(
    ("instance_type", "expected", "phrase"),
    [
        ("t2.large", "fail", "throttled"),  # standard credit mode by default
        ("t3.large", "warn", "unlimited mode"),  # unlimited by default: billed, not throttled
        ("t3a.xlarge", "warn", "unlimited mode"),
        ("t4g.medium", "warn", "unlimited mode"),
        ("Standard_B2s", "fail", "throttled"),
    ],
)
def test_burstable_verdicts_follow_the_default_credit_mode(instance_type, expected, phrase) -> None:
    inv = f.make_inventory(nodes=[f.node("cp", control_plane=True, instance_type=instance_type)])
    [finding] = run_check(CHECKS["NODE-001"], inv, NOW)
    assert finding.status.value == expected and phrase in finding.message, finding.message


@pytest.mark.parametrize(
    ("os_image", "name", "expected"),
    [
        ("Flatcar Container Linux by Kinvolk 3815.2.0 (Oklo)", "Flatcar Container Linux", Status.PASS),
        ("Container Linux by CoreOS 2345.3.0 (Rhyolite)", "CoreOS Container Linux", Status.FAIL),
        ("Amazon Linux 2", "Amazon Linux 2", Status.FAIL),  # ended 2026-06-30
        ("Amazon Linux 2023.6.20241010", "Amazon Linux 2023", Status.PASS),
        ("Amazon Linux AMI 2018.03", "Amazon Linux AMI", Status.FAIL),
        ("Ubuntu 16.04.7 LTS", "Ubuntu 16.04", Status.FAIL),  # past ESM
        ("Ubuntu 20.04.6 LTS", "Ubuntu 20.04", Status.WARN),  # ESM only
        ("Ubuntu 22.04.3 LTS", "Ubuntu 22.04", Status.PASS),
        ("Debian GNU/Linux 11 (bullseye)", "Debian 11", Status.FAIL),  # LTS ended 2026-08-31
        ("Debian GNU/Linux 12 (bookworm)", "Debian 12", Status.WARN),  # LTS only
        ("Debian GNU/Linux 13 (trixie)", "Debian 13", Status.PASS),
        ("CentOS Stream 9", "CentOS Stream 9", Status.PASS),
        ("Red Hat Enterprise Linux Server 7.9 (Maipo)", "RHEL 7", Status.WARN),
        (
            "Red Hat Enterprise Linux CoreOS 415.92.202402130021-0 (Plow)",
            "Red Hat Enterprise Linux CoreOS",
            Status.PASS,
        ),
        ("Bottlerocket OS 1.19.2 (aws-k8s-1.29)", "Bottlerocket", Status.PASS),
        ("Container-Optimized OS from Google", "Container-Optimized OS", Status.PASS),
        ("Windows Server 2019 Datacenter", None, Status.UNKNOWN),
        ("", None, Status.UNKNOWN),
    ],
)
def test_os_support(os_image: str, name: str | None, expected: Status) -> None:
    release = nodes.os_release(os_image)
    assert (release.name if release else None) == name
    finding = nodes.os_support_finding(Subject("Node", "", "n"), os_image, date(2026, 11, 20), 60)
    assert finding.status is expected, finding.message


def test_os_support_warns_before_the_end() -> None:
    finding = nodes.os_support_finding(Subject("Node", "", "n"), "Ubuntu 22.04.5 LTS", date(2027, 3, 1), 60)
    assert finding.status is Status.WARN and "31 days" in finding.message


def test_node_conditions_unknown_ready_and_missing_ready() -> None:
    unknown_ready = f.node("lost", conditions={"Ready": "Unknown"})
    no_ready = f.node("odd")
    no_ready["status"]["conditions"] = [c for c in no_ready["status"]["conditions"] if c["type"] != "Ready"]
    disk = f.node("full", conditions={"DiskPressure": "True", "PIDPressure": "True"})
    inv = f.make_inventory(nodes=[unknown_ready, no_ready, disk])
    findings = {str(x.subject): x for x in run_check(CHECKS["NODE-004"], inv, NOW)}
    assert findings["Node lost"].status is Status.FAIL and "Unknown" in findings["Node lost"].message
    assert findings["Node odd"].status is Status.UNKNOWN
    assert findings["Node full"].message == "node reports DiskPressure, PIDPressure"


def test_control_plane_isolation_cases() -> None:
    ds = f.daemonset("node-exporter", "monitoring")
    exporter = f.pod("node-exporter-1", "monitoring", node_name="cp-2", owner=ds, owner_kind="DaemonSet")
    tolerant = f.pod("backup-1", "ops", node_name="cp-1")
    inv = f.make_inventory(
        nodes=[
            f.node("cp-1", control_plane=True),  # tainted, but a workload tolerates it
            f.node("cp-2", control_plane=True, taints=[]),  # untainted, only a DaemonSet pod
            f.node("worker"),
        ],
        pods=[tolerant, exporter],
    )
    assert statuses("NODE-006", inv) == [("Node cp-1", "warn"), ("Node cp-2", "warn")]
    single = f.make_inventory(nodes=[f.node("k3s", control_plane=True, taints=[])], pods=[])
    assert statuses("NODE-006", single) == [("cluster", "not-applicable")]
    no_cp = f.make_inventory(nodes=[f.node("a"), f.node("b")], pods=[])
    assert statuses("NODE-006", no_cp) == [("cluster", "not-applicable")]


def test_old_master_role_label_and_taint_are_recognised() -> None:
    master = f.node(
        "master-1",
        labels={"node-role.kubernetes.io/master": ""},
        taints=[{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}],
        instance_type="t2.large",
    )
    inv = f.make_inventory(nodes=[master, f.node("w")], pods=[])
    assert statuses("NODE-006", inv) == [("Node master-1", "pass")]
    assert statuses("NODE-001", inv) == [("Node master-1", "fail")]


# -- k3s and RKE2 -----------------------------------------------------------------------------------

K3S_PLACEHOLDER = {"node.kubernetes.io/instance-type": "k3s", "beta.kubernetes.io/instance-type": "k3s"}


def k3s_server(name: str, **extra) -> dict:
    return f.node(
        name,
        kubelet="v1.30.4+k3s1",
        instance_type=None,
        labels={**K3S_PLACEHOLDER, "node-role.kubernetes.io/control-plane": "true"},
        taints=[],
        **extra,
    )


def k3s_agent(name: str, instance_type: str | None = None) -> dict:
    labels = K3S_PLACEHOLDER if instance_type is None else {}
    return f.node(name, kubelet="v1.30.4+k3s1", instance_type=instance_type, labels=labels)


def messages(check_id: str, inventory) -> list[tuple[str, str, str]]:
    return [(str(x.subject), x.status.value, x.message) for x in run_check(CHECKS[check_id], inventory, NOW)]


def test_the_k3s_instance_type_placeholder_is_not_a_machine_type() -> None:
    coredns = f.pod("coredns-1", "kube-system", node_name="agent-1", labels={"k8s-app": "kube-dns"})
    inv = f.make_inventory(
        version="v1.30.4+k3s1",
        nodes=[k3s_server("server-1"), k3s_agent("agent-1"), k3s_agent("agent-2")],
        pods=[coredns],
    )
    for check_id in ("NODE-001", "NODE-002", "NODE-003"):
        [(subject, status, message)] = messages(check_id, inv)
        assert (subject, status) == ("cluster", "not-applicable")
        assert "instance type is known" in message and "'k3s', the placeholder k3s and RKE2 set" in message


def test_a_placeholder_node_among_labelled_ones_is_unknown() -> None:
    inv = f.make_inventory(nodes=[k3s_agent("w1", "m5.large"), k3s_agent("w2")], pods=[])
    [first, second] = messages("NODE-003", inv)
    assert first == ("Node w1", "pass", "worker node on m5.large, a fixed-performance instance type")
    assert second[:2] == ("Node w2", "unknown") and "placeholder" in second[2]


@pytest.mark.parametrize(
    "taint",
    [
        {"key": "CriticalAddonsOnly", "value": "true", "effect": "NoExecute"},  # dedicated k3s/RKE2 server
        {"key": "node-role.kubernetes.io/etcd", "value": "true", "effect": "NoExecute"},  # RKE2 etcd-only
    ],
)
def test_k3s_and_rke2_dedicated_server_taints_isolate_the_control_plane(taint: dict) -> None:
    inv = f.make_inventory(
        version="v1.29.3+rke2r1",
        nodes=[f.node("server-1", control_plane=True, taints=[taint]), f.node("agent-1")],
        pods=[f.pod("web-1", "shop", node_name="agent-1")],
    )
    [(subject, status, message)] = messages("NODE-006", inv)
    assert (subject, status) == ("Node server-1", "pass")
    assert message == f"tainted {taint['key']}:NoExecute and runs no ordinary workload"


def test_a_cluster_of_control_plane_nodes_only_is_not_applicable() -> None:
    servers = [k3s_server(f"server-{i}") for i in range(3)]
    pods = [f.pod(f"web-{i}", "shop", node_name=f"server-{i}") for i in range(3)]
    inv = f.make_inventory(version="v1.30.4+k3s1", nodes=servers, pods=pods)
    [(subject, status, message)] = messages("NODE-006", inv)
    assert (subject, status) == ("cluster", "not-applicable")
    assert message.startswith("every node (3) is a control-plane node: with no worker node")


# -- OpenShift --------------------------------------------------------------------------------------


def openshift_cluster(os_id_label: bool, server: str = "https://10.0.0.1:6443") -> object:
    """Masters running only pods in `openshift-*` namespaces, with or without the node label that
    identifies OpenShift, behind the API server address `server`."""
    os_id = {"node.openshift.io/os_id": "rhcos"} if os_id_label else {}
    master = f.node(
        "master-0",
        labels={"node-role.kubernetes.io/master": "", **os_id},
        taints=[{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}],
    )
    worker = f.node("worker-0", labels={"node-role.kubernetes.io/worker": "", **os_id})
    pods = [
        f.pod("apiserver-0", "openshift-apiserver", node_name="master-0"),
        f.pod("oauth-openshift-0", "openshift-authentication", node_name="master-0"),
    ]
    return f.make_inventory(server=server, nodes=[master, worker], pods=pods)


def test_openshift_platform_namespaces_are_not_ordinary_workloads_on_openshift() -> None:
    inv = openshift_cluster(os_id_label=True)
    assert inv.provider.name == "openshift"
    assert messages("NODE-006", inv) == [
        (
            "Node master-0",
            "pass",
            "tainted node-role.kubernetes.io/master:NoSchedule and runs no ordinary workload",
        )
    ]


def test_an_openshift_prefixed_namespace_elsewhere_is_an_ordinary_workload() -> None:
    inv = openshift_cluster(os_id_label=False)
    assert inv.provider.name != "openshift"
    [(subject, status, message)] = messages("NODE-006", inv)
    assert (subject, status) == ("Node master-0", "warn")
    assert (
        message
        == "ordinary pods (2) tolerate the node-role.kubernetes.io/master:NoSchedule taint and run here"
    )


@pytest.mark.parametrize(
    ("server", "provider"),
    [
        ("https://api.shop.a1b2.p1.openshiftapps.com:6443", "rosa"),
        ("https://api.shop.westeurope.aroapp.io:6443", "aro"),
    ],
)
def test_rosa_and_aro_masters_are_judged_with_their_platform_namespaces(server: str, provider: str) -> None:
    inv = openshift_cluster(os_id_label=False, server=server)
    assert inv.provider.name == provider and inv.provider.is_openshift
    [(subject, status, message)] = messages("NODE-006", inv)
    assert (subject, status) == ("Node master-0", "pass")
    assert "runs no ordinary workload" in message
