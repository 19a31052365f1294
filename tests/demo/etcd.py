"""etcd in the demo: kops' etcd-manager runs on the three control-plane nodes (backing up to the
state store), and Velero was added for object-level restores, but its daily Schedule was paused
during a storage migration nine days ago and never resumed."""

from __future__ import annotations

from tests import factories as f
from tests.check_fixtures.etcd import kops_etcd_manager_pod, velero_backup
from tests.demo import DemoCluster
from tests.demo.base import ZONES

STATE_STORE = "s3://shop-prod-kops-state/shop-prod.k8s.example.com/backups/etcd"


def contribute(demo: DemoCluster) -> None:
    for i, _zone in enumerate(ZONES, start=1):
        node = f"ip-10-0-{i}-10.eu-central-1.compute.internal"
        for cluster in ("main", "events"):
            pod = kops_etcd_manager_pod(node, cluster=cluster, backup_store=f"{STATE_STORE}/{cluster}")
            pod["spec"]["priorityClassName"] = "system-cluster-critical"
            pod["spec"]["hostNetwork"] = True
            demo.add("pods", pod)

    demo.add("namespaces", f.namespace("velero"))
    velero = f.deployment(
        "velero",
        "velero",
        replicas=1,
        labels={"app.kubernetes.io/name": "velero"},
        containers=[f.container("velero", "velero/velero:v1.13.2", ports=[8085])],
    )
    demo.add("deployments", velero)
    demo.add(
        "velero.schedules",
        f.custom_resource(
            "Schedule",
            "cluster-daily",
            "velero",
            spec={
                "schedule": "0 2 * * *",
                "paused": True,
                "template": {"includedNamespaces": ["*"], "ttl": "720h0m0s", "storageLocation": "default"},
            },
            status={"phase": "Enabled", "lastBackup": "2026-11-11T02:00:00Z"},
        ),
    )
    for day in range(5, 12):  # daily backups until the schedule was paused on the 11th
        stamp = f"202611{day:02d}020000"
        demo.add(
            "velero.backups",
            velero_backup(
                f"cluster-daily-{stamp}",
                "cluster-daily",
                "Completed",
                f"2026-11-{day:02d}T02:00:00Z",
                f"2026-11-{day:02d}T02:06:41Z",
            ),
        )
