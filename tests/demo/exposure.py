"""Exposure in the demo, as in the incidents: Weave Scope installed for a debugging session and
left on a public load balancer (JW Player), the Kubernetes Dashboard with the Skip button and a
cluster-admin service account behind an Ingress (Tesla), a data scientist's Jupyter notebook
with its token switched off on a NodePort, Prometheus published through a shared Gateway, and
the node agents every cluster has."""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.demo import DemoCluster
from tests.demo.base import WORKER


def target(service: dict[str, Any], port: int) -> dict[str, Any]:
    """Point the Service's single port at container port `port`."""
    service["spec"]["ports"][0]["targetPort"] = port
    return service


def deploy(
    demo: DemoCluster,
    name: str,
    namespace: str,
    containers: list[dict[str, Any]],
    *,
    replicas: int = 1,
    **template_spec: Any,
) -> None:
    """A Deployment with its ReplicaSet and running pods, the way the API lists them."""
    deployment = f.deployment(
        name, namespace, replicas=replicas, containers=containers, template_spec=template_spec
    )
    rs = f.replicaset(
        f"{name}-6b8f9c7d5",
        namespace,
        owner=deployment,
        replicas=replicas,
        labels={"app": name},
        containers=containers,
    )
    demo.add("deployments", deployment)
    demo.add("replicasets", rs)
    for i in range(replicas):
        demo.add(
            "pods",
            f.pod(
                f"{name}-6b8f9c7d5-{i:05d}",
                namespace,
                node_name=WORKER,
                labels={"app": name},
                owner=rs,
                containers=containers,
                spec=template_spec,
            ),
        )


def contribute(demo: DemoCluster) -> None:
    weave_scope_demo(demo)
    dashboard_demo(demo)
    jupyter_demo(demo)
    monitoring_demo(demo)
    node_agents_demo(demo)


def weave_scope_demo(demo: DemoCluster) -> None:
    demo.add("namespaces", f.namespace("weave"))
    demo.add("serviceaccounts", f.serviceaccount("weave-scope", "weave"))
    app = f.container("app", "weaveworks/scope:1.13.2", ports=[4040], args=["--no-probe"])
    deploy(demo, "weave-scope-app", "weave", [app], serviceAccountName="weave-scope")
    lb = f.service(
        "weave-scope-app",
        "weave",
        type="LoadBalancer",
        ports=[80],
        ingress_hostname="a3f9c0de7e1b4.eu-central-1.elb.amazonaws.com",
    )
    demo.add("services", target(lb, 4040))
    agent = f.container(
        "scope-agent",
        "weaveworks/scope:1.13.2",
        args=["--probe.docker=true", "--probe.kubernetes.role=host"],
        security_context={"privileged": True},
        volumeMounts=[
            {"name": "docker-socket", "mountPath": "/var/run/docker.sock"},
            {"name": "sys-kernel-debug", "mountPath": "/sys/kernel/debug"},
        ],
    )
    demo.add(
        "daemonsets",
        f.daemonset(
            "weave-scope-agent",
            "weave",
            containers=[agent],
            desired=6,
            template_spec={
                "hostPID": True,
                "hostNetwork": True,
                "serviceAccountName": "weave-scope",
                "volumes": [
                    {"name": "docker-socket", "hostPath": {"path": "/var/run/docker.sock"}},
                    {"name": "sys-kernel-debug", "hostPath": {"path": "/sys/kernel/debug"}},
                ],
            },
        ),
    )
    demo.add(
        "clusterroles",
        f.clusterrole(
            "weave-scope",
            [
                f.rule(["get", "list", "watch"], ["pods", "pods/log", "services", "nodes"]),
                f.rule(["update"], ["deployments/scale"], ["apps"]),
            ],
        ),
    )
    demo.add(
        "clusterrolebindings",
        f.clusterrolebinding(
            "weave-scope", "weave-scope", [f.subject("ServiceAccount", "weave-scope", "weave")]
        ),
    )


def dashboard_demo(demo: DemoCluster) -> None:
    namespace = "kubernetes-dashboard"
    demo.add("namespaces", f.namespace(namespace))
    demo.add("serviceaccounts", f.serviceaccount("kubernetes-dashboard", namespace))
    dashboard = f.container(
        "kubernetes-dashboard",
        "kubernetesui/dashboard:v2.0.0",
        ports=[9090],
        args=[
            "--namespace=kubernetes-dashboard",
            "--enable-skip-login",
            "--enable-insecure-login",
            "--insecure-port=9090",
        ],
    )
    deploy(demo, "kubernetes-dashboard", namespace, [dashboard], serviceAccountName="kubernetes-dashboard")
    demo.add("services", target(f.service("kubernetes-dashboard", namespace, ports=[80]), 9090))
    demo.add(
        "ingresses",
        f.ingress(
            "kubernetes-dashboard",
            namespace,
            hosts=["k8s.shop.example.com"],
            backend_service="kubernetes-dashboard",
        ),
    )
    # "Temporarily", to make the Dashboard show everything during the migration.
    demo.add(
        "clusterrolebindings",
        f.clusterrolebinding(
            "kubernetes-dashboard",
            "cluster-admin",
            [f.subject("ServiceAccount", "kubernetes-dashboard", namespace)],
        ),
    )


def jupyter_demo(demo: DemoCluster) -> None:
    demo.add("namespaces", f.namespace("data"))
    demo.add("serviceaccounts", f.serviceaccount("default", "data"))
    notebook = f.container(
        "notebook",
        "quay.io/jupyter/scipy-notebook:2024-04-22",
        ports=[8888],
        args=["start-notebook.py", "--NotebookApp.token=", "--NotebookApp.ip=0.0.0.0"],
        memory_limit="8Gi",
    )
    deploy(demo, "churn-notebook", "data", [notebook])
    demo.add(
        "services", f.service("churn-notebook", "data", type="NodePort", ports=[8888], node_ports=[30888])
    )


def monitoring_demo(demo: DemoCluster) -> None:
    """Grafana on an internal load balancer with its login on (the ingress demo also publishes it
    through an Ingress, which EXP-001 warns about), Prometheus on ClusterIP only."""
    demo.add("serviceaccounts", f.serviceaccount("grafana", "monitoring", automount=False))
    grafana = f.container(
        "grafana",
        "grafana/grafana:10.4.2",
        ports=[3000],
        security_context={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    )
    deploy(
        demo,
        "grafana",
        "monitoring",
        [grafana],
        serviceAccountName="grafana",
        securityContext={"runAsNonRoot": True, "runAsUser": 472, "fsGroup": 472},
    )
    internal_lb = f.service(
        "grafana",
        "monitoring",
        type="LoadBalancer",
        ports=[80],
        annotations={"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
        ingress_hostname="internal-grafana-1234.eu-central-1.elb.amazonaws.com",
    )
    demo.add("services", target(internal_lb, 3000))
    prometheus = f.container(
        "prometheus",
        "quay.io/prometheus/prometheus:v2.51.2",
        ports=[9090],
        args=["--config.file=/etc/prometheus/prometheus.yml"],
    )
    deploy(
        demo,
        "prometheus",
        "monitoring",
        [prometheus],
        securityContext={"runAsNonRoot": True, "runAsUser": 65534},
    )
    demo.add("services", f.service("prometheus", "monitoring", ports=[9090]))
    prometheus_route_demo(demo)


def prometheus_route_demo(demo: DemoCluster) -> None:
    """The platform team's shared Envoy Gateway, and a route someone added to it so the on-call
    phone can see Prometheus: the Service stays ClusterIP, the route makes it public."""
    demo.add("namespaces", f.namespace("gateways"))
    listeners = [
        {"name": "https", "protocol": "HTTPS", "port": 443, "allowedRoutes": {"namespaces": {"from": "All"}}}
    ]
    demo.add(
        "gateway.gateways",
        f.custom_resource(
            "Gateway",
            "shared",
            "gateways",
            spec={"gatewayClassName": "eg", "listeners": listeners},
            status={"addresses": [{"type": "IPAddress", "value": "18.197.44.120"}]},
        ),
    )
    route = {
        "parentRefs": [{"name": "shared", "namespace": "gateways"}],
        "hostnames": ["prometheus.shop.example.com"],
        "rules": [{"backendRefs": [{"name": "prometheus", "port": 9090}]}],
    }
    demo.add("gateway.httproutes", f.custom_resource("HTTPRoute", "prometheus", "monitoring", spec=route))


def node_agents_demo(demo: DemoCluster) -> None:
    """What every kops-on-AWS cluster runs on each node, with the host access it needs."""
    proxy = f.container(
        "kube-proxy",
        "registry.k8s.io/kube-proxy:v1.27.9",
        security_context={"privileged": True},
        volumeMounts=[
            {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
            {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
        ],
    )
    cni = f.container(
        "aws-node",
        "602401143452.dkr.ecr.eu-central-1.amazonaws.com/amazon-k8s-cni:v1.16.4",
        security_context={"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
        volumeMounts=[{"name": "cni-bin", "mountPath": "/host/opt/cni/bin"}],
    )
    csi = f.container(
        "ebs-plugin",
        "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.29.1",
        security_context={"privileged": True},
        volumeMounts=[
            {"name": "kubelet-dir", "mountPath": "/var/lib/kubelet", "mountPropagation": "Bidirectional"}
        ],
    )
    shipper = f.container(
        "fluent-bit",
        "cr.fluentbit.io/fluent/fluent-bit:3.0.3",
        volumeMounts=[{"name": "varlog", "mountPath": "/var/log", "readOnly": True}],
    )
    for name, container, spec in (
        (
            "kube-proxy",
            proxy,
            {
                "hostNetwork": True,
                "volumes": [
                    {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}},
                    {
                        "name": "xtables-lock",
                        "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
                    },
                ],
            },
        ),
        (
            "aws-node",
            cni,
            {"hostNetwork": True, "volumes": [{"name": "cni-bin", "hostPath": {"path": "/opt/cni/bin"}}]},
        ),
        (
            "ebs-csi-node",
            csi,
            {
                "volumes": [
                    {"name": "kubelet-dir", "hostPath": {"path": "/var/lib/kubelet", "type": "Directory"}}
                ]
            },
        ),
        ("fluent-bit", shipper, {"volumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}}]}),
    ):
        demo.add(
            "daemonsets",
            f.daemonset(name, "kube-system", containers=[container], desired=9, template_spec=spec),
        )
