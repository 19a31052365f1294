"""Fixtures for the nodes area."""

from __future__ import annotations

from tests import factories as f
from tests.check_fixtures import fixture


def coredns_pod(node_name: str) -> dict:
    return f.pod(
        "coredns-5d78c9869d-x7k2p",
        "kube-system",
        node_name=node_name,
        labels={"k8s-app": "kube-dns"},
        containers=[f.container("coredns", "registry.k8s.io/coredns/coredns:v1.10.1")],
        spec={"priorityClassName": "system-cluster-critical"},
    )


def static_apiserver(node_name: str) -> dict:
    return f.pod(
        f"kube-apiserver-{node_name}",
        "kube-system",
        node_name=node_name,
        labels={"component": "kube-apiserver", "tier": "control-plane"},
        annotations={"kubernetes.io/config.mirror": "3f1b"},
        containers=[f.container("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.29.3")],
    )


# -- NODE-001 control-plane instance types ---------------------------------------------------------


@fixture("NODE-001", "pass")
def cp_instance_pass():
    return f.make_inventory(
        nodes=[
            f.node("cp-1", control_plane=True, instance_type="m6i.large"),
            f.node("worker-1", instance_type="t3.large"),
        ],
        pods=[static_apiserver("cp-1")],
    )


@fixture("NODE-001", "fail")
def cp_instance_fail():
    return f.make_inventory(
        nodes=[
            f.node("cp-1", control_plane=True, instance_type="t3.medium"),
            # detected by its static API server pod, labelled the pre-1.20 way
            f.node("cp-2", instance_type=None, labels={"beta.kubernetes.io/instance-type": "t2.medium"}),
            f.node("worker-1", instance_type="m5.xlarge"),
        ],
        pods=[static_apiserver("cp-1"), static_apiserver("cp-2")],
    )


# -- NODE-002 critical add-on nodes ----------------------------------------------------------------


@fixture("NODE-002", "pass")
def addon_instance_pass():
    return f.make_inventory(
        nodes=[f.node("worker-1", instance_type="m5.large"), f.node("worker-2", instance_type="t3.small")],
        pods=[coredns_pod("worker-1"), f.pod("web-1", "shop", node_name="worker-2")],
    )


@fixture("NODE-002", "fail")
def addon_instance_fail():
    return f.make_inventory(
        nodes=[f.node("worker-1", instance_type="t2.medium"), f.node("worker-2", instance_type="m5.large")],
        pods=[
            coredns_pod("worker-1"),
            f.pod(
                "ingress-nginx-controller-7c9f8-abcde",
                "ingress-nginx",
                node_name="worker-2",
                labels={"app.kubernetes.io/name": "ingress-nginx"},
                containers=[f.container("controller", "registry.k8s.io/ingress-nginx/controller:v1.9.4")],
            ),
        ],
    )


# -- NODE-003 worker instance types ----------------------------------------------------------------


@fixture("NODE-003", "pass")
def worker_instance_pass():
    return f.make_inventory(
        nodes=[
            f.node("worker-1", instance_type="m5.large"),
            f.node("worker-2", instance_type="n2-standard-4"),
        ],
        pods=[f.pod("web-1", "shop", node_name="worker-1")],
    )


@fixture("NODE-003", "fail")
def worker_instance_fail():
    return f.make_inventory(
        nodes=[
            f.node("worker-1", instance_type="Standard_B2s"),
            f.node("worker-2", instance_type="e2-medium"),
        ],
        pods=[f.pod("web-1", "shop", node_name="worker-1")],
    )


# -- NODE-004 node conditions ----------------------------------------------------------------------


@fixture("NODE-004", "pass")
def conditions_pass():
    return f.make_inventory(nodes=[f.node("n1"), f.node("n2")])


@fixture("NODE-004", "fail")
def conditions_fail():
    return f.make_inventory(
        nodes=[
            f.node("n1"),
            f.node("n2", conditions={"MemoryPressure": "True"}),
            f.node("n3", ready=False),
        ]
    )


# -- NODE-005 operating system support -------------------------------------------------------------


@fixture("NODE-005", "pass")
def os_pass():
    return f.make_inventory(
        nodes=[
            f.node("n1", os_image="Ubuntu 24.04.1 LTS"),
            f.node("n2", os_image="Bottlerocket OS 1.19.2 (aws-k8s-1.29)"),
            f.node("n3", os_image="Amazon Linux 2023.6.20241010"),
        ]
    )


@fixture("NODE-005", "fail")
def os_fail():
    return f.make_inventory(
        nodes=[
            f.node("n1", os_image="Container Linux by CoreOS 2345.3.0 (Rhyolite)"),
            f.node("n2", os_image="CentOS Linux 7 (Core)"),
            f.node("n3", os_image="Ubuntu 24.04.1 LTS"),
        ]
    )


# -- NODE-006 control-plane isolation --------------------------------------------------------------


@fixture("NODE-006", "pass")
def isolation_pass():
    return f.make_inventory(
        nodes=[f.node("cp-1", control_plane=True), f.node("worker-1")],
        pods=[static_apiserver("cp-1"), f.pod("web-1", "shop", node_name="worker-1")],
    )


@fixture("NODE-006", "fail")
def isolation_fail():
    return f.make_inventory(
        nodes=[f.node("cp-1", control_plane=True, taints=[]), f.node("worker-1")],
        pods=[static_apiserver("cp-1"), f.pod("web-1", "shop", node_name="cp-1")],
    )
