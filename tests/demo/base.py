"""The demo cluster's skeleton: kops on AWS, 3 control-plane and 8 worker nodes, namespaces,
the shop's own workloads, and what every cluster has (bootstrap RBAC, system priority classes)."""

from __future__ import annotations

from tests import factories as f
from tests.demo import DemoCluster

ZONES = ("eu-central-1a", "eu-central-1b", "eu-central-1c")
# What a v1.27 API server serves: batch/v1beta1, policy/v1beta1 (1.25), autoscaling/v2beta2 (1.26)
# and storage.k8s.io/v1beta1 (1.27) are already removed upstream.
SERVED = (
    "v1",
    "apps/v1",
    "batch/v1",
    "networking.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
    "admissionregistration.k8s.io/v1",
    "apiextensions.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "discovery.k8s.io/v1",
    "events.k8s.io/v1",
    "coordination.k8s.io/v1",
    "node.k8s.io/v1",
    "certificates.k8s.io/v1",
    "authentication.k8s.io/v1",
    "authorization.k8s.io/v1",
    "apiregistration.k8s.io/v1",
)


def control_plane_nodes() -> list[dict]:
    return [
        f.node(
            f"ip-10-0-{i}-10.eu-central-1.compute.internal",
            kubelet="v1.27.9",
            instance_type="t3.medium",
            control_plane=True,
            labels={
                "kops.k8s.io/instancegroup": f"control-plane-{zone}",
                "topology.kubernetes.io/zone": zone,
            },
            provider_id=f"aws:///{zone}/i-0c0ffee0000000{i}",
        )
        for i, zone in enumerate(ZONES, start=1)
    ]


def worker_nodes() -> list[dict]:
    nodes = []
    for i in range(6):
        zone = ZONES[i % 3]
        nodes.append(
            f.node(
                f"ip-10-0-{10 + i}-21.eu-central-1.compute.internal",
                kubelet="v1.27.9",
                instance_type="m5.xlarge",
                labels={"kops.k8s.io/instancegroup": "nodes", "topology.kubernetes.io/zone": zone},
                provider_id=f"aws:///{zone}/i-0a11ce000000{i:02d}",
                kernel="5.15.0-1051-aws",
                os_image="Ubuntu 22.04.3 LTS",
            )
        )
    return nodes


WORKER = "ip-10-0-10-21.eu-central-1.compute.internal"


def contribute(demo: DemoCluster) -> None:
    demo.served_api_versions.update(SERVED)
    demo.add("nodes", *control_plane_nodes(), *worker_nodes())
    for name in (
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "shop",
        "payments",
        "ci",
        "monitoring",
    ):
        demo.add("namespaces", f.namespace(name))
    for name, value in (("system-cluster-critical", 2000000000), ("system-node-critical", 2000001000)):
        demo.add("priorityclasses", f.priorityclass(name, value))
    for key, objects in f.bootstrap_rbac().items():
        demo.add(key, *objects)
    for i in range(1, len(ZONES) + 1):
        node_name = f"ip-10-0-{i}-10.eu-central-1.compute.internal"
        for component, image in (
            ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.27.9"),
            ("kube-controller-manager", "registry.k8s.io/kube-controller-manager:v1.27.9"),
            ("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.27.9"),
        ):
            demo.add(
                "pods",
                f.pod(
                    f"{component}-{node_name}",
                    "kube-system",
                    node_name=node_name,
                    labels={"k8s-app": component},
                    containers=[f.container(component, image, readiness=False, liveness=True)],
                    spec={"hostNetwork": True, "priorityClassName": "system-node-critical"},
                ),
            )
    # The shop's own services: a web front end and a checkout API.
    for name, replicas in (("web", 3), ("checkout", 2)):
        deployment = f.deployment(
            name,
            "shop",
            replicas=replicas,
            containers=[
                f.container(name, f"registry.example.com/shop/{name}:4.2.0", ports=[8080], cpu_limit="500m")
            ],
        )
        rs = f.replicaset(
            f"{name}-7d9c5b6f4", "shop", owner=deployment, replicas=replicas, labels={"app": name}
        )
        demo.add("deployments", deployment)
        demo.add("replicasets", rs)
        demo.add("services", f.service(name, "shop", ports=[8080]))
        for i in range(replicas):
            demo.add(
                "pods",
                f.pod(
                    f"{name}-7d9c5b6f4-{i:05d}",
                    "shop",
                    node_name=WORKER,
                    labels={"app": name},
                    owner=rs,
                    containers=deployment["spec"]["template"]["spec"]["containers"],
                ),
            )
        demo.add("serviceaccounts", f.serviceaccount("default", "shop"))
    for ns in ("default", "kube-system", "ci", "payments", "monitoring"):
        demo.add("serviceaccounts", f.serviceaccount("default", ns))
