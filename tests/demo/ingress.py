"""Ingress in the demo: one ingress-nginx v1.9.4 controller, installed years ago and never
touched — a single replica on one worker, no budget, snippet annotations switched on for a team
that wanted a custom header — carrying the whole shop. An abandoned ALB migration left a second
IngressClass marked default (and one Ingress pointing at it, served by nobody); the checkout
Ingress still uses the deprecated class annotation and Grafana is served without TLS."""

from __future__ import annotations

from k8saudit.redact import redact
from tests import factories as f
from tests.demo import DemoCluster
from tests.demo.base import WORKER

NAMESPACE = "ingress-nginx"
LABELS = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/instance": "ingress-nginx",
    "app.kubernetes.io/component": "controller",
}
IMAGE = (
    "registry.k8s.io/ingress-nginx/controller:v1.9.4"
    "@sha256:5b161f051d017e55d358435f295f5e9a297e66158f136321d9b04520ec6c48a3"
)


def controller() -> tuple[dict, dict, list[dict]]:
    container = f.container(
        "controller",
        IMAGE,
        args=[
            "/nginx-ingress-controller",
            "--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller",
            "--election-id=ingress-nginx-leader",
            "--controller-class=k8s.io/ingress-nginx",
            "--ingress-class=nginx",
            "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
            "--validating-webhook=:8443",
            "--validating-webhook-certificate=/usr/local/certificates/cert",
            "--validating-webhook-key=/usr/local/certificates/key",
        ],
        ports=[80, 443, 8443],
        cpu_request="100m",
        memory_request="90Mi",
        memory_limit=None,
        liveness=True,
        env=[{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
    )
    deployment = f.deployment(
        "ingress-nginx-controller",
        NAMESPACE,
        replicas=1,
        labels=LABELS,
        containers=[container],
        template_spec={"serviceAccountName": "ingress-nginx", "terminationGracePeriodSeconds": 300},
    )
    deployment["metadata"]["labels"]["app.kubernetes.io/version"] = "1.9.4"
    rs, pods = f.with_pods(deployment, [WORKER], suffix="7f9c6b5d48")
    return deployment, rs, pods


def contribute(demo: DemoCluster) -> None:
    demo.add("namespaces", f.namespace(NAMESPACE))
    demo.add("serviceaccounts", f.serviceaccount("ingress-nginx", NAMESPACE))
    deployment, rs, pods = controller()
    demo.add("deployments", deployment)
    demo.add("replicasets", rs)
    demo.add("pods", *pods)
    config = f.configmap(
        "ingress-nginx-controller",
        NAMESPACE,
        {"allow-snippet-annotations": "true", "use-forwarded-headers": "true", "proxy-body-size": "20m"},
    )
    redact("configmaps", config)  # what a scan keeps: only the keys the checks read
    demo.add("configmaps", config)
    demo.add(
        "services",
        f.service(
            "ingress-nginx-controller",
            NAMESPACE,
            type="LoadBalancer",
            selector=LABELS,
            ports=[80, 443],
            ingress_hostname="a1b2c3d4e5f6-1234567890.eu-central-1.elb.amazonaws.com",
            annotations={"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
        ),
        f.service("ingress-nginx-controller-admission", NAMESPACE, selector=LABELS, ports=[443]),
    )
    demo.add(
        "ingressclasses",
        f.ingressclass("nginx", "k8s.io/ingress-nginx", default=True),
        f.ingressclass("alb", "ingress.k8s.aws/alb", default=True),
    )
    demo.add(
        "ingresses",
        f.ingress("web", "shop", class_name="nginx", hosts=["shop.example.com", "www.shop.example.com"]),
        f.ingress(
            "checkout",
            "shop",
            class_name=None,
            annotations={"kubernetes.io/ingress.class": "nginx"},
            hosts=["checkout.shop.example.com"],
            backend_service="checkout",
        ),
        f.ingress(
            "grafana",
            "monitoring",
            class_name="nginx",
            hosts=["grafana.shop.example.com"],
            tls=False,
            backend_service="grafana",
        ),
        f.ingress(
            "payments-api",
            "payments",
            class_name="alb",
            hosts=["api.payments.shop.example.com"],
            backend_service="payments-api",
            annotations={"alb.ingress.kubernetes.io/scheme": "internet-facing"},
        ),
    )
