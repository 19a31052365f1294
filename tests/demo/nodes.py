"""Nodes in the demo: the control plane runs on t3.medium (base), and a cheap "system" node pool
on a t2.medium carries CoreDNS and metrics-server, the JW Player / Moonlight pattern of critical
work on a machine that runs out of CPU credits. A dashboard tolerates the control-plane taint
and was scheduled next to etcd.
"""

from __future__ import annotations

from tests import factories as f
from tests.demo import DemoCluster
from tests.demo.base import ZONES, control_plane_nodes

SYSTEM_NODE = "ip-10-0-30-14.eu-central-1.compute.internal"
FALLBACK_WORKER = "ip-10-0-11-21.eu-central-1.compute.internal"


def system_node() -> dict:
    zone = ZONES[0]
    return f.node(
        SYSTEM_NODE,
        kubelet="v1.27.9",
        instance_type="t2.medium",
        labels={"kops.k8s.io/instancegroup": "system", "topology.kubernetes.io/zone": zone},
        provider_id=f"aws:///{zone}/i-0d15c0ffee000001",
        kernel="5.15.0-1051-aws",
        os_image="Ubuntu 22.04.3 LTS",
    )


def _dns_pods(demo: DemoCluster) -> list[dict]:
    return [
        p
        for p in demo.objects.get("pods", [])
        if p["metadata"].get("namespace") == "kube-system"
        and p["metadata"].get("labels", {}).get("k8s-app") in ("kube-dns", "coredns")
    ]


def add_coredns(demo: DemoCluster) -> None:
    """Put a CoreDNS replica on the t2 node: move one the DNS demo already added, or add CoreDNS."""
    existing = _dns_pods(demo)
    if existing:
        existing[0]["spec"]["nodeName"] = SYSTEM_NODE
        return
    containers = [
        f.container(
            "coredns",
            "registry.k8s.io/coredns/coredns:v1.10.1",
            ports=[53],
            cpu_request="100m",
            memory_request="70Mi",
            memory_limit="170Mi",
        )
    ]
    labels = {"k8s-app": "kube-dns"}
    spec = {"priorityClassName": "system-cluster-critical", "dnsPolicy": "Default"}
    deployment = f.deployment(
        "coredns", "kube-system", replicas=2, labels=labels, containers=containers, template_spec=spec
    )
    rs = f.replicaset("coredns-5d78c9869d", "kube-system", owner=deployment, replicas=2, labels=labels)
    demo.add("deployments", deployment)
    demo.add("replicasets", rs)
    for suffix, node in (("x7k2p", SYSTEM_NODE), ("q9w4t", FALLBACK_WORKER)):
        demo.add(
            "pods",
            f.pod(
                f"coredns-5d78c9869d-{suffix}",
                "kube-system",
                node_name=node,
                labels=labels,
                owner=rs,
                containers=containers,
                spec=spec,
            ),
        )


def add_metrics_server(demo: DemoCluster) -> None:
    labels = {"k8s-app": "metrics-server"}
    containers = [f.container("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.6.4")]
    spec = {"priorityClassName": "system-cluster-critical"}
    deployment = f.deployment(
        "metrics-server", "kube-system", replicas=1, labels=labels, containers=containers, template_spec=spec
    )
    rs = f.replicaset("metrics-server-7b4c4d4bfd", "kube-system", owner=deployment, replicas=1, labels=labels)
    demo.add("deployments", deployment)
    demo.add("replicasets", rs)
    demo.add(
        "pods",
        f.pod(
            "metrics-server-7b4c4d4bfd-m2z8r",
            "kube-system",
            node_name=SYSTEM_NODE,
            labels=labels,
            owner=rs,
            containers=containers,
            spec=spec,
        ),
    )


def add_dashboard_on_control_plane(demo: DemoCluster) -> None:
    """kube-ops-view, given a control-plane toleration "so it always has room"."""
    node = control_plane_nodes()[0]["metadata"]["name"]
    labels = {"app": "kube-ops-view"}
    containers = [f.container("kube-ops-view", "hjacobs/kube-ops-view:23.5.0", ports=[8080])]
    spec = {
        "tolerations": [
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}
        ]
    }
    deployment = f.deployment(
        "kube-ops-view", "monitoring", replicas=1, labels=labels, containers=containers, template_spec=spec
    )
    rs = f.replicaset("kube-ops-view-6c8d9f7b5", "monitoring", owner=deployment, replicas=1, labels=labels)
    demo.add("deployments", deployment)
    demo.add("replicasets", rs)
    demo.add(
        "pods",
        f.pod(
            "kube-ops-view-6c8d9f7b5-k4j7d",
            "monitoring",
            node_name=node,
            labels=labels,
            owner=rs,
            containers=containers,
            spec=spec,
        ),
    )


def contribute(demo: DemoCluster) -> None:
    demo.add("nodes", system_node())
    add_coredns(demo)
    add_metrics_server(demo)
    add_dashboard_on_control_plane(demo)
