"""Fixtures for the resilience area."""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.check_fixtures import fixture

Obj = dict[str, Any]


def nodes(count: int = 3, **kwargs: Any) -> list[Obj]:
    return [f.node(f"node-{i}", **kwargs) for i in range(1, count + 1)]


def deployment_with_pods(
    name: str,
    namespace: str = "default",
    *,
    replicas: int = 3,
    node_names: list[str] | None = None,
    containers: list[Obj] | None = None,
    template_spec: Obj | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, list[Obj]]:
    """A Deployment, its ReplicaSet and running pods placed on `node_names` (round robin)."""
    labels = labels or {"app": name}
    deployment = f.deployment(
        name, namespace, replicas=replicas, labels=labels, containers=containers, template_spec=template_spec
    )
    rs = f.replicaset(f"{name}-5d8f9c7b6", namespace, owner=deployment, replicas=replicas, labels=labels)
    placement = node_names or ["node-1", "node-2", "node-3"]
    pods = [
        f.pod(
            f"{name}-5d8f9c7b6-{i:05d}",
            namespace,
            node_name=placement[i % len(placement)],
            labels=labels,
            owner=rs,
            containers=deployment["spec"]["template"]["spec"]["containers"],
        )
        for i in range(replicas)
    ]
    return {"deployments": [deployment], "replicasets": [rs], "pods": pods}


def statefulset_with_pods(
    name: str, namespace: str, *, replicas: int, node_names: list[str], containers: list[Obj], **kwargs: Any
) -> dict[str, list[Obj]]:
    sts = f.statefulset(name, namespace, replicas=replicas, containers=containers, **kwargs)
    pods = [
        f.pod(
            f"{name}-{i}",
            namespace,
            node_name=node_names[i % len(node_names)],
            labels={"app": name},
            owner=sts,
            owner_kind="StatefulSet",
            containers=containers,
        )
        for i in range(replicas)
    ]
    return {"statefulsets": [sts], "pods": pods}


def spread_by_hostname(app: str) -> Obj:
    return {
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": app}},
            }
        ]
    }


def coredns(*, priority: str | None = "system-cluster-critical") -> Obj:
    template_spec = {"priorityClassName": priority} if priority else None
    return f.deployment(
        "coredns",
        "kube-system",
        replicas=2,
        labels={"k8s-app": "kube-dns"},
        containers=[f.container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", ports=[53])],
        template_spec=template_spec,
    )


def metrics_server(*, priority: str | None = "system-cluster-critical") -> Obj:
    template_spec = {"priorityClassName": priority} if priority else None
    return f.deployment(
        "metrics-server",
        "kube-system",
        replicas=2,
        labels={"k8s-app": "metrics-server"},
        containers=[f.container("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.1")],
        template_spec=template_spec,
    )


def redis_container(readiness: bool) -> Obj:
    return f.container("redis", "redis:7.2.4", ports=[6379], readiness=readiness, cpu_limit=None)


# -- RES-001 ------------------------------------------------------------------------------------


@fixture("RES-001", "pass")
def cronjob_pass():
    return f.make_inventory(
        cronjobs=[
            f.cronjob("sync-prices", "shop", schedule="*/5 * * * *", concurrency_policy="Forbid"),
            f.cronjob(
                "nightly-report",
                "shop",
                schedule="0 3 * * *",
                concurrency_policy="Allow",
                starting_deadline=None,
                active_deadline=None,
            ),
        ]
    )


@fixture("RES-001", "fail")
def cronjob_fail():
    return f.make_inventory(
        cronjobs=[
            f.cronjob(
                "foobar",
                "shop",
                schedule="*/15 9-19 * * Mon-Fri",
                concurrency_policy="Allow",
                starting_deadline=None,
                active_deadline=None,
            )
        ]
    )


# -- RES-002 ------------------------------------------------------------------------------------


@fixture("RES-002", "pass")
def quota_pass():
    return f.make_inventory(
        namespaces=[f.namespace("kube-system"), f.namespace("shop"), f.namespace("ci")],
        resourcequotas=[
            f.resourcequota("pod-count", "shop", {"pods": "1500"}),
            f.resourcequota("objects", "ci", {"count/pods": "300", "count/configmaps": "100"}),
        ],
    )


@fixture("RES-002", "fail")
def quota_fail():
    return f.make_inventory(
        namespaces=[f.namespace("shop")],
        resourcequotas=[
            f.resourcequota("compute", "shop", {"requests.cpu": "40", "requests.memory": "80Gi"})
        ],
    )


# -- RES-003 ------------------------------------------------------------------------------------


def _limited_app(kernel: str):
    objects = deployment_with_pods(
        "api",
        "shop",
        replicas=2,
        containers=[f.container("api", "registry.example.com/api:1.0", cpu_limit="500m")],
    )
    return f.make_inventory(nodes=nodes(kernel=kernel), **objects)


@fixture("RES-003", "pass")
def cfs_pass():
    return _limited_app("5.15.0-1051-aws")


@fixture("RES-003", "fail")
def cfs_fail():
    return _limited_app("4.14.62-70.117.amzn2.x86_64")


# -- RES-004 ------------------------------------------------------------------------------------


@fixture("RES-004", "pass")
def spread_pass():
    objects = deployment_with_pods("web", "shop", replicas=3, template_spec=spread_by_hostname("web"))
    return f.make_inventory(nodes=nodes(), **objects)


@fixture("RES-004", "fail")
def spread_fail():
    objects = statefulset_with_pods(
        "redis", "shop", replicas=3, node_names=["node-2"], containers=[redis_container(readiness=True)]
    )
    return f.make_inventory(nodes=nodes(), deployments=[], replicasets=[], **objects)


# -- RES-005 ------------------------------------------------------------------------------------


@fixture("RES-005", "pass")
def readiness_pass():
    objects = deployment_with_pods("web", "shop", replicas=2)
    sts = f.statefulset("redis", "shop", replicas=3, containers=[redis_container(readiness=True)])
    return f.make_inventory(
        services=[f.service("web", "shop"), f.service("redis", "shop", ports=[6379])],
        statefulsets=[sts],
        daemonsets=[],
        **objects,
    )


@fixture("RES-005", "fail")
def readiness_fail():
    sts = f.statefulset("redis", "shop", replicas=3, containers=[redis_container(readiness=False)])
    return f.make_inventory(
        services=[f.service("redis", "shop", ports=[6379])], deployments=[], statefulsets=[sts], daemonsets=[]
    )


# -- RES-006 ------------------------------------------------------------------------------------


@fixture("RES-006", "pass")
def addon_pdb_pass():
    return f.make_inventory(
        deployments=[metrics_server()],
        statefulsets=[],
        poddisruptionbudgets=[
            f.pdb(
                "metrics-server",
                "kube-system",
                {"k8s-app": "metrics-server"},
                min_available=None,
                max_unavailable=1,
            )
        ],
    )


@fixture("RES-006", "fail")
def addon_pdb_fail():
    return f.make_inventory(deployments=[metrics_server()], statefulsets=[], poddisruptionbudgets=[])


# -- RES-007 ------------------------------------------------------------------------------------


@fixture("RES-007", "pass")
def pdb_budget_pass():
    objects = deployment_with_pods("checkout", "shop", replicas=3)
    return f.make_inventory(
        statefulsets=[],
        poddisruptionbudgets=[f.pdb("checkout", "shop", {"app": "checkout"}, min_available="50%")],
        **objects,
    )


@fixture("RES-007", "fail")
def pdb_budget_fail():
    objects = deployment_with_pods("checkout", "shop", replicas=2)
    return f.make_inventory(
        statefulsets=[],
        poddisruptionbudgets=[f.pdb("checkout", "shop", {"app": "checkout"}, min_available=2)],
        **objects,
    )


# -- RES-008 ------------------------------------------------------------------------------------

EXCLUDE_SYSTEM = {
    "matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "policy"]}
    ]
}


def _webhook_cluster(ready_ips: list[str], namespace_selector: Obj | None):
    return f.make_inventory(
        namespaces=[f.namespace("kube-system"), f.namespace("policy"), f.namespace("shop")],
        services=[f.service("policy-webhook", "policy", ports=[443])],
        endpoints=[f.endpoints("policy-webhook", "policy", ready_ips=ready_ips)],
        validatingwebhookconfigurations=[
            f.webhook_configuration("image-policy", namespace_selector=namespace_selector)
        ],
        mutatingwebhookconfigurations=[
            f.webhook_configuration("defaults", kind="MutatingWebhookConfiguration", failure_policy="Ignore")
        ],
    )


@fixture("RES-008", "pass")
def webhook_pass():
    return _webhook_cluster(["10.2.1.10", "10.2.2.10"], EXCLUDE_SYSTEM)


@fixture("RES-008", "fail")
def webhook_fail():
    return _webhook_cluster([], None)


# -- RES-009 ------------------------------------------------------------------------------------


@fixture("RES-009", "pass")
def priority_pass():
    return f.make_inventory(
        deployments=[metrics_server()],
        daemonsets=[
            f.daemonset(
                "kube-proxy",
                containers=[f.container("kube-proxy", "registry.k8s.io/kube-proxy:v1.29.3", readiness=False)],
                template_spec={"priorityClassName": "system-node-critical"},
            )
        ],
        statefulsets=[],
        priorityclasses=[f.priorityclass("system-cluster-critical", 2000000000)],
    )


@fixture("RES-009", "fail")
def priority_fail():
    return f.make_inventory(deployments=[metrics_server(priority=None)], daemonsets=[], statefulsets=[])


# -- RES-010 ------------------------------------------------------------------------------------


def _aws_node(env: list[Obj]) -> Obj:
    return f.daemonset(
        "aws-node",
        labels={"k8s-app": "aws-node"},
        containers=[
            f.container(
                "aws-node", "602401143452.dkr.ecr.eu-central-1.amazonaws.com/amazon-k8s-cni:v1.18.1", env=env
            )
        ],
        template_spec={"priorityClassName": "system-node-critical", "hostNetwork": True},
    )


@fixture("RES-010", "pass")
def snat_pass():
    return f.make_inventory(
        nodes=nodes(), daemonsets=[_aws_node([{"name": "AWS_VPC_K8S_CNI_EXTERNALSNAT", "value": "true"}])]
    )


@fixture("RES-010", "fail")
def snat_fail():
    return f.make_inventory(
        nodes=nodes(), daemonsets=[_aws_node([{"name": "AWS_VPC_K8S_CNI_LOGLEVEL", "value": "DEBUG"}])]
    )


# -- RES-011 ------------------------------------------------------------------------------------


@fixture("RES-011", "pass")
def shipper_pass():
    shipper = f.daemonset(
        "fluent-bit",
        "logging",
        containers=[f.container("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.0.4", readiness=False)],
        template_spec={"tolerations": [{"operator": "Exists"}]},
        desired=4,
    )
    return f.make_inventory(nodes=[*nodes(), f.node("cp-1", control_plane=True)], daemonsets=[shipper])


@fixture("RES-011", "fail")
def shipper_fail():
    return f.make_inventory(nodes=nodes(), daemonsets=[])


# -- RES-012 ------------------------------------------------------------------------------------


@fixture("RES-012", "pass")
def monitoring_pass():
    return f.make_inventory(
        deployments=[],
        daemonsets=[],
        statefulsets=[
            f.statefulset(
                "prometheus-k8s",
                "monitoring",
                replicas=2,
                containers=[f.container("prometheus", "quay.io/prometheus/prometheus:v2.51.0")],
            ),
            f.statefulset(
                "alertmanager-main",
                "monitoring",
                replicas=3,
                containers=[f.container("alertmanager", "quay.io/prometheus/alertmanager:v0.27.0")],
            ),
        ],
    )


@fixture("RES-012", "fail")
def monitoring_fail():
    return f.make_inventory(deployments=[], daemonsets=[], statefulsets=[], customresourcedefinitions=[])
