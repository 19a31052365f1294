"""RBAC in the demo: the CI system's service account got cluster-admin "temporarily", so the CI
developers' ordinary `edit` rights in `ci` are cluster-admin too; an on-call engineer kept the
binding made during an incident; an uptime checker was let in anonymously; a config reloader
reads every Secret; Prometheus runs as its namespace's `default` account; and an auditor role
was deleted while its binding stayed."""

from __future__ import annotations

from tests import factories as f
from tests.demo import DemoCluster


def contribute(demo: DemoCluster) -> None:
    demo.add(
        "serviceaccounts",
        f.serviceaccount("jenkins", "ci"),
        f.serviceaccount("reloader", "monitoring"),
    )
    reloader = f.clusterrole(
        "reloader",
        [
            f.rule(["get", "list", "watch"], ["secrets", "configmaps"]),
            f.rule(["patch"], ["deployments"], ["apps"]),
        ],
    )
    metrics = f.clusterrole("metrics-reader", [f.rule(["get"], ["nodes/metrics", "nodes/stats"])])
    demo.add("clusterroles", reloader, metrics)
    demo.add(
        "clusterrolebindings",
        f.clusterrolebinding(
            "jenkins-admin", "cluster-admin", [f.subject("ServiceAccount", "jenkins", "ci")]
        ),
        f.clusterrolebinding(
            "oncall-incident-4711", "cluster-admin", [f.subject("User", "sam@shop.example.com")]
        ),
        f.clusterrolebinding("uptime-checker", "view", [f.subject("User", "system:anonymous")]),
        f.clusterrolebinding("reloader", "reloader", [f.subject("ServiceAccount", "reloader", "monitoring")]),
        f.clusterrolebinding(
            "prometheus-metrics", "metrics-reader", [f.subject("ServiceAccount", "default", "monitoring")]
        ),
    )
    demo.add(
        "rolebindings",
        f.rolebinding(
            "shop-deployers", "shop", "edit", [f.subject("Group", "shop-devs")], role_kind="ClusterRole"
        ),
        f.rolebinding("ci-devs", "ci", "edit", [f.subject("Group", "ci-devs")], role_kind="ClusterRole"),
        f.rolebinding("payments-auditor", "payments", "auditor", [f.subject("Group", "audit")]),
    )
