"""How the etcd and resilience checks scale with cluster size.

Builds synthetic clusters of growing size (namespaces, each with Deployments, ReplicaSets, pods,
a StatefulSet, Services, PDBs, a quota and CronJobs with their Jobs) and times every ETCD-/RES-
check on each. Linear checks keep a roughly constant time per namespace as the cluster grows. Each check is
run once to build the inventory indexes it uses, then timed (CPU time, best of three).

    PYTHONPATH=$PWD python bench/etcd_resilience.py [namespaces ...]
"""

from __future__ import annotations

import gc
import sys
import time
from datetime import datetime

from k8saudit.engine import run_check
from k8saudit.inventory import Inventory
from k8saudit.registry import Context, load_checks
from tests import factories as f

NOW = datetime.fromisoformat("2026-11-20T08:00:00+00:00")


def synthetic_cluster(namespaces: int) -> Inventory:
    objects: dict[str, list[dict]] = {
        key: []
        for key in (
            "nodes",
            "namespaces",
            "deployments",
            "replicasets",
            "pods",
            "statefulsets",
            "services",
            "endpoints",
            "poddisruptionbudgets",
            "resourcequotas",
            "cronjobs",
            "jobs",
            "daemonsets",
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
            "priorityclasses",
            "customresourcedefinitions",
        )
    }
    node_count = max(3, namespaces // 5)
    objects["nodes"] = [f.node(f"node-{i}", kernel="4.15.0-1044-aws") for i in range(node_count)]
    for n in range(namespaces):
        ns = f"team-{n}"
        objects["namespaces"].append(f.namespace(ns))
        objects["resourcequotas"].append(f.resourcequota("pods", ns, {"pods": "500"}))
        for d in range(5):
            name = f"svc-{d}"
            deployment = f.deployment(
                name, ns, replicas=3, containers=[f.container(name, ports=[8080], cpu_limit="1")]
            )
            rs = f.replicaset(f"{name}-abc", ns, owner=deployment, replicas=3, labels={"app": name})
            objects["deployments"].append(deployment)
            objects["replicasets"].append(rs)
            objects["services"].append(f.service(name, ns))
            objects["poddisruptionbudgets"].append(f.pdb(name, ns, {"app": name}, min_available=2))
            for p in range(3):
                objects["pods"].append(
                    f.pod(
                        f"{name}-abc-{p}",
                        ns,
                        node_name=f"node-{(n + p) % node_count}",
                        labels={"app": name},
                        owner=rs,
                        containers=deployment["spec"]["template"]["spec"]["containers"],
                    )
                )
        sts = f.statefulset("db", ns, replicas=3)
        objects["statefulsets"].append(sts)
        for p in range(3):
            objects["pods"].append(
                f.pod(
                    f"db-{p}",
                    ns,
                    node_name=f"node-{p % node_count}",
                    labels={"app": "db"},
                    owner=sts,
                    owner_kind="StatefulSet",
                )
            )
        for c in range(2):
            cronjob = f.cronjob(f"job-{c}", ns, schedule="*/5 * * * *")
            objects["cronjobs"].append(cronjob)
            objects["jobs"].extend(f.job(f"job-{c}-{j}", ns, owner=cronjob) for j in range(3))
    objects["validatingwebhookconfigurations"] = [f.webhook_configuration("policy")]
    return Inventory.from_objects(objects, version="v1.29.3")


def _cpu_seconds(meta, inventory: Inventory, context: Context) -> float:
    started = time.process_time()
    run_check(meta, inventory, context)
    return time.process_time() - started


def main(sizes: list[int]) -> None:
    checks = [m for m in load_checks().values() if m.area in ("etcd", "resilience")]
    context = Context.default(NOW)
    timings: dict[str, list[float]] = {m.id: [] for m in checks}
    for size in sizes:
        inventory = synthetic_cluster(size)
        # CPU time, best of three, with the heap frozen and the collector off: wall-clock time and
        # full collections over a large heap are noise that says nothing about the checks.
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            for meta in checks:
                run_check(meta, inventory, context)  # builds the lazy indexes it uses
                best = min(_cpu_seconds(meta, inventory, context) for _ in range(3))
                timings[meta.id].append(best)
        finally:
            gc.enable()
            gc.unfreeze()
        pods = len(inventory.items("pods"))
        print(f"built {size} namespaces: {pods} pods, {len(inventory.items('deployments'))} deployments")
    header = "".join(f"{size:>12}" for size in sizes)
    print(f"{'check':<10}{header}   µs per namespace (first → last)")
    for check_id, values in timings.items():
        per_ns = [v / s * 1e6 for v, s in zip(values, sizes, strict=True)]
        cells = "".join(f"{v * 1000:>10.1f}ms" for v in values)
        print(f"{check_id:<10}{cells}   {per_ns[0]:.0f} → {per_ns[-1]:.0f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [250, 500, 1000, 2000])
