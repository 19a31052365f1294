"""Resilience in the demo, one incident at a time:

- CI cleans up build pods every minute with a CronJob that allows overlapping runs and has no
  deadlines (Zalando's API-server-killing CronJob);
- an image-policy webhook fails closed, its only replica is not ready, and it does not spare
  kube-system or its own namespace (Zalando's image-policy outage);
- the shop's Redis StatefulSet has three replicas, all on one node, without readiness probes
  (Moonlight's stacked replicas, Flant's Redis failover);
- the checkout PDB demands both replicas (drains hang), only the payments namespace caps its
  pod count (and the nodes demo's single metrics-server has no PDB);
- Prometheus runs, but nothing alerts.

The exposure demo's node agents complete the picture: its AWS VPC CNI runs on private subnets
without external SNAT (MindTickle), and its Fluent Bit does not tolerate the control-plane taint,
so control-plane logs are never shipped.
"""

from __future__ import annotations

from tests import factories as f
from tests.demo import DemoCluster
from tests.demo.base import WORKER


def contribute(demo: DemoCluster) -> None:
    _ci_cronjob(demo)
    _image_policy_webhook(demo)
    _redis(demo)
    _budgets_and_quotas(demo)
    _monitoring(demo)


def _ci_cronjob(demo: DemoCluster) -> None:
    demo.add(
        "cronjobs",
        f.cronjob(
            "cleanup-build-pods",
            "ci",
            schedule="*/1 * * * *",
            concurrency_policy="Allow",
            starting_deadline=None,
            active_deadline=None,
            last_successful="2026-11-20T07:59:00Z",
            containers=[
                f.container(
                    "kubectl",
                    "bitnami/kubectl:1.27.9",
                    command=[
                        "/bin/sh",
                        "-c",
                        "kubectl delete pods -l ci=build --field-selector=status.phase!=Running",
                    ],
                )
            ],
        ),
    )


def _image_policy_webhook(demo: DemoCluster) -> None:
    demo.add("namespaces", f.namespace("image-policy"))
    backend = f.deployment(
        "image-policy-webhook",
        "image-policy",
        replicas=1,
        ready=0,
        containers=[f.container("webhook", "registry.example.com/platform/image-policy:2.3.1", ports=[8443])],
    )
    rs = f.replicaset(
        "image-policy-webhook-6c9f7d8b5",
        "image-policy",
        owner=backend,
        replicas=1,
        labels={"app": "image-policy-webhook"},
    )
    demo.add("deployments", backend)
    demo.add("replicasets", rs)
    demo.add(
        "pods",
        f.pod(
            "image-policy-webhook-6c9f7d8b5-x2x7q",
            "image-policy",
            node_name=WORKER,
            labels={"app": "image-policy-webhook"},
            owner=rs,
            ready=False,
            containers=backend["spec"]["template"]["spec"]["containers"],
        ),
    )
    demo.add("services", f.service("image-policy-webhook", "image-policy", ports=[443]))
    demo.add("endpoints", f.endpoints("image-policy-webhook", "image-policy", not_ready_ips=["100.96.3.17"]))
    demo.add(
        "validatingwebhookconfigurations",
        f.webhook_configuration(
            "image-policy", service=("image-policy", "image-policy-webhook"), failure_policy="Fail"
        ),
    )


def _redis(demo: DemoCluster) -> None:
    redis = f.container(
        "redis", "redis:7.2.4", ports=[6379], readiness=False, cpu_limit=None, memory_limit="2Gi"
    )
    sentinel = f.container("sentinel", "redis:7.2.4", ports=[26379], readiness=False, cpu_limit=None)
    sts = f.statefulset("redis", "shop", replicas=3, containers=[redis, sentinel])
    demo.add("statefulsets", sts)
    demo.add("services", f.service("redis", "shop", ports=[6379, 26379]))
    for i in range(3):
        demo.add(
            "pods",
            f.pod(
                f"redis-{i}",
                "shop",
                node_name=WORKER,
                labels={"app": "redis"},
                owner=sts,
                owner_kind="StatefulSet",
                containers=[redis, sentinel],
            ),
        )


def _budgets_and_quotas(demo: DemoCluster) -> None:
    demo.add(
        "poddisruptionbudgets",
        f.pdb("checkout", "shop", {"app": "checkout"}, min_available=2),
        f.pdb("web", "shop", {"app": "web"}, min_available=None, max_unavailable=1),
    )
    demo.add("resourcequotas", f.resourcequota("pod-count", "payments", {"pods": "200"}))


def _monitoring(demo: DemoCluster) -> None:
    prometheus = f.statefulset(
        "prometheus-k8s",
        "monitoring",
        replicas=2,
        labels={"app.kubernetes.io/name": "prometheus"},
        containers=[f.container("prometheus", "quay.io/prometheus/prometheus:v2.48.1", ports=[9090])],
        template_spec={
            "affinity": {
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                        }
                    ]
                }
            },
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "prometheus-data"}}],
        },
    )
    demo.add("statefulsets", prometheus)
    demo.add(
        "services",
        f.service(
            "prometheus-k8s", "monitoring", selector={"app.kubernetes.io/name": "prometheus"}, ports=[9090]
        ),
    )
