"""Versions in the demo: a node pool the upgrades forgot.

The control plane (base) sits on 1.27.9, seven patches behind its branch's final patch and long
past end of life. Two "nodes-legacy" machines still run kubelet 1.25 on Amazon Linux 2 with a 4.14
kernel that predates the CFS throttling fix (Buffer's incident) and an end-of-life containerd; the
CPU-limited search service runs there, one of them has filled its disk, and the search team's
manifests were last applied with API versions 1.25 removed (Zalando's CronJob, one step later).
"""

from __future__ import annotations

from tests import factories as f
from tests.demo import DemoCluster
from tests.demo.base import ZONES

LEGACY_NODES = tuple(f"ip-10-0-40-{11 + i}.eu-central-1.compute.internal" for i in range(2))


def legacy_nodes() -> list[dict]:
    nodes = []
    for i, name in enumerate(LEGACY_NODES):
        zone = ZONES[i % len(ZONES)]
        nodes.append(
            f.node(
                name,
                kubelet="v1.25.16",
                instance_type="t3.large",
                labels={"kops.k8s.io/instancegroup": "nodes-legacy", "topology.kubernetes.io/zone": zone},
                provider_id=f"aws:///{zone}/i-0b1e55ed0000{i:02d}",
                kernel="4.14.146-119.123.amzn2.x86_64",
                os_image="Amazon Linux 2",
                runtime="containerd://1.6.6",
                conditions={"DiskPressure": "True"} if i == 1 else None,
            )
        )
    # The kubelet explains its condition; the message is what `kubectl describe node` shows.
    for condition in nodes[1]["status"]["conditions"]:
        if condition["type"] == "DiskPressure":
            condition.update(reason="KubeletHasDiskPressure", message="kubelet has disk pressure")
    return nodes


def contribute(demo: DemoCluster) -> None:
    demo.add("nodes", *legacy_nodes())

    # The search service: CPU-limited, pinned to the legacy pool by an old nodeSelector.
    containers = [
        f.container(
            "search",
            "registry.example.com/shop/search:2.8.1",
            ports=[9200],
            cpu_request="500m",
            cpu_limit="1",
            memory_request="1Gi",
            memory_limit="2Gi",
        )
    ]
    selector = {"nodeSelector": {"kops.k8s.io/instancegroup": "nodes-legacy"}}
    search = f.deployment("search", "shop", replicas=2, containers=containers, template_spec=selector)
    rs = f.replicaset("search-5f6d7c8b9", "shop", owner=search, replicas=2, labels={"app": "search"})
    demo.add("deployments", search)
    demo.add("replicasets", rs)
    demo.add("services", f.service("search", "shop", ports=[9200]))
    for i, node in enumerate(LEGACY_NODES):
        demo.add(
            "pods",
            f.pod(
                f"search-5f6d7c8b9-{i:05d}",
                "shop",
                node_name=node,
                labels={"app": "search"},
                owner=rs,
                containers=containers,
                spec=selector,
            ),
        )
    budget = f.pdb("search", "shop", {"app": "search"}, min_available=1)
    reindex = f.cronjob(
        "search-reindex",
        "shop",
        schedule="30 2 * * *",
        containers=[f.container("reindex", "registry.example.com/shop/search-tools:2.8.1", cpu_limit="1")],
    )
    demo.add("poddisruptionbudgets", budget)
    demo.add("cronjobs", reindex)
    # Last applied before the 1.25 upgrade and never touched since: the next deploy fails.
    demo.applied("deployments", search, "apps/v1")
    demo.applied("poddisruptionbudgets", budget, "policy/v1beta1")
    demo.applied("cronjobs", reindex, "batch/v1beta1")
