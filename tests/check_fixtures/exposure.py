"""Fixtures for the exposure area."""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.check_fixtures import fixture

HARDENED = {"runAsNonRoot": True, "runAsUser": 10001}
NO_ESCALATION = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def hardened(name: str, image: str, ports: list[int] | None = None, **extra: Any) -> dict[str, Any]:
    """A container that passes every pod-security check."""
    return f.container(name, image, ports=ports or [8080], security_context=dict(NO_ESCALATION), **extra)


def workload(name: str, namespace: str, *containers: dict[str, Any], **template_spec: Any) -> dict[str, Any]:
    spec = {"securityContext": dict(HARDENED), **template_spec}
    return f.deployment(name, namespace, containers=list(containers), template_spec=spec)


def web_app(namespace: str = "shop") -> dict[str, Any]:
    return workload("web", namespace, hardened("web", "registry.example.com/shop/web:4.2.0"))


def kube_proxy() -> dict[str, Any]:
    proxy = f.container(
        "kube-proxy",
        "registry.k8s.io/kube-proxy:v1.29.3",
        security_context={"privileged": True},
        volumeMounts=[{"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True}],
    )
    return f.daemonset(
        "kube-proxy",
        "kube-system",
        containers=[proxy],
        template_spec={
            "hostNetwork": True,
            "volumes": [{"name": "lib-modules", "hostPath": {"path": "/lib/modules"}}],
        },
    )


# -- EXP-001: admin interfaces ------------------------------------------------------------------


@fixture("EXP-001", "pass")
def admin_pass():
    grafana = workload("grafana", "monitoring", hardened("grafana", "grafana/grafana:10.4.2", ports=[3000]))
    return f.make_inventory(
        deployments=[web_app(), grafana],
        services=[
            f.service("web", "shop", type="LoadBalancer", ports=[443]),
            f.service(
                "grafana",
                "monitoring",
                type="LoadBalancer",
                ports=[3000],
                annotations={"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
            ),
        ],
        ingresses=[f.ingress("web", "shop", backend_service="web")],
    )


@fixture("EXP-001", "fail")
def admin_fail():
    scope = workload("weave-scope-app", "weave", hardened("app", "weaveworks/scope:1.13.2", ports=[4040]))
    return f.make_inventory(
        deployments=[scope],
        services=[f.service("weave-scope-app", "weave", type="LoadBalancer", ports=[80])],
    )


# -- EXP-002: public load balancers -------------------------------------------------------------


@fixture("EXP-002", "pass")
def lb_pass():
    controller = workload(
        "ingress-nginx-controller",
        "ingress-nginx",
        hardened("controller", "registry.k8s.io/ingress-nginx/controller:v1.10.1", ports=[80, 443]),
    )
    return f.make_inventory(
        deployments=[controller, web_app()],
        services=[
            f.service("ingress-nginx-controller", "ingress-nginx", type="LoadBalancer", ports=[80, 443]),
            f.service("web", "shop", type="LoadBalancer", ports=[443], source_ranges=["203.0.113.0/24"]),
        ],
    )


@fixture("EXP-002", "fail")
def lb_fail():
    db = workload("postgres", "payments", hardened("postgres", "postgres:16.2", ports=[5432]))
    return f.make_inventory(
        deployments=[db], services=[f.service("postgres", "payments", type="LoadBalancer", ports=[5432])]
    )


# -- EXP-003: Dashboard flags -------------------------------------------------------------------


def dashboard(*args: str) -> dict[str, Any]:
    container = hardened(
        "kubernetes-dashboard",
        "kubernetesui/dashboard:v2.7.0",
        ports=[8443],
        args=["--auto-generate-certificates", "--namespace=kubernetes-dashboard", *args],
    )
    return workload(
        "kubernetes-dashboard", "kubernetes-dashboard", container, serviceAccountName="kubernetes-dashboard"
    )


@fixture("EXP-003", "pass")
def dashboard_pass():
    return f.make_inventory(deployments=[dashboard()])


@fixture("EXP-003", "fail")
def dashboard_fail():
    return f.make_inventory(deployments=[dashboard("--enable-skip-login")])


# -- EXP-004 … EXP-007: pod security ---------------------------------------------------------------


@fixture("EXP-004", "pass")
def privileged_pass():
    return f.make_inventory(deployments=[web_app()], daemonsets=[kube_proxy()])


@fixture("EXP-004", "fail")
def privileged_fail():
    miner_magnet = workload(
        "build-runner",
        "ci",
        f.container("runner", "gitlab/gitlab-runner:v16.10.0", security_context={"privileged": True}),
    )
    return f.make_inventory(deployments=[miner_magnet, web_app()])


@fixture("EXP-005", "pass")
def host_ns_pass():
    return f.make_inventory(deployments=[web_app()], daemonsets=[kube_proxy()])


@fixture("EXP-005", "fail")
def host_ns_fail():
    debug = workload("node-debugger", "default", hardened("shell", "busybox:1.36"), hostPID=True)
    return f.make_inventory(deployments=[debug])


@fixture("EXP-006", "pass")
def host_path_pass():
    shipper = workload(
        "log-tailer",
        "logging",
        hardened(
            "tail",
            "registry.example.com/tail:1.0",
            volumeMounts=[{"name": "logs", "mountPath": "/logs", "readOnly": True}],
        ),
        volumes=[{"name": "logs", "hostPath": {"path": "/var/log/app"}}],
    )
    return f.make_inventory(deployments=[shipper, web_app()])


@fixture("EXP-006", "fail")
def host_path_fail():
    builder = workload(
        "image-builder",
        "ci",
        hardened(
            "docker", "docker:24-cli", volumeMounts=[{"name": "sock", "mountPath": "/var/run/docker.sock"}]
        ),
        volumes=[{"name": "sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}}],
    )
    return f.make_inventory(deployments=[builder])


@fixture("EXP-007", "pass")
def root_pass():
    return f.make_inventory(deployments=[web_app()])


@fixture("EXP-007", "fail")
def root_fail():
    legacy = f.deployment(
        "legacy", "shop", containers=[f.container("legacy", "registry.example.com/legacy:1")]
    )
    return f.make_inventory(deployments=[legacy, web_app()])


# -- EXP-008: tokens in exposed workloads ------------------------------------------------------------


@fixture("EXP-008", "pass")
def token_pass():
    return f.make_inventory(
        deployments=[
            workload(
                "web",
                "shop",
                hardened("web", "registry.example.com/web:1"),
                automountServiceAccountToken=False,
            )
        ],
        services=[f.service("web", "shop", type="LoadBalancer", ports=[443])],
        serviceaccounts=[f.serviceaccount("default", "shop")],
    )


@fixture("EXP-008", "fail")
def token_fail():
    app = workload("web", "shop", hardened("web", "registry.example.com/web:1"), serviceAccountName="web")
    return f.make_inventory(
        deployments=[app],
        services=[f.service("web", "shop", type="NodePort", ports=[443])],
        serviceaccounts=[f.serviceaccount("web", "shop")],
        clusterroles=[f.clusterrole("view", [f.rule(["get", "list"], ["pods", "configmaps"])])],
        clusterrolebindings=[],
        rolebindings=[
            f.rolebinding(
                "web-view",
                "shop",
                "view",
                [f.subject("ServiceAccount", "web", "shop")],
                role_kind="ClusterRole",
            )
        ],
    )


# -- EXP-009: node agents --------------------------------------------------------------------------


@fixture("EXP-009", "pass")
def agents_pass():
    agent = workload(
        "konnectivity-agent", "kube-system", hardened("agent", "registry.k8s.io/konnectivity-agent:v0.29.0")
    )
    return f.make_inventory(deployments=[agent, web_app()])


@fixture("EXP-009", "fail")
def agents_fail():
    return f.make_inventory(daemonsets=[kube_proxy()])


# -- EXP-010: TLS verification towards the API server ----------------------------------------------


@fixture("EXP-010", "pass")
def api_tls_pass():
    return f.make_inventory()


@fixture("EXP-010", "fail")
def api_tls_fail():
    inventory = f.make_inventory()
    inventory.cluster.insecure_skip_tls_verify = True
    return inventory
