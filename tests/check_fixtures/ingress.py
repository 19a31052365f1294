"""Fixtures for the ingress area.

`healthy()` is a cluster whose ingress layer passes every check: a current ingress-nginx spread
over three nodes with a budget, snippets off, one default IngressClass and a TLS Ingress. Each
fail fixture breaks one thing in it.
"""

from __future__ import annotations

from typing import Any

from k8saudit.inventory import Inventory
from tests import factories as f
from tests.check_fixtures import fixture

NODES = ["n1", "n2", "n3"]
NGINX_NS = "ingress-nginx"
NGINX_LABELS = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
NGINX_IMAGE = "registry.k8s.io/ingress-nginx/controller:{version}@sha256:" + "0" * 64
CURRENT = "v1.15.1"
GKE_VERSION = "v1.30.5-gke.1014001"

Objects = dict[str, list[dict[str, Any]]]


def spread_template(labels: dict[str, str]) -> dict[str, Any]:
    return {
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": labels},
            }
        ]
    }


def nginx_controller(
    version: str = CURRENT,
    *,
    nodes: list[str] | None = None,
    spread: bool = True,
    configmap: str | None = "ingress-nginx-controller",
    name: str = "ingress-nginx-controller",
) -> Objects:
    """An ingress-nginx controller Deployment as the Helm chart installs it, with its pods."""
    nodes = NODES if nodes is None else nodes
    args = [
        "/nginx-ingress-controller",
        "--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller",
        "--election-id=ingress-nginx-leader",
        "--controller-class=k8s.io/ingress-nginx",
        "--ingress-class=nginx",
        "--validating-webhook=:8443",
    ]
    if configmap:
        args.append(f"--configmap=$(POD_NAMESPACE)/{configmap}")
    deployment = f.deployment(
        name,
        NGINX_NS,
        replicas=len(nodes),
        labels=NGINX_LABELS,
        containers=[
            f.container("controller", NGINX_IMAGE.format(version=version), args=args, ports=[80, 443])
        ],
        template_spec=spread_template(NGINX_LABELS) if spread else None,
    )
    rs, pods = f.with_pods(deployment, nodes)
    return {"deployments": [deployment], "replicasets": [rs], "pods": pods}


def nginx_daemonset(desired: int = 3) -> Objects:
    """ingress-nginx run as a DaemonSet (the chart's `controller.kind=DaemonSet`)."""
    daemonset = f.daemonset(
        "ingress-nginx-controller",
        NGINX_NS,
        labels=NGINX_LABELS,
        containers=[f.container("controller", NGINX_IMAGE.format(version=CURRENT))],
        desired=desired,
    )
    return {"deployments": [], "daemonsets": [daemonset]}


def traefik_controller() -> Objects:
    labels = {"app.kubernetes.io/name": "traefik"}
    deployment = f.deployment(
        "traefik",
        "traefik",
        replicas=3,
        labels=labels,
        containers=[f.container("traefik", "docker.io/traefik:v3.3.4", ports=[8000, 8443])],
        template_spec=spread_template(labels),
    )
    rs, pods = f.with_pods(deployment, NODES)
    return {"deployments": [deployment], "replicasets": [rs], "pods": pods}


def whoami_app() -> Objects:
    """Traefik's demo backend, the stock app of Traefik and k3s tutorials: an app, not a controller."""
    deployment = f.deployment(
        "whoami",
        "demo",
        replicas=1,
        labels={"app": "whoami"},
        containers=[f.container("whoami", "traefik/whoami:v1.10.1", ports=[80])],
    )
    return {"deployments": [deployment]}


def gke_inventory(ingresses: list[dict[str, Any]], classes: list[dict[str, Any]] | None = None) -> Inventory:
    """A GKE cluster (told by its server version) with no ingress controller workload: GKE Ingress
    runs outside the cluster and has no IngressClass."""
    return f.make_inventory(
        version=GKE_VERSION,
        ingresses=ingresses,
        ingressclasses=classes or [],
        deployments=[],
        daemonsets=[],
    )


def healthy(controller: Objects | None = None) -> Objects:
    objects: Objects = {
        "nodes": [f.node(n) for n in NODES],
        "ingressclasses": [f.ingressclass("nginx", default=True)],
        "ingresses": [f.ingress("web", "shop")],
        "configmaps": [
            f.configmap("ingress-nginx-controller", NGINX_NS, {"allow-snippet-annotations": "false"})
        ],
        "poddisruptionbudgets": [
            f.pdb("ingress-nginx-controller", NGINX_NS, NGINX_LABELS, min_available=None, max_unavailable=1)
        ],
        "daemonsets": [],
    }
    objects.update(controller if controller is not None else nginx_controller())
    return objects


def inventory(objects: Objects) -> Inventory:
    return f.make_inventory(**objects)


@fixture("ING-001", "pass")
def classes_pass():
    return inventory(healthy())


@fixture("ING-001", "fail")
def classes_fail():
    return inventory({**healthy(), "ingressclasses": []})


@fixture("ING-002", "pass")
def default_pass():
    return inventory(healthy())


@fixture("ING-002", "fail")
def default_fail():
    classes = [
        f.ingressclass("nginx", default=True),
        f.ingressclass("alb", "ingress.k8s.aws/alb", default=True),
    ]
    return inventory({**healthy(), "ingressclasses": classes})


@fixture("ING-003", "pass")
def ingress_class_pass():
    return inventory(healthy())


@fixture("ING-003", "fail")
def ingress_class_fail():
    ingresses = [
        f.ingress("legacy", "shop", class_name=None, annotations={"kubernetes.io/ingress.class": "nginx"}),
        f.ingress("typo", "shop", class_name="nginx-public"),
    ]
    return inventory({**healthy(), "ingresses": ingresses})


@fixture("ING-004", "pass")
def cves_pass():
    return inventory(healthy())


@fixture("ING-004", "fail")
def cves_fail():
    return inventory(healthy(nginx_controller("v1.9.4")))


@fixture("ING-005", "pass")
def retired_pass():
    objects = healthy(traefik_controller())
    objects["ingressclasses"] = [f.ingressclass("traefik", "traefik.io/ingress-controller", default=True)]
    objects["ingresses"] = [f.ingress("web", "shop", class_name="traefik")]
    return inventory(objects)


@fixture("ING-005", "fail")
def retired_fail():
    return inventory(healthy())


@fixture("ING-006", "pass")
def snippets_pass():
    return inventory(healthy())


@fixture("ING-006", "fail")
def snippets_fail():
    # v1.8.0 with a ConfigMap that never mentions the key: snippets default to on before v1.9.0.
    objects = healthy(nginx_controller("v1.8.0"))
    objects["configmaps"] = [
        f.configmap("ingress-nginx-controller", NGINX_NS, {"use-forwarded-headers": "true"})
    ]
    return inventory(objects)


@fixture("ING-007", "pass")
def replicas_pass():
    return inventory(healthy())


@fixture("ING-007", "fail")
def replicas_fail():
    return inventory(healthy(nginx_controller(nodes=["n1"])))


@fixture("ING-008", "pass")
def pdb_pass():
    return inventory(healthy())


@fixture("ING-008", "fail")
def pdb_fail():
    return inventory({**healthy(), "poddisruptionbudgets": []})


@fixture("ING-009", "pass")
def spread_pass():
    return inventory(healthy())


@fixture("ING-009", "fail")
def spread_fail():
    return inventory(healthy(nginx_controller(nodes=["n1", "n1"], spread=False)))


@fixture("ING-010", "pass")
def tls_pass():
    return inventory(healthy())


@fixture("ING-010", "fail")
def tls_fail():
    return inventory({**healthy(), "ingresses": [f.ingress("web", "shop", tls=False)]})


def shared_gateway(*listeners: dict[str, Any], address: str = "18.197.44.120", **spec: Any) -> dict[str, Any]:
    """The platform team's Gateway in `gateways`, with a public address unless told otherwise."""
    return f.custom_resource(
        "Gateway",
        "shared",
        "gateways",
        spec={"gatewayClassName": "eg", "listeners": list(listeners), **spec},
        status={"addresses": [{"type": "IPAddress", "value": address}]},
    )


def listener(name: str = "https", *, admits: str = "Same", hostname: str | None = None) -> dict[str, Any]:
    found = {
        "name": name,
        "protocol": "HTTPS",
        "port": 443,
        "allowedRoutes": {"namespaces": {"from": admits}},
    }
    return {**found, "hostname": hostname} if hostname else found


@fixture("ING-011", "pass")
def gateway_admission_pass():
    return inventory({"gateway__gateways": [shared_gateway(listener(admits="Selector"), listener("own"))]})


@fixture("ING-011", "fail")
def gateway_admission_fail():
    return inventory(
        {"gateway__gateways": [shared_gateway(listener(admits="All", hostname="*.shop.example.com"))]}
    )
